"""Reports people hand around, built from run folders: one self-contained HTML file.

>>> from probmodel.report import build_report, write_report
>>> html = build_report(["runs/calibration", "runs/posterior-run"])  # doctest: +SKIP
>>> write_report("runs/my-run")  # writes runs/my-run/report.html  # doctest: +SKIP

Each run folder becomes a section: the question and the answer first (P(profit > 0)
with its MCSE, the key intervals), then the figures, the summary tables with MCSEs,
every assumption with its law, interval and source, and the provenance (version,
seed, draws, scenario file hashes checked against the copies, the command line that
reproduces it); calibrations add their diagnostics. Only the documented files of a
run folder are read (see :mod:`probmodel.report.folder`).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from pathlib import Path

from probmodel.errors import RunError
from probmodel.report import common as cm
from probmodel.report import compare as cmp_
from probmodel.report import kinds
from probmodel.report import sensitivity as sens
from probmodel.report import sweep as swp
from probmodel.report.folder import RunFolder, read_run
from probmodel.report.html import esc, page

__all__ = ["build_report", "read_run", "section_html", "write_report"]

_KIND_TITLE = {"run": "Monte Carlo run", "sweep": "Sweep", "compare": "Scenario comparison",
               "sensitivity": "Sensitivity", "project": "Projection",
               "calibrate": "Calibration", "stress": "Stress test",
               "sweep-point": "Point sweep", "frontier": "Serving frontier"}


def section_html(run: RunFolder, anchor: str) -> str:
    """One run folder's section (answer, figures, tables, assumptions, provenance)."""
    body = {"run": kinds.run, "sweep": swp.section, "compare": cmp_.section,
            "sensitivity": sens.section, "project": kinds.project,
            "calibrate": kinds.calibrate, "stress": kinds.stress,
            "frontier": kinds.frontier}.get(run.kind,
                                                                   kinds.generic)(run)
    kind = _KIND_TITLE.get(run.kind, run.kind)
    return (f'<section class="run" id="{esc(anchor)}"><h2><span class="kind">{esc(kind)}'
            f"</span>{esc(run.title)}</h2>"
            f'<p class="note">run folder {esc(run.path.name)}, created '
            f"{esc(run.manifest.get('created_utc', '?'))}</p>"
            f"{body}{cm.assumptions_section(run)}{cm.provenance_section(run)}</section>\n")


_HEADLINE = re.compile(r'<p class="question">(.*?)</p><p class="headline">(.*?)</p>', re.S)


def executive_summary(toc: Sequence[tuple[str, str]], sections: Sequence[str]) -> str:
    """One line per section: its question and its answer (the section's headline)."""
    items = []
    for (anchor, name), sec in zip(toc, sections, strict=True):
        m = _HEADLINE.search(sec)
        q, a = (m.group(1), m.group(2).replace("<br>", "; ")) if m else ("", "")
        a = re.sub(r'\s*<span class="note">.*?</span>', "", a)  # the MCSE note, once below
        items.append(f'<li><a href="#{esc(anchor)}">{esc(name)}</a>'
                     f'{f": <i>{q}</i>" if q else ""}<br>{a}</li>')
    return ('<div class="summary" id="summary"><h2>Executive summary</h2>'
            f"<p>One line per section: its question and its answer (± one Monte Carlo "
            f"standard error); the sections follow in this order.</p><ol>{''.join(items)}"
            "</ol></div>\n")


def build_report(run_dirs: Sequence[str | Path], title: str | None = None) -> str:
    """The HTML of one report over one or more run folders (a section each).

    Parameters
    ----------
    run_dirs : sequence of path
        Run folders written by probmodel (any kind), in the order the sections appear.
    title : str, optional
        The page title (default: the first run's scenario title).

    Raises
    ------
    RunError
        When a folder is missing or not a run folder (before anything is written).
    """
    if not run_dirs:
        raise RunError("report: give at least one run folder")
    runs = [read_run(d) for d in run_dirs]
    sections, toc = [], []
    for i, r in enumerate(runs, 1):
        anchor = f"section-{i}"
        toc.append((anchor, f"{_KIND_TITLE.get(r.kind, r.kind)}: {r.title}"))
        sections.append(section_html(r, anchor))
    if len(runs) > 1:
        sections.insert(0, executive_summary(toc, sections))
    from probmodel import __version__

    head = title or (runs[0].title if len(runs) == 1 else
                     f"{runs[0].title}; {runs[1].title}" if len(runs) == 2 else
                     f"{runs[0].title} and {len(runs) - 1} more")
    kinds_text = ", ".join(dict.fromkeys(_KIND_TITLE.get(r.kind, r.kind).lower()
                                         for r in runs))
    subtitle = (f"probmodel report: {len(runs)} run folder{'s' * (len(runs) > 1)} "
                f"({kinds_text}). Every estimate carries its Monte Carlo standard error "
                "(MCSE).")
    when = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    footer = (f"Made by probmodel {esc(__version__)} on {esc(when)} from the files of the "
              "run folders named in each section. Self-contained: it loads nothing from "
              "elsewhere; print it or save it as PDF from the browser.")
    return page(head, subtitle, toc, sections, footer)


def write_report(run_dir: str | Path, out: str | Path | None = None,
                 extra: Sequence[str | Path] = ()) -> Path:
    """Write ``report.html`` for a complete run folder (the ``--report`` hook of commands).

    Parameters
    ----------
    run_dir : path
        The run folder, already complete (renamed into place).
    out : path, optional
        Where to write (default: ``<run_dir>/report.html``). An existing file is
        refused rather than overwritten.
    extra : sequence of path
        Further run folders reported after the first (e.g. the calibration a posterior
        run used).

    Returns
    -------
    Path
        The file written (written under a temporary name, then renamed).
    """
    from probmodel.runs import check_out_file, write_file_atomic

    target = Path(out) if out is not None else Path(run_dir) / "report.html"
    if out is not None:
        check_out_file(target, "--out")  # before reading: a bad --out is found at once
    text = build_report([run_dir, *extra])  # names a missing or incomplete run folder
    if out is None:
        check_out_file(target, "--out")
    return write_file_atomic(target, "--out",
                             lambda tmp: tmp.write_text(text, encoding="utf-8"))
