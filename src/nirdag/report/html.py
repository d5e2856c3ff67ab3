"""The calibration report as one self-contained HTML page: a Jinja2 template, figures inlined as SVG, no script."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from nirdag.plots import svg_text
from nirdag.report.content import ReportContent
from nirdag.run_service import NIRDAG_VERSION


@dataclass(frozen=True)
class _Shown:
    """A figure as the template sees it: inline SVG markup, or the sentence of what is missing."""

    kind: str
    caption: str
    svg: Markup | None
    missing: str | None


def _environment() -> Environment:
    return Environment(loader=PackageLoader("nirdag.report", "templates"), autoescape=select_autoescape(
        enabled_extensions=("html", "j2"), default_for_string=True), undefined=StrictUndefined,
        keep_trailing_newline=True)


def render_html(content: ReportContent, workspace: Path) -> str:
    """The page of ``content``. Every value is escaped; only the SVG text matplotlib wrote is inlined as markup."""
    figures = [_Shown(f.kind, f.caption, None if f.figure is None else Markup(svg_text(f.figure, salt=f.kind)),
                      f.missing) for f in content.figures]
    template = _environment().get_template("report.html.j2")
    shown = {**content.__dict__, "figures": figures}
    return template.render(c=_Content(shown), version=NIRDAG_VERSION, workspace=str(workspace),
                           generated=dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))


class _Content:
    """Attribute access over the report's fields (the template reads ``c.summary``...)."""

    def __init__(self, fields: dict):
        self.__dict__.update(fields)
