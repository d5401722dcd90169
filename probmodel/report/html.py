"""HTML building blocks of the report: escaping, tables, figures, the page and its CSS.

Everything taken from a run folder (titles, names, sources, command lines) passes
through :func:`esc`: a scenario title is user input. The page loads nothing: figures are
``data:`` URIs, the stylesheet is inline, there is no script, and a Content Security
Policy forbids any request, so the file reads the same offline, in a mail client or
from an archive years later.
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Iterable, Sequence

_URL = re.compile(r"https?://[^\s<>\"')\]]+[^\s<>\"')\].,;:]")

CSP = "default-src 'none'; img-src data:; style-src 'unsafe-inline'"

CSS = """
:root { --ink: #1a1a1a; --muted: #5a5a5a; --rule: #d0d7de; --band: #f3f6f9;
        --loss: #b3151b; --ok: #1b6e35; --accent: #08306b; }
* { box-sizing: border-box; }
body { font-family: -apple-system, "Segoe UI", Helvetica, Arial, sans-serif; color: var(--ink);
       line-height: 1.45; margin: 0; background: #fff; font-size: 15px; }
header.page, main { max-width: 1100px; margin: 0 auto; padding: 0 24px; }
header.page { padding-top: 24px; border-bottom: 2px solid var(--accent); }
header.page h1 { margin: 0 0 4px; font-size: 1.6em; color: var(--accent); }
header.page p { margin: 4px 0 12px; color: var(--muted); }
nav.toc ol { margin: 4px 0 16px; padding-left: 20px; }
section.run { padding: 8px 0 24px; border-bottom: 1px solid var(--rule); }
div.summary { background: var(--band); border-left: 5px solid var(--accent);
              padding: 4px 18px 8px; margin: 16px 0; }
div.summary li { margin: 6px 0; }
h2 { font-size: 1.35em; margin: 24px 0 4px; color: var(--accent); }
h3 { font-size: 1.1em; margin: 22px 0 6px; border-bottom: 1px solid var(--rule); }
.kind { display: inline-block; font-size: 0.75em; padding: 1px 8px; border-radius: 10px;
        background: var(--accent); color: #fff; vertical-align: middle; margin-right: 6px; }
.answer { background: var(--band); border-left: 5px solid var(--accent); padding: 12px 18px;
          margin: 12px 0; }
.answer .question { font-weight: 600; margin: 0 0 6px; }
.answer .headline { font-size: 1.5em; margin: 4px 0 8px; }
.answer p { margin: 4px 0; }
.good { color: var(--ok); font-weight: 600; }
.bad { color: var(--loss); font-weight: 600; }
.note { color: var(--muted); font-size: 0.9em; }
.note.warn { color: #8a4500; }
table { border-collapse: collapse; margin: 8px 0 14px; font-size: 0.86em; }
table + table { margin-top: 2px; }
caption { caption-side: top; text-align: left; color: var(--muted); font-size: 0.92em; }
th, td { border-bottom: 1px solid var(--rule); padding: 3px 8px; vertical-align: top;
         overflow-wrap: break-word; }
th { background: var(--band); text-align: left; font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
td.num span { white-space: nowrap; }
td.src { min-width: 220px; max-width: 460px; font-size: 0.92em; }
td.src a { word-break: break-all; }
tr.fail td { background: #fde8e8; }
tr.differs td { background: #fff6d6; }
.scroll { overflow-x: auto; }
figure { margin: 14px 0 22px; break-inside: avoid; page-break-inside: avoid; }
figure img { display: block; max-width: 100%; height: auto; border: 1px solid var(--rule); }
figcaption { color: var(--muted); font-size: 0.88em; margin-top: 4px; }
code, pre { font-family: "SFMono-Regular", Menlo, Consolas, monospace; font-size: 0.85em; }
pre { background: var(--band); padding: 8px 10px; overflow-x: auto; white-space: pre-wrap;
      word-break: break-all; }
details { margin: 6px 0; }
dl.prov { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; }
dl.prov dt { font-weight: 600; } dl.prov dd { margin: 0; word-break: break-all; }
footer.page { max-width: 1100px; margin: 0 auto; padding: 12px 24px 32px; color: var(--muted);
              font-size: 0.85em; }
@media print {
  @page { margin: 14mm 12mm; }  /* the reader's paper: A4 or Letter */
  body { font-size: 10pt; }
  table { font-size: 0.8em; }
  th, td { padding: 2px 5px; }
  td.src { min-width: 0; }
  header.page, main, footer.page { max-width: none; padding: 0; }
  nav.toc { display: none; }
  section.run { break-before: page; page-break-before: always; border: none; }
  section.run:first-of-type { break-before: auto; page-break-before: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
  table, tr { break-inside: avoid; page-break-inside: avoid; }
  .scroll { overflow: visible; }
  details { display: block; }
  details > *:not(summary) { display: block; }
  a { color: inherit; text-decoration: none; }
  td.src a::after { content: " <" attr(href) ">"; font-size: 0.85em; color: var(--muted); }
  .answer { border: 1px solid #999; border-left: 5px solid #333; }
}
"""


def esc(x: object) -> str:
    """HTML-escape any value (quotes included)."""
    return html.escape(str(x), quote=True)


def linkify(text: object) -> str:
    """Escape ``text`` and turn the http(s) URLs in it into links (kept as written)."""
    s = str(text)
    out, last = [], 0
    for m in _URL.finditer(s):
        out.append(esc(s[last:m.start()]))
        url = m.group(0)
        out.append(f'<a href="{esc(url)}" rel="noreferrer">{esc(url)}</a>')
        last = m.end()
    out.append(esc(s[last:]))
    return "".join(out)


#: Widest table (in characters of the table font, cell padding included) that fits the
#: printable width of A4 and Letter (186 mm at 12 mm margins) in the print stylesheet;
#: wider tables are split into parts that repeat their key columns.
PRINT_CHARS = 104
_BREAK = re.compile(r"(?<=,) | (?=±)| (?=\[)|(?<=\]) ")


def _num_cell(v: str) -> str:
    """A numeric cell's text (escaped) that may wrap only at `` ±``, ``, `` and ``[``."""
    parts = _BREAK.split(v)
    return " ".join(f"<span>{esc(x)}</span>" for x in parts) if len(parts) > 1 else esc(v)


def _min_chars(v: str, numeric: bool, cap: int = 24) -> int:
    """Width in characters that a cell needs at least (its longest unbreakable run).

    Words longer than ``cap`` count as ``cap``: a source's URL breaks anywhere
    (``td.src a``), and a long identifier may stick out of its own cell a little.
    """
    text = re.sub(r"<[^>]+>", "", v)
    pieces = _BREAK.split(text) if numeric else text.split()
    return max((min(len(x), cap) for x in pieces), default=0)


def column_groups(headers: Sequence[str], rows: Sequence[Sequence[str]],
                  numeric: Sequence[bool], keys: int, limit: int = PRINT_CHARS
                  ) -> list[list[int]]:
    """Columns of each part of a table too wide for the printed page.

    Each part holds the first ``keys`` columns, then as many of the others, in order,
    as fit in ``limit`` characters (a column needs its longest unbreakable run and its
    padding). One part, every column, when the whole table fits.
    """
    n = len(headers)
    need = []
    for j in range(n):
        cells = [str(r[j]) for r in rows if j < len(r)]
        head = _min_chars(str(headers[j]), False)
        cap = 12 if str(headers[j]).strip().lower() in ("source", "sources") else 24
        need.append(max([head, *(_min_chars(c, bool(numeric[j]), cap) for c in cells)]) + 2)
    keys = min(keys, n)
    if sum(need) <= limit or keys >= n:
        return [list(range(n))]
    base, groups, cur, width = list(range(keys)), [], [], sum(need[:keys])
    for j in range(keys, n):
        if cur and width + need[j] > limit:
            groups.append(base + cur)
            cur, width = [], sum(need[:keys])
        cur.append(j)
        width += need[j]
    groups.append(base + cur)
    return groups


def table(headers: Sequence[str], rows: Iterable[Sequence[str]],
          numeric: Sequence[bool] | None = None, row_classes: Sequence[str] | None = None,
          raw: bool = False, caption: str = "", keys: int = 1) -> str:
    """An HTML table. Cells are escaped unless ``raw`` (already HTML, e.g. links).

    A table wider than the printed page (:func:`column_groups`) becomes several tables,
    each repeating the first ``keys`` columns (``keys=0``: never split). Numeric cells
    wrap only between a value and its ``± MCSE`` or between an interval's ends.
    """
    rows = [list(r) for r in rows]
    numeric = list(numeric) if numeric is not None else [False] * len(headers)
    numeric += [False] * (len(headers) - len(numeric))
    src = [str(h).strip().lower() in ("source", "sources") for h in headers]

    def cell(tag: str, v: str, j: int) -> str:
        cls = (' class="num"' if numeric[j] else
               ' class="src"' if tag == "td" and src[j] else "")
        text = v if raw else _num_cell(str(v)) if numeric[j] and tag == "td" else esc(v)
        return f"<{tag}{cls}>{text}</{tag}>"

    groups = (column_groups(headers, rows,
                            numeric, keys) if keys else [list(range(len(headers)))])
    out = []
    for g, cols in enumerate(groups):
        head = "".join(cell("th", esc(headers[j]) if raw else headers[j], j) for j in cols)
        body = []
        for i, r in enumerate(rows):
            cls = f' class="{esc(row_classes[i])}"' if row_classes and row_classes[i] else ""
            body.append(f"<tr{cls}>" + "".join(cell("td", r[j], j) for j in cols
                                               if j < len(r)) + "</tr>")
        cap = caption if g == 0 else (
            f"{caption} (continued)" if caption else
            f"continued ({g + 1} of {len(groups)}): the columns that did not fit above")
        cap = f"<caption>{esc(cap)}</caption>" if cap else ""
        out.append(f"<table>{cap}<thead><tr>{head}</tr></thead>"
                   f"<tbody>{''.join(body)}</tbody></table>")
    return f'<div class="scroll">{"".join(out)}</div>'


def figure_from_file(data: bytes, suffix: str, caption: str, alt: str) -> str:
    """A <figure> with an image file's bytes inline (SVG or PNG)."""
    mime = "image/svg+xml" if suffix == ".svg" else "image/png"
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<figure><img src="data:{mime};base64,{b64}" alt="{esc(alt)}">'
            f"<figcaption>{esc(caption)}</figcaption></figure>")


def figure_from_matplotlib(fig, caption: str, alt: str) -> str:
    """A <figure> with a matplotlib Figure drawn as SVG inline; closes the figure."""
    import matplotlib.pyplot as plt

    from probmodel.plots.style import freeze_layout

    buf = io.BytesIO()
    # metadata Date None: the same run folder gives the same report bytes
    fig.savefig(buf, format="svg", metadata={"Date": None}, **freeze_layout(fig))
    plt.close(fig)
    return figure_from_file(buf.getvalue(), ".svg", caption, alt)


def page(title: str, subtitle: str, toc: Sequence[tuple[str, str]], sections: Sequence[str],
         footer: str) -> str:
    """The whole document: head (CSP, inline CSS), header with contents, sections, footer."""
    items = "".join(f'<li><a href="#{esc(i)}">{esc(t)}</a></li>' for i, t in toc)
    nav = f'<nav class="toc"><ol>{items}</ol></nav>' if len(toc) > 1 else ""
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n<style>{CSS}</style>\n</head>\n<body>\n"
        f'<header class="page"><h1>{esc(title)}</h1><p>{esc(subtitle)}</p>{nav}</header>\n'
        f"<main>\n{''.join(sections)}\n</main>\n"
        f'<footer class="page">{footer}</footer>\n</body>\n</html>\n'
    )
