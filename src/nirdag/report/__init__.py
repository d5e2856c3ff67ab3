"""The calibration report of a run: one self-contained HTML page (``build_report``) and a PDF (``write_pdf``)."""

from __future__ import annotations

from pathlib import Path

from nirdag.report.content import ReportContent, gather
from nirdag.report.errors import ReportError
from nirdag.report.html import render_html
from nirdag.report.pdf import write_pdf_content
from nirdag.report.runs import WorkspaceLike, open_run, plot
from nirs_core.files import write_atomic

__all__ = ["ReportContent", "ReportError", "build_report", "gather", "open_run", "plot", "write_pdf",
           "write_report"]


def _content(workspace: WorkspaceLike, run_id: str | None, chain: str) -> tuple[ReportContent, Path]:
    result = open_run(workspace, run_id)
    return gather(result, chain), result.workspace


def _check_suffix(path: Path, suffix: str) -> Path:
    if path.suffix.lower() != suffix:
        raise ReportError(f"output {str(path)!r}: the report is written as {suffix} (got "
                          f"{path.suffix or 'no suffix'!r})")
    return path


def build_report(workspace: WorkspaceLike, run_id: str | None = None, chain: str = "best") -> str:
    """The calibration report of a run as one self-contained HTML page (inline SVG figures, no script, no network).

    Parameters
    ----------
    workspace : str, Path or nirdag.Workspace
        The workspace holding the run.
    run_id : str, optional
        A completed run (default: the most recently finished completed run).
    chain : str
        ``best`` (the chain ranked first), a chain id or a prefix of at least 8 characters.

    Returns
    -------
    str
        The HTML text.

    Examples
    --------
    >>> html = nirdag.report.build_report("ws")            # doctest: +SKIP
    """
    content, root = _content(workspace, run_id, chain)
    return render_html(content, root)


def write_pdf(workspace: WorkspaceLike, path: str | Path, run_id: str | None = None, chain: str = "best") -> Path:
    """Write the report of a run as a PDF (matplotlib's PdfPages: text pages, then one page per figure)."""
    content, _ = _content(workspace, run_id, chain)
    return write_pdf_content(content, _check_suffix(Path(path), ".pdf"))


def write_report(workspace: WorkspaceLike, html: str | Path | None, run_id: str | None = None, chain: str = "best",
                 pdf: str | Path | None = None) -> list[Path]:
    """Write the HTML page and/or the PDF of a run's report, gathering its content once; returns the files."""
    html_path = None if html is None else _check_suffix(Path(html), ".html")
    pdf_path = None if pdf is None else _check_suffix(Path(pdf), ".pdf")
    content, root = _content(workspace, run_id, chain)
    written = []
    if html_path is not None:
        written.append(write_atomic(html_path, render_html(content, root).encode("utf-8"),
                                    prefix=f".{html_path.name}-"))
    if pdf_path is not None:
        written.append(write_pdf_content(content, pdf_path))
    return written
