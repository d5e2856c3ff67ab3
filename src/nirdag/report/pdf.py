"""The calibration report as a PDF through matplotlib's PdfPages (no TeX): a text page, then one page per figure."""

from __future__ import annotations

import io
import textwrap
from pathlib import Path

from nirdag.plots import style
from nirdag.report.content import ReportContent, Table
from nirs_core.files import write_atomic

_LINES_PER_PAGE = 60


def _table_lines(t: Table) -> list[str]:
    widths = [max(len(str(v)) for v in col) for col in zip(t.columns, *t.rows, strict=True)]
    line = "  ".join
    out = ["", t.title, line(c.ljust(w) for c, w in zip(t.columns, widths, strict=True))]
    out += [line(str(v).ljust(w) for v, w in zip(row, widths, strict=True)) for row in t.rows]
    return out + ([t.note] if t.note else [])


def _text_lines(content: ReportContent) -> list[str]:
    lines = [content.title, ""]
    for label, value in content.summary:
        lines += textwrap.wrap(f"{label}: {value}", 130, subsequent_indent="    ")
    lines += ["", "Why this chain"] + [w for line in content.why for w in textwrap.wrap(line, 130)]
    if content.missing:
        lines += ["", "What this run does not have"] + [w for m in content.missing for w in textwrap.wrap(m, 130)]
    lines += _table_lines(content.ranked)
    for t in (*content.statistics, content.samples, content.limits):
        if t is not None:
            lines += _table_lines(t)
    lines += ["", "Figures not drawn"] + [f"{f.kind}: {f.missing}" for f in content.figures if f.figure is None]
    return lines


def _text_page(lines: list[str]):
    fig = style.new_figure(11.69, 8.27)  # A4 landscape
    fig.text(0.03, 0.97, "\n".join(lines), family="monospace", fontsize=6.5, va="top", ha="left")
    return fig


@style.styled
def pdf_bytes(content: ReportContent) -> bytes:
    from matplotlib.backends.backend_pdf import PdfPages

    buffer = io.BytesIO()
    lines = _text_lines(content)
    with PdfPages(buffer, metadata={"Title": content.title, "Creator": "nirdag"}) as pages:
        for start in range(0, len(lines), _LINES_PER_PAGE):
            pages.savefig(_text_page(lines[start:start + _LINES_PER_PAGE]))
        for f in content.figures:
            if f.figure is not None:
                pages.savefig(f.figure)
    return buffer.getvalue()


def write_pdf_content(content: ReportContent, path: Path) -> Path:
    write_atomic(path, pdf_bytes(content), prefix=f".{path.name}-")
    return path
