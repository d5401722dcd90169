"""A live page in headless Chromium over the DevTools pipe: the planner's tests and benchmark.

:class:`probmodel.report.browser.Chromium` opens static files; a planner page is driven:
script evaluated in it (awaiting promises), waits on its state, and every request,
console message and exception it caused kept, so a test can say "no console error, no
request left localhost".
"""

from __future__ import annotations

import base64
import json
import time
from typing import Any
from urllib.parse import urlparse

from probmodel.report.browser import BrowserError, Chromium


class LivePage:
    """One tab on ``url`` (use as a context manager, inside a :class:`Chromium`)."""

    def __init__(self, browser: Chromium, url: str, width: int = 1400, height: int = 1000):
        self.b = browser
        self.url = url
        self.target = browser.call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self.sid = browser.call("Target.attachToTarget", {"targetId": self.target,
                                                          "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Log", "Network"):
            browser.call(f"{domain}.enable", {}, self.sid)
        browser.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
            self.sid)
        browser.call("Page.navigate", {"url": url}, self.sid)
        browser.wait_event("Page.loadEventFired", self.sid)

    def __enter__(self) -> LivePage:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Close the tab."""
        try:
            self.b.call("Target.closeTarget", {"targetId": self.target})
        except BrowserError:
            pass

    def eval(self, expression: str) -> Any:
        """Evaluate ``expression`` in the page (a promise is awaited); its JSON value."""
        res = self.b.call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                               "awaitPromise": True}, self.sid)
        if "exceptionDetails" in res:
            raise BrowserError(f"{expression[:80]}: {res['exceptionDetails'].get('text')}: "
                               f"{res['exceptionDetails'].get('exception', {}).get('description')}")
        return res.get("result", {}).get("value")

    def wait(self, expression: str, timeout: float = 60.0) -> Any:
        """Poll ``expression`` until it is truthy; its value."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.eval(expression)
            if v:
                return v
            if time.monotonic() > deadline:
                raise BrowserError(f"timed out waiting for {expression}")
            time.sleep(0.02)

    def answers(self) -> int:
        """Answers the page has drawn so far."""
        return int(self.eval("Number(document.body.dataset.answers || 0)"))

    def set_control(self, label: str, value: str) -> None:
        """Type ``value`` into the control labelled ``label`` and commit it (change event)."""
        js = (f"(() => {{ const el = document.querySelector('[aria-label=\"{label}\"]');"
              f" if (!el) throw new Error('no control ' + {json.dumps(label)});"
              f" el.value = {json.dumps(value)};"
              " el.dispatchEvent(new Event('change', {bubbles: true})); return true; })()")
        self.eval(js)

    def click(self, element_id: str) -> None:
        """Click the element with id ``element_id``."""
        self.eval(f"document.getElementById({json.dumps(element_id)}).click()")

    def screenshot(self, full_page: bool = False) -> bytes:
        """A PNG of the first screen, or of the whole page."""
        shot: dict[str, Any] = {"format": "png"}
        if full_page:
            h = self.eval("document.documentElement.scrollHeight")
            w = self.eval("document.documentElement.clientWidth")
            shot.update(captureBeyondViewport=True,
                        clip={"x": 0, "y": 0, "width": w, "height": h, "scale": 1})
        return base64.b64decode(self.b.call("Page.captureScreenshot", shot, self.sid)["data"])

    def _events(self) -> list[dict]:
        try:  # events that arrived after the last command first
            self.b.call("Runtime.evaluate", {"expression": "1"}, self.sid)
        except BrowserError:
            pass
        return [e for e in self.b.events if e.get("sessionId") == self.sid]

    def errors(self) -> list[str]:
        """Console errors and warnings, uncaught exceptions, browser-logged errors."""
        out = []
        for e in self._events():
            m, p = e.get("method"), e.get("params", {})
            if m == "Runtime.consoleAPICalled" and p.get("type") in ("error", "warning",
                                                                      "assert"):
                out.append(f"console.{p['type']}: " + " ".join(
                    str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif m == "Runtime.exceptionThrown":
                d = p["exceptionDetails"]
                out.append(f"exception: {d.get('text')} "
                           f"{d.get('exception', {}).get('description', '')}")
            elif m == "Log.entryAdded" and p["entry"].get("level") in ("error", "warning"):
                en = p["entry"]
                # a 400 answer to a refused value is the page working, not an error
                if "status of 400" not in en.get("text", ""):
                    out.append(f"log {en['level']} ({en.get('source')}): {en.get('text')}")
        return out

    def requests(self) -> list[str]:
        """Every URL the page asked for."""
        return [e["params"]["request"]["url"] for e in self._events()
                if e.get("method") == "Network.requestWillBeSent"]

    def outside_requests(self) -> list[str]:
        """Requests to any host but the planner's own (inline data: URLs aside)."""
        home = urlparse(self.url).netloc
        return [u for u in self.requests()
                if not u.startswith("data:") and urlparse(u).netloc != home]
