"""What the policy calibrator reads and writes: the typed history of a workload class, the knob values a run uses,
one knob's bounded proposal, and the shared arithmetic of its rules (medians, spreads, confidence, the step bound).

Pure data: the workspace fills a :class:`CalibrationHistory` from its ``run_metrics`` and ``node_metrics`` tables;
:mod:`relspec.calibration` decides.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Literal, get_args

import msgspec

from relspec.policy import BATCH_SIZE, AdmissionCosts, ExecutorKind, SessionSettings
from relspec.workload import WorkloadClass

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

MIN_OBSERVATIONS = 2
STEP_FACTOR = 2.0  # a numeric knob moves at most this factor per run

CalibrationMode = Literal["off", "observe", "apply"]
Knob = Literal["cache.write_bytes_per_s", "cache.read_bytes_per_s", "cache.entry_seconds", "executor",
               "datafusion.target_partitions", "datafusion.batch_size"]
KNOBS: tuple[Knob, ...] = get_args(Knob)
SESSION_KNOBS: tuple[Knob, ...] = ("datafusion.target_partitions", "datafusion.batch_size")
KnobStatus = Literal["kept", "would apply", "applied"]
Value = int | float | str | None
Evidence = dict[str, float | int | str | list[str]]


class Settings(msgspec.Struct, **_FROZEN):
    """The knob values a run uses: its executor and workers, the cache's admission costs and the views' session
    settings."""

    executor: ExecutorKind = "sync"
    workers: int | None = None
    costs: AdmissionCosts = msgspec.field(default_factory=AdmissionCosts)
    session: SessionSettings = msgspec.field(default_factory=SessionSettings)

    def value(self, knob: Knob) -> Value:
        if knob == "executor":
            return self.executor
        if knob in SESSION_KNOBS:
            return getattr(self.session, knob.removeprefix("datafusion."))
        return float(getattr(self.costs, knob.removeprefix("cache.")))

    def with_value(self, knob: Knob, value: Value, *, workers: int | None = None) -> Settings:
        """The settings with ``knob`` at ``value``; an executor change takes ``workers`` (None: one per CPU)."""
        if knob == "executor":
            return msgspec.structs.replace(self, executor=value, workers=None if value == "sync" else workers)
        if knob in SESSION_KNOBS:
            session = msgspec.structs.replace(self.session, **{knob.removeprefix("datafusion."): value})
            return msgspec.structs.replace(self, session=session)
        costs = msgspec.structs.replace(self.costs, **{knob.removeprefix("cache."): float(value)})
        return msgspec.structs.replace(self, costs=costs)


class RunObservation(msgspec.Struct, **_FROZEN):
    """One completed past run of the class (oldest first in a history): what it ran with and what it measured.

    ``target_partitions`` is the partitions its views' session used (resolved: one per CPU when not asked);
    ``view_seconds`` and ``view_max_rows`` what its views measured (their seconds together, the most rows one view
    read), None for a run whose views were not measured; ``parallel_seconds`` the seconds of its nodes a parallel
    executor runs side by side (hoisted and fold fits)."""

    run_id: str
    mode: CalibrationMode
    settings: Settings
    workers: int
    startup_seconds: float
    engine_seconds: float
    node_seconds: float  # the sum of its nodes' seconds
    applied: tuple[str, ...] = ()  # knobs its calibration changed; "revert:<knob>" for a revert
    parallel_seconds: float = 0.0
    target_partitions: int | None = None
    view_seconds: float | None = None
    view_max_rows: int | None = None


class CacheObservation(msgspec.Struct, **_FROZEN):
    """One cache read (a hit) or write (a stored miss) a past run measured, with the node's compute seconds."""

    run_id: str
    op: Literal["read", "write"]
    nbytes: int
    seconds: float


class NodeCost(msgspec.Struct, **_FROZEN):
    """A cacheable node the newest run of the class computed: its compute seconds and the bytes it returned."""

    compute_seconds: float
    nbytes: int


class StartupObservation(msgspec.Struct, **_FROZEN):
    """A parallel executor's measured worker start-up in a completed run on this machine (any workload class)."""

    run_id: str
    executor: ExecutorKind
    workers: int
    startup_seconds: float


class CalibrationHistory(msgspec.Struct, **_FROZEN):
    workload: WorkloadClass
    runs: tuple[RunObservation, ...] = ()
    cache: tuple[CacheObservation, ...] = ()
    nodes: tuple[NodeCost, ...] = ()  # what admission decides on: the newest run's computed cacheable nodes
    startups: tuple[StartupObservation, ...] = ()
    warnings: tuple[str, ...] = ()  # what could not be read (the run proceeds as observe)


class KnobProposal(msgspec.Struct, **_FROZEN):
    """One knob: its value now, the value the evidence proposes (bounded), and whether the run used it."""

    knob: Knob
    current: Value
    proposed: Value
    evidence: Evidence
    expected_saving_seconds: float
    confidence: float  # 0..1: grows with the observations, shrinks with their spread
    bound: str | None  # the bound that limited the step, if any
    status: KnobStatus
    revert: bool = False  # the newest run's change of this knob measured slower: back to the value before it
    reason: str = ""


class ViewScan(msgspec.Struct, **_FROZEN):
    """One catalog view executed for the run (its rows of the run): seconds, files opened, rows read and out."""

    view: str
    seconds: float
    files_total: int
    files_scanned: int
    rows_read: int
    rows_out: int


class ViewScans(msgspec.Struct, **_FROZEN):
    """What the run's views scanned, summed over the views (``scan_metrics`` of each, see
    ``datafusion_engine.scan_metrics``): files in the tables they read and files opened, rows in those files and
    rows read, table scans and those with pushed-down filters, and the session settings they ran with."""

    views: tuple[ViewScan, ...]
    seconds: float
    files_total: int
    files_scanned: int
    rows_total: int
    rows_read: int
    bytes_scanned: int
    table_scans: int
    filters_pushed: int
    target_partitions: int
    batch_size: int = BATCH_SIZE

    @property
    def max_rows_read(self) -> int:
        return max((v.rows_read for v in self.views), default=0)


def mad(values: Sequence[float]) -> float:
    """Median absolute deviation."""
    m = statistics.median(values)
    return statistics.median(abs(v - m) for v in values)


def confidence(values: Sequence[float]) -> float:
    """``min(1, n/5) x (1 - spread/median)``."""
    m = statistics.median(values)
    spread = mad(values) / m if m > 0 else 1.0
    return round(min(1.0, len(values) / 5) * max(0.0, 1.0 - spread), 3)


def step(current: float, target: float) -> tuple[float, str | None]:
    """``target`` bounded to one step (a factor ``STEP_FACTOR``) from ``current``, and the bound if it limited."""
    low, high = current / STEP_FACTOR, current * STEP_FACTOR
    if target > high:
        return high, f"one step per run: at most x{STEP_FACTOR:g} ({target:.4g} measured)"
    if target < low:
        return low, f"one step per run: at most /{STEP_FACTOR:g} ({target:.4g} measured)"
    return target, None
