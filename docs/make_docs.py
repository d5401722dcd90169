"""Re-run every command quoted in docs/*.md and rewrite its output and quoted numbers.

Run: ``python docs/make_docs.py [PAGE.md ...] [--only ID ...]`` (``make docs`` runs it all).
tests/unit/test_docs.py re-runs the blocks marked ``cheap`` and fails when a page no
longer shows what the command prints.

Two markers, both invisible in rendered Markdown:

A command and its output::

    <!-- docrun ID [cheap]: probmodel run priors/deepseek-adjusted.toml --draws 200000 -->
    ...generated: the command and its output in a fenced block...
    <!-- /docrun -->

A number quoted in prose, from that command's results::

    <!--v ID PATH FORMAT-->0.4889<!--/v-->

PATH is a dotted path into the results of run ID: the command's JSON output when it
prints JSON (``--json``), else the run folder's summary.json; ``manifest.`` looks in
manifest.json instead. FORMAT is a Python format spec (``.4f``, ``.1%``, ``,.0f``), with
an optional scale first: ``/1e3:.1f`` divides by 1000.

Commands that write a run folder are run with ``--out`` in a temporary folder; the
printed folder reads ``runs/ID`` (or the doc's own ``--out``), and a later block of the
same page may name it (e.g. ``--posterior runs/evidence-doc``). Timings are printed as
measured, and ignored when the test compares.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Commands that write a run folder (and so get an --out).
WRITERS = {"run", "sweep", "compare", "sensitivity", "project", "calibrate", "stress",
           "solve", "backtest", "frontier"}
BLOCK = re.compile(r"<!-- docrun (?P<id>[\w.-]+)(?P<cheap> cheap)?: (?P<cmd>.+?) -->\n"
                   r"(?P<body>.*?)<!-- /docrun -->", re.S)
VALUE = re.compile(r"<!--v (?P<id>[\w.-]+) (?P<path>\S+) (?P<fmt>[^\s>]+)-->(?P<text>.*?)<!--/v-->")
#: Rich tables are laid out for this terminal width.
# PROBMODEL_PROGRESS_INTERVAL: no progress lines on stderr (the pages quote the output
# without them, however slow the machine)
ENV = {"COLUMNS": "100", "TERM": "dumb", "NO_COLOR": "1", "PYTHONHASHSEED": "0",
       "PROBMODEL_PROGRESS_INTERVAL": "1e6"}


@dataclass
class Result:
    """What one documented command printed and wrote."""

    text: str
    data: dict


def blocks(page: str) -> list[re.Match]:
    """Every docrun block of a page, in order."""
    return list(BLOCK.finditer(page))


def _probmodel() -> list[str]:
    exe = Path(sys.executable).with_name("probmodel")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "probmodel"]


def execute(cmd: str, ident: str, tmp: Path, folders: dict[str, str] | None = None) -> Result:
    """Run one documented command from the repository root; its output and results.

    ``folders`` maps run folders as the page names them (``runs/evidence-doc``) to where
    an earlier block of the page wrote them, so a later block can use them
    (``--posterior runs/evidence-doc``); this block's folder is added to it.
    """
    folders = {} if folders is None else folders
    args = [folders.get(a, a) for a in shlex.split(cmd)]
    if args[0] != "probmodel":
        raise ValueError(f"docrun {ident}: commands start with 'probmodel', not {args[0]!r}")
    shown_out = None
    if len(args) > 1 and args[1] in WRITERS:
        if "--out" in args:
            i = args.index("--out")
            shown_out = args[i + 1]
            args[i + 1] = str(tmp / ident)
        else:
            args += ["--out", str(tmp / ident)]
    proc = subprocess.run([*_probmodel(), *args[1:]], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, **ENV}, timeout=1800, check=False)
    text = (proc.stdout + proc.stderr).rstrip()
    text = text.replace(str(tmp / ident), shown_out or f"runs/{ident}")
    for shown, real in folders.items():
        text = text.replace(real, shown)
    if (tmp / ident).is_dir():
        folders[shown_out or f"runs/{ident}"] = str(tmp / ident)
    data: dict = {}
    if "--json" in args and proc.stdout.strip().startswith(("{", "[")):
        data = json.loads(proc.stdout)
    run_dir = tmp / ident
    if not data and (run_dir / "summary.json").exists():
        data = json.loads((run_dir / "summary.json").read_text())
    if (run_dir / "manifest.json").exists():
        data["manifest"] = json.loads((run_dir / "manifest.json").read_text())
    data["exit_status"] = proc.returncode
    return Result(text, data)


def lookup(data: dict, path: str):
    """The value at a dotted path (list indices allowed)."""
    cur = data
    for part in path.split("."):
        cur = cur[int(part)] if isinstance(cur, list) else cur[part]
    return cur


def fmt_value(value, spec: str) -> str:
    """Format ``value`` by ``[/SCALE|*SCALE:]FORMAT``."""
    if ":" in spec:
        scale, spec = spec.split(":", 1)
        value = value / float(scale[1:]) if scale[0] == "/" else value * float(scale[1:])
    return format(value, spec)


def render_block(cmd: str, res: Result) -> str:
    """The generated body of a docrun block."""
    return f"```\n$ {cmd}\n{res.text}\n```\n"


def render(page: str, results: dict[str, Result]) -> str:
    """``page`` with every block and value whose run is in ``results`` regenerated."""
    def block(m: re.Match) -> str:
        r = results.get(m["id"])
        if r is None:
            return m[0]
        head = m[0][: m.start("body") - m.start()]
        return head + render_block(m["cmd"], r) + "<!-- /docrun -->"

    def value(m: re.Match) -> str:
        r = results.get(m["id"])
        if r is None:
            return m[0]
        try:
            v = fmt_value(lookup(r.data, m["path"]), m["fmt"])
        except (KeyError, IndexError, TypeError, ValueError) as e:
            raise ValueError(f"value {m['id']} {m['path']}: not in the command's results "
                             f"({e!r})") from None
        return f"<!--v {m['id']} {m['path']} {m['fmt']}-->{v}<!--/v-->"

    return VALUE.sub(value, BLOCK.sub(block, page))


def run_page(path: Path, only: set[str] | None = None, cheap_only: bool = False,
             tmp: Path | None = None) -> tuple[str, dict[str, Result]]:
    """Run a page's blocks (all, ``only`` these ids, or the cheap ones) and render it."""
    page = path.read_text()
    results: dict[str, Result] = {}
    folders: dict[str, str] = {}
    with tempfile.TemporaryDirectory() as t:
        for m in blocks(page):
            if (only and m["id"] not in only) or (cheap_only and not m["cheap"]):
                continue
            print(f"{path.name}: {m['id']}: {m['cmd']}", file=sys.stderr, flush=True)
            results[m["id"]] = execute(m["cmd"], m["id"], Path(tmp or t), folders)
    return render(page, results), results


def main(argv: list[str]) -> None:
    """Regenerate the pages named (default: every page with a docrun block)."""
    only = None
    if "--only" in argv:
        i = argv.index("--only")
        only, argv = set(argv[i + 1:]), argv[:i]
    pages = [Path(a).resolve() for a in argv] or sorted(DOCS.glob("*.md"))
    for p in pages:
        if not blocks(p.read_text()):
            continue
        new, _ = run_page(p, only)
        if new != p.read_text():
            p.write_text(new)
            print(f"updated {p.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
