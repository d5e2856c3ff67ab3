"""Run a user query within its limits: planned and streamed in a worker thread, stopped at the first record batch
past the row or byte limit, and waited for no longer than the time limit.

DataFusion cannot be interrupted from another thread while a plan produces no batch (a big aggregate or sort): the
caller then stops waiting with a QueryTimeout and the worker ends at its next batch or when the plan does; the
session's memory pool (no spilling) bounds what it holds meanwhile.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

import pyarrow as pa
from datafusion import DataFrame

from datafusion_engine.errors import QueryError, QueryOutOfMemory, QueryTimeout, ResultTooLarge
from datafusion_engine.sql_limits import SESSION_MEMORY_BYTES, QueryLimits
from nirs_core.errors import NirdagError


class _Stopped(Exception):
    """The caller stopped waiting: the worker drops its stream (which cancels the plan's remaining work)."""


def one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def _typed(exc: BaseException) -> NirdagError:
    """DataFusion's plain exception (or a Rust panic, a BaseException) as a one-line typed error."""
    if isinstance(exc, NirdagError):
        return exc
    text = one_line(exc)
    if "Resources exhausted" in text:
        return QueryOutOfMemory(f"query needs more than the {SESSION_MEMORY_BYTES >> 20} MiB memory pool of a "
                                f"session (nothing spills to disk); filter or aggregate before sorting or joining: "
                                f"{text}")
    return QueryError(text)


def _collect(plan: Callable[[], DataFrame], limits: QueryLimits, stop: threading.Event) -> pa.Table:
    df = plan()
    schema = df.schema()
    batches, rows, size = [], 0, 0
    for batch in df.execute_stream():
        if stop.is_set():
            raise _Stopped
        arrow = batch.to_pyarrow()
        rows += arrow.num_rows
        size += arrow.nbytes
        if limits.max_rows is not None and rows > limits.max_rows:
            raise ResultTooLarge(f"query returns more than {limits.max_rows:,} rows (the max_rows limit); add LIMIT "
                                 "or aggregate, or raise it: --max-rows N (0: no limit) / max_rows=N (None: no limit)")
        if limits.max_bytes is not None and size > limits.max_bytes:
            raise ResultTooLarge(f"query returns more than {limits.max_bytes:,} bytes (the max_bytes limit); select "
                                 "fewer columns or rows, or raise it: --max-bytes N (0: no limit) / max_bytes=N "
                                 "(None: no limit)")
        batches.append(arrow)
    # the batches' schema, not the plan's: DataFusion may mark a column of literals not-null in one only
    return pa.Table.from_batches(batches) if batches else schema.empty_table()


def run_bounded(plan: Callable[[], DataFrame], limits: QueryLimits) -> pa.Table:
    """Plan (``plan()``) and execute a query within ``limits``; every failure is a one-line typed error."""
    stop = threading.Event()
    outcome: dict[str, object] = {}

    def work() -> None:
        try:
            outcome["table"] = _collect(plan, limits, stop)
        except _Stopped:
            pass
        except BaseException as exc:  # a Rust panic is a BaseException; it is re-raised typed below
            outcome["error"] = exc

    start = time.perf_counter()
    worker = threading.Thread(target=work, name="nirdag-sql", daemon=True)
    worker.start()
    try:
        worker.join(limits.timeout)
    finally:
        stop.set()
    if worker.is_alive():
        raise QueryTimeout(f"query ran past its time limit of {limits.timeout:g} s (stopped after "
                           f"{time.perf_counter() - start:.1f} s); raise it: --timeout S (0: no limit) / timeout=S "
                           "(None: no limit)")
    if "error" in outcome:
        raise _typed(outcome["error"]) from None  # type: ignore[arg-type]
    return outcome["table"]  # type: ignore[return-value]
