"""Arrow tables as HTTP answers: JSON records (as ``nirdag query --format json`` prints them), CSV (as ``--format
csv`` writes it) or an Arrow IPC stream, chosen from the request's ``Accept`` header."""

from __future__ import annotations

import io
from typing import Literal

import pyarrow as pa
import pyarrow.csv as pacsv
from starlette.responses import Response

from nirdag.output import csv_ready, json_records
from nirdag.serve.errors import NotAcceptable

Encoding = Literal["json", "csv", "arrow"]
MEDIA_TYPES: dict[Encoding, str] = {"json": "application/json", "csv": "text/csv",
                                    "arrow": "application/vnd.apache.arrow.stream"}
_WILDCARDS = ("*/*", "application/*", "text/*")


def negotiate(accept: str | None) -> Encoding:
    """The encoding ``Accept`` asks for first (JSON when it is absent or a wildcard); NotAcceptable when it names
    none of JSON, CSV and Arrow IPC. Quality values are read as order: clients here name one type."""
    if not accept:
        return "json"
    for item in accept.split(","):
        media = item.split(";")[0].strip().lower()
        for encoding, known in MEDIA_TYPES.items():
            if media == known:
                return encoding
        if media in _WILDCARDS:
            return "csv" if media == "text/*" else "json"
    raise NotAcceptable(f"Accept {accept[:80]!r}: this endpoint answers in {', '.join(MEDIA_TYPES.values())}")


def csv_bytes(table: pa.Table) -> bytes:
    buffer = io.BytesIO()
    pacsv.write_csv(csv_ready(table), buffer)
    return buffer.getvalue()


def arrow_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def table_response(table: pa.Table, encoding: Encoding, *, wrap: str | None = None, extra: str = "",
                   filename: str = "result") -> Response:
    """``table`` in ``encoding``. ``wrap`` puts the JSON records under that key of an object (``extra``: more
    members of it, already JSON text, e.g. ``, "n": 3``)."""
    if encoding == "csv":
        return Response(csv_bytes(table), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{filename}.csv"'})
    if encoding == "arrow":
        return Response(arrow_bytes(table), media_type=MEDIA_TYPES["arrow"])
    records = json_records(table)
    body = records if wrap is None else f'{{"{wrap}": {records}{extra}}}'
    return Response(body.encode("utf-8"), media_type="application/json")
