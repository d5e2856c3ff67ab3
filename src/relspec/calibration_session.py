"""The calibrator's rules for the views' DataFusion session: target partitions and batch size, from the rows and
seconds the views of past runs of the class measured.

A partition beyond the first pays only when it gets enough rows: splitting a small query over several partitions
adds repartitioning and, for the views' aggregates, a partial and a final aggregation step (measured on the Tecator
example: the catalog views of one run took 0.28 s on one partition, 1.2 s on two, see docs/plans/calibration.md).
The largest view query of the class decides: ``ceil(rows / ROWS_PER_PARTITION)`` partitions, never more than the
most the history measured (one per CPU by default). Batches grow (x2, up to ``MAX_BATCH_SIZE``) only where a
partition reads more than ``BATCHES_PER_PARTITION`` batches. Pure, like :mod:`relspec.calibration`.
"""

from __future__ import annotations

import math
import statistics

from relspec.calibration_history import (
    MIN_OBSERVATIONS,
    STEP_FACTOR,
    CalibrationHistory,
    KnobProposal,
    RunObservation,
    Settings,
    confidence,
    step,
)

VIEW_SAMPLES = 3  # runs of a class measured at one session setting before measuring pauses
VIEW_REMEASURE_RUNS = 10  # ... and measured again after this many runs without (the workspace grows)
ROWS_PER_PARTITION = 1_000_000  # rows one view query must read per partition before another partition pays
BATCHES_PER_PARTITION = 256  # a partition reading more batches than this gets larger batches
MAX_BATCH_SIZE = 131_072


def _measured(history: CalibrationHistory) -> list[RunObservation]:
    return [r for r in history.runs if r.view_seconds is not None and r.view_max_rows is not None
            and r.target_partitions is not None]


def current_partitions(history: CalibrationHistory, current: Settings) -> int | None:
    """The partitions a run with ``current`` uses: the asked number, else what the newest measured run resolved
    (one per CPU); None with no measured run."""
    runs = _measured(history)
    return current.session.target_partitions or (runs[-1].target_partitions if runs else None)


def measure_views(history: CalibrationHistory, settings: Settings) -> bool:
    """Whether a run with ``settings`` measures its views (what one query of every view costs): while the class
    has fewer than ``VIEW_SAMPLES`` measured runs at these session settings, or its newest measured run is
    ``VIEW_REMEASURE_RUNS`` runs back."""
    runs = _measured(history)
    partitions = current_partitions(history, settings)
    at = [r for r in runs if r.target_partitions == partitions
          and r.settings.session.batch_size == settings.session.batch_size]
    if len(at) < VIEW_SAMPLES:
        return True
    since = next(i for i, r in enumerate(reversed(history.runs)) if r.view_seconds is not None)
    return since + 1 >= VIEW_REMEASURE_RUNS


def _kept(knob, value, n: int, reason: str, **fields) -> KnobProposal:
    return KnobProposal(knob=knob, current=value, proposed=value, evidence={"observations": n, **fields.pop(
        "evidence", {})}, expected_saving_seconds=0.0, confidence=fields.pop("confidence", 0.0), bound=None,
        status="kept", reason=reason)


def _saving(runs: list[RunObservation], here, there, attr) -> float | None:
    """The median view seconds measured at ``here`` minus at ``there`` (None when either was never measured)."""
    at_here = [r.view_seconds for r in runs if attr(r) == here]
    at_there = [r.view_seconds for r in runs if attr(r) == there]
    if not at_here or not at_there:
        return None
    return statistics.median(at_here) - statistics.median(at_there)


