"""Open an HTML report in headless Chromium and record what a reader's browser did.

Used by the browser tests and to make the screenshots in docs/reports.md. It speaks
the DevTools protocol over ``--remote-debugging-pipe`` (JSON messages separated by NUL
bytes on file descriptors 3 and 4), which needs no extra package and no download:
Playwright would bring a driver of its own, and Chromium's ``--dump-dom`` and
``--screenshot`` alone cannot report console errors or requests.

    python -m probmodel.report.browser report.html --screenshot shot.png
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_TRAMPOLINE = ("import os, sys; os.dup2(int(sys.argv[1]), 3); os.dup2(int(sys.argv[2]), 4); "
               "os.execv(sys.argv[3], sys.argv[3:])")

#: Measures every figure image as laid out: natural size and box on the page.
_MEASURE = """JSON.stringify({
  images: Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete,
    naturalWidth: i.naturalWidth, naturalHeight: i.naturalHeight,
    width: i.getBoundingClientRect().width, height: i.getBoundingClientRect().height})),
  tables: Array.from(document.querySelectorAll('table')).map(t => {
    const box = t.getBoundingClientRect(), c = t.parentElement;
    const main = (t.closest('main') || document.body).getBoundingClientRect();
    const head = t.querySelector('th');
    return {head: head ? head.textContent : '', width: box.width, right: box.right,
      container: c.clientWidth, containerRight: c.getBoundingClientRect().right,
      pageRight: main.right,
      clipped: Array.from(t.querySelectorAll('td, th')).filter(
        x => x.scrollWidth > x.clientWidth + 1).length};
  }),
  pageWidth: document.documentElement.scrollWidth,
  viewWidth: document.documentElement.clientWidth,
  figures: document.querySelectorAll('figure').length,
  sections: document.querySelectorAll('section.run').length,
  height: document.documentElement.scrollHeight,
  title: document.title})"""


#: Printable width in CSS pixels (96 per inch) of A4 and Letter at the report's 12 mm
#: side margins (its @page rule): 186 mm and 191.9 mm.
PRINT_WIDTHS = {"A4": round((210 - 24) / 25.4 * 96), "Letter": round((215.9 - 24) / 25.4 * 96)}


@dataclass
class PageReport:
    """What happened when a page was opened."""

    url: str
    requests: list[str] = field(default_factory=list)  # every URL the page asked for
    console: list[tuple[str, str]] = field(default_factory=list)  # (level, text)
    exceptions: list[str] = field(default_factory=list)
    log: list[tuple[str, str, str]] = field(default_factory=list)  # (level, source, text)
    layout: dict[str, Any] = field(default_factory=dict)
    screenshot: bytes = b""
    pdf: bytes = b""

    @property
    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, browser-logged errors."""
        out = [f"console.{lvl}: {t}" for lvl, t in self.console if lvl in ("error", "warning",
                                                                          "assert")]
        out += [f"exception: {e}" for e in self.exceptions]
        out += [f"log {lvl} ({src}): {t}" for lvl, src, t in self.log
                if lvl in ("error", "warning")]
        return out

    def wide_tables(self) -> list[dict[str, Any]]:
        """Tables wider than their container or the page, or with a cell's text cut off."""
        return [t for t in self.layout.get("tables", [])
                if t["width"] > t["container"] + 0.5 or t["right"] > t["pageRight"] + 0.5
                or t["containerRight"] > t["pageRight"] + 0.5 or t["clipped"]]

    def outside_requests(self) -> list[str]:
        """Requests for anything but the file itself and inline ``data:`` images."""
        return [u for u in self.requests if u != self.url and not u.startswith("data:")]


class BrowserError(RuntimeError):
    """Chromium did not start or did not answer in time."""


