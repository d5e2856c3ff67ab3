"""The policy calibrator: what past runs of a workload class measured in, a bounded proposal per knob out.

Pure: :func:`calibrate` reads a :class:`CalibrationHistory` (typed observations the workspace recorded in its
``run_metrics`` and ``node_metrics`` tables) and returns a :class:`PolicyCalibration` artifact; it touches no file
and no clock. Every knob it moves is one whose value cannot change a result: the cache's admission costs decide
only whether a computed value is stored, every executor gives bit-identical predictions, and the views' session
settings (:mod:`relspec.calibration_session`) change how a view's rows are computed, not which rows it returns.

Bounds: a numeric knob moves at most a factor of 2 per run, the executor one step (a parallel executor to ``sync``
where its start-up cannot pay, ``sync`` to ``processes`` where the parallel nodes pay it with a margin); a proposal
needs ``MIN_OBSERVATIONS`` measurements; a change applied by the newest run and measured slower than the runs
before it (engine seconds, or the views' seconds for a session knob; beyond their spread, 5 % and 50 ms) is
reverted, and a knob reverted recently is not proposed again.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence

import msgspec

from relspec.calibration_history import (
    KNOBS,
    MIN_OBSERVATIONS,
    SESSION_KNOBS,
    CalibrationHistory,
    CalibrationMode,
    Evidence,
    Knob,
    KnobProposal,
    NodeCost,
    Settings,
    Value,
    ViewScans,
    confidence,
    mad,
    step,
)
from relspec.calibration_session import batch_size, measure_views, target_partitions
from relspec.hashing import canonical_bytes
from relspec.policy import AdmissionCosts
from relspec.workload import WorkloadClass

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

SCHEMA_VERSION = 2  # 2: the views' session knobs, the executor proposed upwards, the run's view scans
PAY_MARGIN = 2.0  # a parallel executor is proposed to a sync run when it can save this many times its start-up
PAY_FLOOR_SECONDS = 0.1  # ... and at least this much more than its start-up
LARGE_ENTRY_BYTES = 1_000_000  # entries this large measure throughput (the per-entry cost is small beside them)
SMALL_ENTRY_BYTES = 64_000  # entries this small measure the per-entry cost
DEAD_BAND = 0.10  # a measured value within 10 % of the current one changes nothing
SLOWER_MARGIN = 0.05  # hysteresis: slower than the baseline median by more than its spread and 5 %
SLOWER_FLOOR_SECONDS = 0.05  # ... and by at least this much (run-to-run noise of sub-second runs)
REVERT_MEMORY = 3  # a knob reverted within the last runs of the class is not proposed again

class Observations(msgspec.Struct, **_FROZEN):
    runs: tuple[str, ...]
    engine_seconds_median: float | None
    engine_seconds_spread: float | None  # median absolute deviation
    cache_reads: int
    cache_writes: int


class PolicyCalibration(msgspec.Struct, tag="policy_calibration", tag_field="kind", **_FROZEN):
    """Stored with every run calibrated in observe or apply mode (``provenance/<run_id>/policy_calibration.json``)."""

    schema_version: int
    mode: CalibrationMode
    workload: WorkloadClass
    workload_key: str
    observations: Observations
    knobs: tuple[KnobProposal, ...]
    settings: Settings  # what the run uses: the current values, with the applied proposals in apply mode
    warnings: tuple[str, ...] = ()
    measure_views: bool = False  # whether this run measures its views (see relspec.calibration_session.measure_views)
    view_scans: ViewScans | None = None  # what this run's views scanned (measured after its tables were written)

    @property
    def applied(self) -> tuple[KnobProposal, ...]:
        return tuple(k for k in self.knobs if k.status == "applied")

    def to_json(self) -> bytes:
        return canonical_bytes(self)


def decode_calibration(data: bytes) -> PolicyCalibration:
    return msgspec.json.decode(data, type=PolicyCalibration)


def _throughput(history: CalibrationHistory, knob: Knob, current: float) -> KnobProposal:
    op = "write" if knob == "cache.write_bytes_per_s" else "read"
    if knob == "cache.entry_seconds":
        values = [c.seconds for c in history.cache if c.nbytes <= SMALL_ENTRY_BYTES]
        what = f"median seconds of {len(values)} cache reads/writes of at most {SMALL_ENTRY_BYTES} bytes"
    else:
        values = [c.nbytes / c.seconds for c in history.cache
                  if c.op == op and c.nbytes >= LARGE_ENTRY_BYTES and c.seconds > 0]
        what = f"median bytes/s of {len(values)} cache {op}s of at least {LARGE_ENTRY_BYTES} bytes"
    keep = KnobProposal(knob=knob, current=current, proposed=current, evidence={"observations": len(values)},
                        expected_saving_seconds=0.0, confidence=0.0, bound=None, status="kept")
    if len(values) < MIN_OBSERVATIONS:
        return msgspec.structs.replace(keep, reason=f"{len(values)} observation(s), {MIN_OBSERVATIONS} needed")
    target = statistics.median(values)
    evidence: Evidence = {"observations": len(values), "median": target, "spread": mad(values),
                          "min": min(values), "max": max(values)}
    if current > 0 and abs(target - current) / current <= DEAD_BAND:
        return msgspec.structs.replace(keep, evidence=evidence, confidence=confidence(values),
                                       reason=f"{what} is within {DEAD_BAND:.0%} of the current value")
    proposed, bound = step(current, target)
    return KnobProposal(knob=knob, current=current, proposed=proposed, evidence=evidence,
                        expected_saving_seconds=0.0, confidence=confidence(values), bound=bound,
                        status="would apply", reason=f"{what}: {target:.4g}")


def _executor(history: CalibrationHistory, current: Settings) -> KnobProposal:
    runs = [r for r in history.runs if r.settings.executor == current.executor and r.workers > 1]
    keep = KnobProposal(knob="executor", current=current.executor, proposed=current.executor,
                        evidence={"observations": len(runs)}, expected_saving_seconds=0.0, confidence=0.0,
                        bound=None, status="kept")
    if current.executor == "sync":
        return _parallel(history, keep)
    if len(runs) < MIN_OBSERVATIONS:
        return msgspec.structs.replace(keep, reason=f"{len(runs)} measured run(s) with {current.executor} on more "
                                                    f"than one worker, {MIN_OBSERVATIONS} needed")
    startup = statistics.median(r.startup_seconds for r in runs)
    nodes = statistics.median(r.node_seconds for r in runs)
    workers = statistics.median(r.workers for r in runs)
    # the most parallel execution can save: the node seconds spread perfectly over the workers
    can_save = nodes * (1 - 1 / workers)
    evidence: Evidence = {"observations": len(runs), "startup_seconds": startup, "node_seconds": nodes,
                          "workers": workers, "parallel_can_save_seconds": can_save,
                          "runs": [r.run_id for r in runs]}
    if startup <= can_save:
        return msgspec.structs.replace(keep, evidence=evidence, confidence=confidence([r.startup_seconds
                                                                                        for r in runs]),
                                       reason=f"start-up {startup:.3g} s is paid by up to {can_save:.3g} s saved")
    return KnobProposal(knob="executor", current=current.executor, proposed="sync", evidence=evidence,
                        expected_saving_seconds=round(startup - can_save, 6),
                        confidence=confidence([r.startup_seconds for r in runs]), bound=None,
                        status="would apply",
                        reason=f"starting {current.executor} workers takes {startup:.3g} s, more than the "
                               f"{can_save:.3g} s {workers:g} workers can save on {nodes:.3g} s of nodes")


def _parallel(history: CalibrationHistory, keep: KnobProposal) -> KnobProposal:
    """A sync run's executor one step up: to ``processes`` when the class's parallel nodes (hoisted, fold fits)
    spread over the workers save more than ``PAY_MARGIN`` times the start-up measured for it on this machine, plus
    ``PAY_FLOOR_SECONDS``. Threads are not proposed: their saving depends on how much of a node releases the GIL,
    which no start-up measures."""
    runs = [r for r in history.runs if r.settings.executor == "sync"]
    startups = [s for s in history.startups if s.executor == "processes" and s.workers > 1]
    if len(runs) < MIN_OBSERVATIONS or len(startups) < MIN_OBSERVATIONS:
        return msgspec.structs.replace(keep, evidence={"observations": len(runs), "startups": len(startups)},
                                       reason=f"{len(runs)} measured sync run(s) of the class and {len(startups)} "
                                              f"measured processes start-up(s) on this machine, "
                                              f"{MIN_OBSERVATIONS} of each needed")
    parallel = statistics.median(r.parallel_seconds for r in runs)
    startup = statistics.median(s.startup_seconds for s in startups)
    workers = int(statistics.median(s.workers for s in startups))
    can_save = parallel * (1 - 1 / workers)
    needed = PAY_MARGIN * startup + PAY_FLOOR_SECONDS
    evidence: Evidence = {"observations": len(runs), "parallel_node_seconds": parallel, "startup_seconds": startup,
                          "startups": len(startups), "workers": workers, "parallel_can_save_seconds": can_save,
                          "needed_seconds": needed, "runs": [r.run_id for r in runs]}
    conf = confidence([r.parallel_seconds for r in runs])
    if can_save <= needed:
        return msgspec.structs.replace(keep, evidence=evidence, confidence=conf,
                                       reason=f"sync kept: {workers} processes workers could save at most "
                                              f"{can_save:.3g} s of {parallel:.3g} s of parallel nodes, less than "
                                              f"{PAY_MARGIN:g} x their {startup:.3g} s start-up + "
                                              f"{PAY_FLOOR_SECONDS:g} s")
    return KnobProposal(knob="executor", current="sync", proposed="processes", evidence=evidence,
                        expected_saving_seconds=round(can_save - startup, 6), confidence=conf,
                        bound="one step per run: sync -> processes", status="would apply",
                        reason=f"{workers} processes workers can save up to {can_save:.3g} s of {parallel:.3g} s of "
                               f"parallel nodes, more than {PAY_MARGIN:g} x their {startup:.3g} s start-up + "
                               f"{PAY_FLOOR_SECONDS:g} s")


def _rerun_seconds(nodes: Sequence[NodeCost], decide: AdmissionCosts, measured: AdmissionCosts) -> float:
    """What a re-run pays for ``nodes`` when admission decides with ``decide``: a stored node is written and read
    back, a skipped one computed again (both at the ``measured`` costs)."""
    return sum(measured.store_seconds(n.nbytes) if decide.worth_storing(n.compute_seconds, n.nbytes)
               else n.compute_seconds for n in nodes)


def _with_savings(history: CalibrationHistory, current: AdmissionCosts,
                  proposals: list[KnobProposal]) -> list[KnobProposal]:
    """Each cache knob's expected saving per re-run: the newest run's cacheable nodes decided with the knob moved
    alone, against the current costs, both paid at the measured costs."""
    measured = current
    for p in proposals:
        if p.knob.startswith("cache.") and "median" in p.evidence:
            measured = msgspec.structs.replace(measured, **{p.knob.removeprefix("cache."): p.evidence["median"]})
    base = _rerun_seconds(history.nodes, current, measured)
    out = []
    for p in proposals:
        if p.knob.startswith("cache.") and p.status == "would apply":
            moved = msgspec.structs.replace(current, **{p.knob.removeprefix("cache."): float(p.proposed)})
            saving = base - _rerun_seconds(history.nodes, moved, measured)
            p = msgspec.structs.replace(p, expected_saving_seconds=round(saving, 6),
                                        evidence={**p.evidence, "decided_nodes": len(history.nodes)})
        out.append(p)
    return out


def _slower(newest: float, base: Sequence[float]) -> tuple[bool, float, float]:
    median, spread = statistics.median(base), mad(base)
    return newest > median + max(spread, SLOWER_MARGIN * median, SLOWER_FLOOR_SECONDS), median, spread


def _reverts(history: CalibrationHistory) -> tuple[dict[Knob, Value], Evidence, str]:
    """The knobs the newest run changed whose change measured slower, with the values they go back to: the
    executor and cache knobs by the engine seconds, the session knobs by the views' seconds."""
    if len(history.runs) < 2 or not history.runs[-1].applied:
        return {}, {}, ""
    newest, before = history.runs[-1], history.runs[:-1][-5:]
    changed = [k for k in newest.applied if k in KNOBS]
    previous = before[-1].settings
    out: dict[Knob, Value] = {}
    evidence: Evidence = {"run": newest.run_id, "baseline_runs": [r.run_id for r in before]}
    whys = []
    engine = [k for k in changed if k not in SESSION_KNOBS]
    slower, median, spread = _slower(newest.engine_seconds, [r.engine_seconds for r in before])
    if engine and slower:
        out.update({k: previous.value(k) for k in engine})
        evidence.update({"engine_seconds": newest.engine_seconds, "baseline_median": median,
                         "baseline_spread": spread})
        whys.append(f"run {newest.run_id} applied {', '.join(engine)} and took {newest.engine_seconds:.3g} s, "
                    f"against a median {median:.3g} s (spread {spread:.3g} s) of the runs before it")
    session = [k for k in changed if k in SESSION_KNOBS]
    views = [r.view_seconds for r in before if r.view_seconds is not None]
    if session and views and newest.view_seconds is not None:
        slower, median, spread = _slower(newest.view_seconds, views)
        if slower:
            # a run that asked for no partition count used one per CPU: what it resolved is the value to go back to
            out.update({k: previous.value(k) if previous.value(k) is not None else before[-1].target_partitions
                        for k in session})
            evidence.update({"view_seconds": newest.view_seconds, "baseline_view_median": median,
                             "baseline_view_spread": spread})
            whys.append(f"run {newest.run_id} applied {', '.join(session)} and its views took "
                        f"{newest.view_seconds:.3g} s, against a median {median:.3g} s (spread {spread:.3g} s)")
    return out, (evidence if out else {}), "; ".join(whys)