def target_partitions(history: CalibrationHistory, current: Settings) -> KnobProposal:
    knob = "datafusion.target_partitions"
    runs = _measured(history)
    now = current_partitions(history, current)
    if len(runs) < MIN_OBSERVATIONS or now is None:
        return _kept(knob, current.session.target_partitions, len(runs),
                     f"{len(runs)} run(s) with measured views, {MIN_OBSERVATIONS} needed")
    rows = int(statistics.median(r.view_max_rows for r in runs))
    ceiling = max(now, *(r.target_partitions for r in runs))
    useful = max(1, min(ceiling, math.ceil(rows / ROWS_PER_PARTITION)))
    seconds = [r.view_seconds for r in runs if r.target_partitions == now] or [r.view_seconds for r in runs]
    evidence = {"observations": len(runs), "largest_view_rows_read": rows, "rows_per_partition": ROWS_PER_PARTITION,
                "partitions_now": now, "partitions_useful": useful, "most_partitions_measured": ceiling,
                "view_seconds_median": statistics.median(seconds), "runs": [r.run_id for r in runs]}
    for p in sorted({r.target_partitions for r in runs}):  # what each setting measured: the saving, once stepped
        evidence[f"view_seconds_median_at_{p}"] = statistics.median(r.view_seconds for r in runs
                                                                    if r.target_partitions == p)
    conf = confidence(seconds)
    if useful == now:
        return _kept(knob, now, len(runs), f"the largest view query reads {rows:,} rows: {now} partition(s) of at "
                                           f"most {ROWS_PER_PARTITION:,} rows", evidence=evidence, confidence=conf)
    bounded, bound = step(now, useful)
    proposed = max(1, round(bounded))
    saving = _saving(runs, now, proposed, lambda r: r.target_partitions)
    if saving is not None and saving <= 0:
        return _kept(knob, now, len(runs), f"views measured no faster on {proposed} partition(s) "
                                           f"({-saving:.3g} s slower)", evidence=evidence, confidence=conf)
    why = (f"the largest view query reads {rows:,} rows: {useful} partition(s) of at most {ROWS_PER_PARTITION:,} "
           f"rows, not {now}")
    why += "" if saving is not None else f"; never measured on {proposed}: this step measures it"
    return KnobProposal(knob=knob, current=now, proposed=proposed, evidence=evidence,
                        expected_saving_seconds=round(saving or 0.0, 6), confidence=conf, bound=bound,
                        status="would apply", reason=why)


def batch_size(history: CalibrationHistory, current: Settings) -> KnobProposal:
    knob = "datafusion.batch_size"
    runs = _measured(history)
    size = current.session.batch_size
    partitions = current_partitions(history, current)
    if len(runs) < MIN_OBSERVATIONS or partitions is None:
        return _kept(knob, size, len(runs), f"{len(runs)} run(s) with measured views, {MIN_OBSERVATIONS} needed")
    rows = int(statistics.median(r.view_max_rows for r in runs))
    batches = rows / partitions / size
    seconds = [r.view_seconds for r in runs if r.settings.session.batch_size == size] or [
        r.view_seconds for r in runs]
    evidence = {"observations": len(runs), "largest_view_rows_read": rows, "partitions": partitions,
                "batches_per_partition": round(batches, 3), "view_seconds_median": statistics.median(seconds)}
    conf = confidence(seconds)
    if batches <= BATCHES_PER_PARTITION or size >= MAX_BATCH_SIZE:
        return _kept(knob, size, len(runs), f"the largest view query reads {batches:.3g} batch(es) of {size} rows per "
                                            f"partition, at most {BATCHES_PER_PARTITION}: the batch size is kept",
                     evidence=evidence, confidence=conf)
    proposed = int(min(MAX_BATCH_SIZE, size * STEP_FACTOR))
    saving = _saving(runs, size, proposed, lambda r: r.settings.session.batch_size)
    if saving is not None and saving <= 0:
        return _kept(knob, size, len(runs), f"views measured no faster with batches of {proposed}",
                     evidence=evidence, confidence=conf)
    return KnobProposal(knob=knob, current=size, proposed=proposed, evidence=evidence,
                        expected_saving_seconds=round(saving or 0.0, 6), confidence=conf,
                        bound=f"one step per run: at most x{STEP_FACTOR:g}", status="would apply",
                        reason=f"the largest view query reads {batches:.3g} batches of {size} rows per partition, "
                               f"more than {BATCHES_PER_PARTITION}: larger batches pay the per-batch cost less often")