class Chromium:
    """A headless Chromium driven over the DevTools pipe (use as a context manager)."""

    def __init__(self, executable: str | None = None, timeout: float = 60.0):
        exe = executable or next((p for n in ("chromium", "chromium-browser", "google-chrome")
                                  if (p := shutil.which(n))), None)
        if exe is None:
            raise BrowserError("no Chromium on PATH (apt-get install chromium)")
        self.timeout = timeout
        self._profile = tempfile.mkdtemp(prefix="probmodel-chromium-")
        to_chrome_r, self._to_chrome = os.pipe()
        self._from_chrome, from_chrome_w = os.pipe()
        args = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                "--remote-debugging-pipe", f"--user-data-dir={self._profile}",
                "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                "--disable-background-networking", "--disable-component-update",
                "--disable-sync", "--metrics-recording-only", "--mute-audio", "about:blank"]
        # Chromium reads the pipe on fd 3 and writes on fd 4. A small Python trampoline
        # puts them there and execs Chromium: a preexec_fn would fork this process in
        # Python (JAX, loaded here by the tests, warns that is unsafe), and sh (dash)
        # cannot redirect descriptors above 9.
        self._proc = subprocess.Popen(
            [sys.executable, "-c", _TRAMPOLINE, str(to_chrome_r), str(from_chrome_w), exe,
             *args],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            pass_fds=(to_chrome_r, from_chrome_w))
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buf = b""
        self._id = 0
        self.events: list[dict[str, Any]] = []

    # ------------------------------------------------------------------ protocol
    def _send(self, method: str, params: dict | None = None, session: str | None = None) -> int:
        self._id += 1
        msg: dict[str, Any] = {"id": self._id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self._to_chrome, json.dumps(msg).encode() + b"\0")
        return self._id

    def _read(self, deadline: float) -> dict[str, Any]:
        while b"\0" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise BrowserError("Chromium did not answer in time")
            ready, _, _ = select.select([self._from_chrome], [], [], left)
            if ready:
                chunk = os.read(self._from_chrome, 1 << 20)
                if not chunk:
                    raise BrowserError("Chromium closed the DevTools pipe")
                self._buf += chunk
        raw, self._buf = self._buf.split(b"\0", 1)
        return json.loads(raw)

    def call(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """Send a command and wait for its result (events met meanwhile are kept)."""
        mid = self._send(method, params, session)
        deadline = time.monotonic() + self.timeout
        while True:
            msg = self._read(deadline)
            if msg.get("id") == mid:
                if "error" in msg:
                    raise BrowserError(f"{method}: {msg['error']}")
                return msg.get("result", {})
            self.events.append(msg)

    def wait_event(self, method: str, session: str, timeout: float | None = None) -> dict:
        """Wait for an event (or return one already received)."""
        for e in self.events:
            if e.get("method") == method and e.get("sessionId") == session:
                return e
        deadline = time.monotonic() + (timeout or self.timeout)
        while True:
            msg = self._read(deadline)
            self.events.append(msg)
            if msg.get("method") == method and msg.get("sessionId") == session:
                return msg

    # ------------------------------------------------------------------ pages
    def open(self, path: str | Path, width: int = 1200, height: int = 900,
             full_page: bool = False, pdf: bool = False, media: str = "") -> PageReport:
        """Open a local HTML file, wait for it to load, measure it, take a screenshot.

        ``full_page`` captures the whole page height instead of the first screen;
        ``pdf`` also prints it (Page.printToPDF: the print stylesheet). ``media="print"``
        lays the page out with the print stylesheet before measuring: with ``width`` the
        printable width of a sheet (:data:`PRINT_WIDTHS`), the layout measured is the
        printed one.
        """
        url = Path(path).resolve().as_uri()
        target = self.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        sid = self.call("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(f"{domain}.enable", {}, sid)
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False}, sid)
        if media:
            self.call("Emulation.setEmulatedMedia", {"media": media}, sid)
        self.call("Page.navigate", {"url": url}, sid)
        self.wait_event("Page.loadEventFired", sid)
        rep = PageReport(url)
        layout = self.call("Runtime.evaluate", {"expression": _MEASURE, "returnByValue": True},
                           sid)
        rep.layout = json.loads(layout["result"]["value"])
        shot: dict[str, Any] = {"format": "png"}
        if full_page:
            shot.update(captureBeyondViewport=True, clip={
                "x": 0, "y": 0, "width": width, "height": rep.layout["height"], "scale": 1})
        rep.screenshot = base64.b64decode(self.call("Page.captureScreenshot", shot, sid)["data"])
        if pdf:
            rep.pdf = base64.b64decode(self.call("Page.printToPDF", {
                "printBackground": True, "preferCSSPageSize": True}, sid)["data"])
        with contextlib.suppress(BrowserError):  # late events (a deferred error) arrive first
            self.call("Runtime.evaluate", {"expression": "1"}, sid)
        for e in self.events:
            if e.get("sessionId") != sid:
                continue
            m, p = e.get("method"), e.get("params", {})
            if m == "Network.requestWillBeSent":
                rep.requests.append(p["request"]["url"])
            elif m == "Runtime.consoleAPICalled":
                rep.console.append((p.get("type", ""), " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", []))))
            elif m == "Runtime.exceptionThrown":
                rep.exceptions.append(p["exceptionDetails"].get("text", ""))
            elif m == "Log.entryAdded":
                en = p["entry"]
                rep.log.append((en.get("level", ""), en.get("source", ""), en.get("text", "")))
        self.events = [e for e in self.events if e.get("sessionId") != sid]
        self.call("Target.closeTarget", {"targetId": target})
        return rep

    def close(self) -> None:
        """Quit Chromium and remove its temporary profile."""
        with contextlib.suppress(BrowserError, OSError):
            self._send("Browser.close")
        try:
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        for fd in (self._to_chrome, self._from_chrome):
            with contextlib.suppress(OSError):
                os.close(fd)
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self) -> Chromium:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    """``python -m probmodel.report.browser FILE.html [--screenshot PNG] [--full]``."""
    import argparse

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("html")
    ap.add_argument("--screenshot", help="PNG to write")
    ap.add_argument("--width", type=int, default=1200)
    ap.add_argument("--height", type=int, default=900)
    ap.add_argument("--full", action="store_true", help="the whole page, not the first screen")
    a = ap.parse_args(argv)
    with Chromium() as c:
        rep = c.open(a.html, a.width, a.height, full_page=a.full)
    if a.screenshot:
        Path(a.screenshot).write_bytes(rep.screenshot)
    print(json.dumps({"errors": rep.errors, "outside_requests": rep.outside_requests(),
                      "figures": rep.layout.get("figures"),
                      "images": len(rep.layout.get("images", []))}))
    return 1 if rep.errors or rep.outside_requests() else 0


if __name__ == "__main__":
    raise SystemExit(main())
