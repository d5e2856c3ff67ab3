"""Render Arrow tables for the terminal: a rich table, CSV or JSON lines."""

from __future__ import annotations

import io
import json
import math
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from rich.console import Console
from rich.table import Table

OutputFormat = Literal["table", "csv", "json"]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def render(table: pa.Table, fmt: OutputFormat, console: Console, title: str | None = None) -> None:
    """Print ``table`` to ``console`` in ``fmt``; hashes are printed in full (they are identities)."""
    if fmt == "csv":
        buf = io.BytesIO()
        pacsv.write_csv(table, buf)
        console.file.write(buf.getvalue().decode())
        return
    if fmt == "json":
        console.file.write(json.dumps(table.to_pylist(), default=str, indent=None) + "\n")
        return
    out = Table(title=title, show_lines=False)
    for name in table.column_names:
        out.add_column(name, overflow="fold")
    for row in table.to_pylist():
        out.add_row(*(_cell(row[c]) for c in table.column_names))
    console.print(out)
