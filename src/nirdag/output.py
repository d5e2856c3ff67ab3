"""Render Arrow tables for the terminal: a rich table, CSV or JSON lines; any table writes in every format (lists,
structs and maps as JSON text in CSV, timestamps as ISO 8601 in CSV and JSON)."""

from __future__ import annotations

import base64
import datetime as dt
import decimal
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


def _plain(value: Any) -> Any:
    """A cell as JSON-ready Python: ISO 8601 times, base64 bytes, null for NaN/inf (JSON has neither)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):  # a map arrives as a list of (key, value) pairs
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _json_column(column: pa.ChunkedArray) -> pa.Array:
    return pa.array([None if v is None else json.dumps(_plain(v), allow_nan=False) for v in column.to_pylist()],
                    pa.string())


def _text_column(column: pa.ChunkedArray) -> pa.Array:
    return pa.array([None if v is None else _plain(v) for v in column.to_pylist()], pa.string())


def csv_ready(table: pa.Table) -> pa.Table:
    """``table`` with the columns CSV cannot hold as they are made text: lists, structs and maps as JSON, times as
    ISO 8601, binary as base64."""
    columns = []
    for field, column in zip(table.schema, table.columns, strict=True):
        kind = field.type
        if pa.types.is_nested(kind):
            columns.append(_json_column(column))
        elif pa.types.is_temporal(kind) or pa.types.is_binary(kind) or pa.types.is_large_binary(kind) \
                or pa.types.is_fixed_size_binary(kind) or pa.types.is_binary_view(kind):
            columns.append(_text_column(column))
        else:
            columns.append(column)
    return pa.Table.from_arrays(columns, names=table.column_names)


def json_records(table: pa.Table) -> str:
    """``table`` as one JSON array of records (one object per row; times ISO 8601, NaN/inf as null): what
    ``nirdag query --format json`` prints and ``nirdag serve`` answers."""
    return json.dumps(_plain(table.to_pylist()), allow_nan=False, indent=None)


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
        pacsv.write_csv(csv_ready(table), buf)
        console.file.write(buf.getvalue().decode())
        return
    if fmt == "json":
        console.file.write(json_records(table) + "\n")
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
