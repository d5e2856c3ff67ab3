"""Render Arrow tables for the terminal: a rich table, CSV or JSON lines."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from rich.console import Console
from rich.table import Table

from nirs_core.errors import NirdagError

OutputFormat = Literal["table", "csv", "json", "parquet"]


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else f"{value:.4f}"
    return str(value)


def write(table: pa.Table, fmt: OutputFormat, console: Console, output: Path | None) -> None:
    """Write ``table`` to ``output`` (csv, json, parquet; table = the rendered text) or print it."""
    if output is None:
        if fmt == "parquet":
            raise NirdagError("--format parquet needs --output FILE (Parquet is binary)")
        render(table, fmt, console)
        return
    if fmt == "parquet":
        pq.write_table(table, output)
    else:
        with output.open("w", encoding="utf-8") as fh:
            render(table, fmt, Console(file=fh, width=200))
    console.print(f"wrote {table.num_rows} rows to {output}", markup=False, highlight=False)


def _is_identity(name: str) -> bool:
    return name.endswith(("_id", "_hash")) or name in {"run", "chain", "chain_id8"}


def render_record(table: pa.Table, fmt: OutputFormat, console: Console) -> None:
    """One row as ``name  value`` lines in the table format (a wide row never folds its ids); else as
    :func:`render`."""
    if fmt != "table" or table.num_rows != 1:
        render(table, fmt, console)
        return
    row = table.to_pylist()[0]
    width = max(len(n) for n in row)
    for name, value in row.items():
        console.print(f"{name:<{width}}  {_cell(value)}", markup=False, highlight=False, soft_wrap=True)


def render(table: pa.Table, fmt: OutputFormat, console: Console, title: str | None = None) -> None:
    """Print ``table`` to ``console`` in ``fmt``; hashes are printed in full (they are identities)."""
    if fmt == "parquet":
        raise NirdagError("Parquet output needs a file: use --output FILE")
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
        if _is_identity(name):  # ids and hashes are copied and pasted: never split across lines
            longest = max((len(_cell(v)) for v in table.column(name).to_pylist()), default=len(name))
            out.add_column(name, no_wrap=True, min_width=max(longest, len(name)))
        else:
            out.add_column(name, overflow="fold")
    for row in table.to_pylist():
        out.add_row(*(_cell(row[c]) for c in table.column_names))
    console.print(out)