def _recently_reverted(history: CalibrationHistory) -> set[str]:
    return {a.removeprefix("revert:") for r in history.runs[-REVERT_MEMORY:] for a in r.applied
            if a.startswith("revert:")}


def _base(history: CalibrationHistory, asked: Settings, mode: CalibrationMode) -> Settings:
    """The values a run starts from: what the user asked, with the cache costs and session settings the newest
    applied run carried (apply mode only: that is how a step taken in one run is the start of the next)."""
    applied = [r for r in history.runs if r.mode == "apply"]
    if mode != "apply" or not applied:
        return asked
    return msgspec.structs.replace(asked, costs=applied[-1].settings.costs, session=applied[-1].settings.session)


def calibrate(history: CalibrationHistory, asked: Settings, mode: CalibrationMode) -> PolicyCalibration:
    """The calibration of a run of ``history.workload`` whose user asked for ``asked``, in ``mode``.

    ``observe`` proposes and changes nothing (``settings`` is ``asked``); ``apply`` returns the proposals applied
    (``status="applied"``) in ``settings``. A history with warnings calibrates as observe.
    """
    effective: CalibrationMode = "observe" if history.warnings and mode == "apply" else mode
    current = _base(history, asked, effective)
    reverts, revert_evidence, revert_why = _reverts(history)
    blocked = _recently_reverted(history)
    proposals = []
    for knob in KNOBS:
        if knob in reverts:
            proposal = KnobProposal(knob=knob, current=current.value(knob), proposed=reverts[knob],
                                    evidence=revert_evidence, expected_saving_seconds=0.0, confidence=1.0,
                                    bound=None, status="would apply", revert=True, reason=revert_why)
        elif knob == "executor":
            proposal = _executor(history, current)
        elif knob == "datafusion.target_partitions":
            proposal = target_partitions(history, current)
        elif knob == "datafusion.batch_size":
            proposal = batch_size(history, current)
        else:
            proposal = _throughput(history, knob, float(current.value(knob)))
        if knob in blocked and not proposal.revert and proposal.status == "would apply":
            proposal = msgspec.structs.replace(proposal, proposed=proposal.current, status="kept",
                                               reason=f"reverted within the last {REVERT_MEMORY} runs: kept")
        proposals.append(proposal)
    proposals = _with_savings(history, current.costs, proposals)
    settings = current
    if effective == "apply":
        proposals = [msgspec.structs.replace(p, status="applied") if p.status == "would apply" else p
                     for p in proposals]
        for p in proposals:
            if p.status == "applied":
                workers = p.evidence.get("workers") if p.knob == "executor" else None
                settings = settings.with_value(p.knob, p.proposed, workers=None if workers is None else int(workers))
    engine = [r.engine_seconds for r in history.runs]
    return PolicyCalibration(
        schema_version=SCHEMA_VERSION, mode=mode, workload=history.workload, workload_key=history.workload.key,
        observations=Observations(
            runs=tuple(r.run_id for r in history.runs),
            engine_seconds_median=statistics.median(engine) if engine else None,
            engine_seconds_spread=mad(engine) if engine else None,
            cache_reads=sum(c.op == "read" for c in history.cache),
            cache_writes=sum(c.op == "write" for c in history.cache)),
        knobs=tuple(proposals), settings=settings,
        # one query of every view costs seconds: only a run in apply mode, which can act on it, pays for it
        measure_views=effective == "apply" and measure_views(history, settings),
        warnings=(*history.warnings, *(("apply refused: the history could not be read, ran as observe",)
                                       if effective != mode else ())))


def applied_labels(calibration: PolicyCalibration) -> tuple[str, ...]:
    """The knobs a run's calibration changed, as its ``run_metrics.applied`` records them."""
    return tuple(f"revert:{k.knob}" if k.revert else k.knob for k in calibration.applied)
