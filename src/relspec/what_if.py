"""What-if estimates: a recorded run's engine time under another executor, worker count or cache setting, computed
from what the run measured (no re-run). Pure: the run's measured nodes in, a typed estimate out."""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from typing import Literal, get_args

import msgspec

from relspec.errors import CalibrationError
from relspec.hashing import canonical_bytes
from relspec.policy import ExecutorKind

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

WhatIfKnob = Literal["executor", "workers", "cache"]
WHAT_IF_KNOBS: tuple[WhatIfKnob, ...] = get_args(WhatIfKnob)
# Start-up of an executor never measured in the workspace (measured on a 2-core machine, warm imports)
DEFAULT_STARTUP: dict[ExecutorKind, float] = {"sync": 0.0, "threads": 0.0, "processes": 1.5, "dask": 9.0,
                                              "ray": 15.0}
PARALLEL_KINDS = ("hoisted", "fold_fit")  # the nodes a parallel executor runs side by side


class MeasuredNode(msgspec.Struct, **_FROZEN):
    """One node of the recorded run: its kind, measured seconds and cache costs; the median compute seconds runs
    with the asked executor measured for it (``computed_as_asked``), and those any run that computed it measured
    (``computed_elsewhere``, what stands in for a cache hit's compute); None when no such run."""

    node: str
    kind: str
    seconds: float
    cache: str
    read_seconds: float | None = None
    write_seconds: float | None = None
    computed_elsewhere: float | None = None
    computed_as_asked: float | None = None


class WhatIf(msgspec.Struct, **_FROZEN):
    executor: ExecutorKind
    workers: int
    cache: bool


class WhatIfEstimate(msgspec.Struct, tag="what_if_estimate", tag_field="kind", **_FROZEN):
    run_id: str
    recorded: WhatIf
    asked: WhatIf
    recorded_engine_seconds: float
    estimated_engine_seconds: float
    startup_seconds: float
    node_seconds: float
    cache_seconds: float
    overhead_seconds: float  # the recorded engine time outside start-up and nodes (building the DAG, scheduling)
    assumptions: tuple[str, ...]

    def to_json(self) -> bytes:
        return canonical_bytes(self)


def parse_changes(text: str, recorded: WhatIf) -> WhatIf:
    """``executor=processes,workers=2,cache=off`` applied to the recorded settings; a CalibrationError names an
    unknown knob or value and lists the choices."""
    values = msgspec.structs.asdict(recorded)
    for item in filter(None, (part.strip() for part in text.split(","))):
        knob, sep, value = item.partition("=")
        if not sep or knob not in WHAT_IF_KNOBS:
            raise CalibrationError(f"--set {item!r}: unknown knob {knob!r}; the knobs are "
                                   f"{', '.join(f'{k}=...' for k in WHAT_IF_KNOBS)}")
        if knob == "executor":
            if value not in DEFAULT_STARTUP:
                raise CalibrationError(f"--set executor={value!r}: expected one of {', '.join(DEFAULT_STARTUP)}")
            values["executor"] = value
        elif knob == "workers":
            if not value.isdigit() or int(value) < 1:
                raise CalibrationError(f"--set workers={value!r}: expected a whole number of at least 1")
            values["workers"] = int(value)
        else:
            if value not in ("on", "off"):
                raise CalibrationError(f"--set cache={value!r}: expected on or off")
            values["cache"] = value == "on"
    if values["executor"] == "sync":
        values["workers"] = 1
    return msgspec.convert(values, WhatIf)


def _compute(n: MeasuredNode) -> tuple[float, str | None]:
    """A node's compute seconds alone, and what was assumed to get them."""
    if n.computed_as_asked is not None:
        return n.computed_as_asked, None
    if n.cache == "hit":
        if n.computed_elsewhere is not None:
            return n.computed_elsewhere, None
        return n.seconds, f"{n.node} was a cache hit in every recorded run: its read time stands in for its compute"
    return max(0.0, n.seconds - (n.read_seconds or 0.0) - (n.write_seconds or 0.0)), None


class ExecutorCosts(msgspec.Struct, **_FROZEN):
    """What runs with one executor measured outside their nodes: start-up, and the rest (scheduling, tear-down)."""

    startup_seconds: tuple[float, ...]
    overhead_seconds: tuple[float, ...]


def estimate(run_id: str, recorded: WhatIf, recorded_engine_seconds: float, recorded_startup: float,
             nodes: Sequence[MeasuredNode], asked: WhatIf,
             executors: Mapping[str, ExecutorCosts]) -> WhatIfEstimate:
    """The run's engine seconds under ``asked``: start-up and overhead outside the nodes (medians measured for that
    executor, else a default start-up and this run's overhead), node compute (the parallel kinds spread over the
    workers), cache costs as measured when the cache stays on."""
    assumptions: list[str] = []
    serial = parallel = cache_cost = 0.0
    for n in nodes:
        compute, assumed = _compute(n)
        if assumed:
            assumptions.append(assumed)
        if asked.cache and recorded.cache and n.cache == "hit":
            cost = n.seconds  # served again, at its measured read time
            cache_cost += cost
            continue
        if asked.cache and recorded.cache and n.cache == "miss":
            cache_cost += (n.read_seconds or 0.0) + (n.write_seconds or 0.0)
        if n.kind in PARALLEL_KINDS:
            parallel += compute
        else:
            serial += compute
    costs = executors.get(asked.executor)
    if costs is not None and costs.startup_seconds:
        startup = statistics.median(costs.startup_seconds)
    else:
        startup = DEFAULT_STARTUP[asked.executor]
        if startup:
            assumptions.append(f"{asked.executor} was never measured in this workspace: start-up {startup:g} s "
                               "assumed")
    workers = 1 if asked.executor == "sync" else asked.workers
    node_seconds = serial + parallel / workers
    if workers > 1:
        assumptions.append(f"{parallel:.3g} s of hoisted and fold-fit nodes spread evenly over {workers} workers")
    if costs is not None and costs.overhead_seconds and asked.executor != recorded.executor:
        overhead = max(0.0, statistics.median(costs.overhead_seconds))
    else:
        overhead = max(0.0, recorded_engine_seconds - recorded_startup - sum(n.seconds for n in nodes))
    return WhatIfEstimate(run_id=run_id, recorded=recorded, asked=asked,
                          recorded_engine_seconds=recorded_engine_seconds,
                          estimated_engine_seconds=round(startup + node_seconds + cache_cost + overhead, 6),
                          startup_seconds=startup, node_seconds=round(node_seconds, 6),
                          cache_seconds=round(cache_cost, 6), overhead_seconds=round(overhead, 6),
                          assumptions=tuple(dict.fromkeys(assumptions)))


class WhatIfVerification(msgspec.Struct, tag="what_if_verification", tag_field="kind", **_FROZEN):
    """An estimate checked by running it: stored with the verifying run (``what_if_verification.json``)."""

    estimate: WhatIfEstimate
    verified_run_id: str
    measured_engine_seconds: float
    relative_error: float  # (estimated - measured) / measured

    def to_json(self) -> bytes:
        return canonical_bytes(self)


def verification(estimated: WhatIfEstimate, run_id: str, measured_engine_seconds: float) -> WhatIfVerification:
    error = (estimated.estimated_engine_seconds - measured_engine_seconds) / measured_engine_seconds
    return WhatIfVerification(estimate=estimated, verified_run_id=run_id,
                              measured_engine_seconds=measured_engine_seconds, relative_error=round(error, 6))
