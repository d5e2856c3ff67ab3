"""The calibrator's new knobs on synthetic histories: the views' session settings (target partitions, batch size)
and the executor proposed upwards from sync."""

from __future__ import annotations

import math

import msgspec
import pytest

from relspec.calibration import PolicyCalibration, applied_labels, calibrate, decode_calibration
from relspec.calibration_history import CalibrationHistory, RunObservation, Settings, StartupObservation
from relspec.calibration_session import (
    BATCHES_PER_PARTITION,
    ROWS_PER_PARTITION,
    VIEW_REMEASURE_RUNS,
    VIEW_SAMPLES,
    measure_views,
)
from relspec.policy import SessionSettings
from relspec.workload import workload_of

WORKLOAD = workload_of(172, 100, 60, 5, ["pls"])


def _run(i: int, *, partitions=8, batch=8192, view_seconds=1.0, rows=50_000, parallel=0.1, engine=1.0,
         executor="sync", workers=1, startup=0.0, mode="apply", applied=()) -> RunObservation:
    settings = Settings(executor=executor, workers=workers,
                        session=SessionSettings(target_partitions=partitions, batch_size=batch))
    return RunObservation(run_id=f"r{i}", mode=mode, settings=settings, workers=workers, startup_seconds=startup,
                          engine_seconds=engine, node_seconds=parallel + 0.05, applied=applied,
                          parallel_seconds=parallel, target_partitions=partitions, view_seconds=view_seconds,
                          view_max_rows=rows)


def _knob(c: PolicyCalibration, knob: str):
    return next(k for k in c.knobs if k.knob == knob)


def _startups(seconds=1.5, n=2, workers=2):
    return tuple(StartupObservation(run_id=f"p{i}", executor="processes", workers=workers, startup_seconds=seconds)
                 for i in range(n))


def test_a_small_view_query_gets_fewer_partitions_one_step_at_a_time():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1)))  # 50,000 rows: one partition pays
    c = calibrate(history, Settings(), "apply")
    knob = _knob(c, "datafusion.target_partitions")
    assert knob.current == 8 and knob.proposed == 4 and "one step per run" in knob.bound  # 8 -> 4, not 8 -> 1
    assert knob.evidence["partitions_useful"] == 1 and knob.evidence["largest_view_rows_read"] == 50_000
    assert c.settings.session.target_partitions == 4 and "datafusion.target_partitions" in applied_labels(c)
    observed = calibrate(history, Settings(), "observe")
    assert _knob(observed, "datafusion.target_partitions").status == "would apply"
    assert observed.settings.session.target_partitions is None  # observe changes nothing
    assert decode_calibration(c.to_json()) == c


def test_a_large_view_query_keeps_its_partitions():
    rows = 8 * ROWS_PER_PARTITION
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, rows=rows), _run(1, rows=rows)))
    knob = _knob(calibrate(history, Settings(), "apply"), "datafusion.target_partitions")
    assert knob.status == "kept" and knob.proposed == 8
    # never more partitions than the history measured (one per CPU by default), however many rows
    bigger = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, rows=100 * rows), _run(1, rows=100 * rows)))
    assert _knob(calibrate(bigger, Settings(), "apply"), "datafusion.target_partitions").status == "kept"


def test_partitions_measured_slower_at_the_proposed_value_are_kept():
    runs = (_run(0, partitions=4, view_seconds=0.5), _run(1, partitions=8, view_seconds=1.0),
            _run(2, partitions=8, view_seconds=1.0))
    faster = calibrate(CalibrationHistory(workload=WORKLOAD, runs=runs), Settings(), "apply")
    knob = _knob(faster, "datafusion.target_partitions")
    assert knob.proposed == 4 and knob.expected_saving_seconds == pytest.approx(0.5)  # measured at both values
    assert knob.evidence["view_seconds_median_at_4"] == 0.5 and knob.evidence["view_seconds_median_at_8"] == 1.0
    slower = (_run(0, partitions=4, view_seconds=2.0), *runs[1:])
    knob = _knob(calibrate(CalibrationHistory(workload=WORKLOAD, runs=slower), Settings(), "apply"),
                 "datafusion.target_partitions")
    assert knob.status == "kept" and "no faster" in knob.reason


def test_a_session_change_measured_slower_in_the_views_is_reverted():
    before = tuple(_run(i, partitions=8, view_seconds=1.0) for i in range(3))
    slower = _run(3, partitions=4, view_seconds=2.0, applied=("datafusion.target_partitions",))
    c = calibrate(CalibrationHistory(workload=WORKLOAD, runs=(*before, slower)), Settings(), "apply")
    knob = _knob(c, "datafusion.target_partitions")
    assert knob.revert and knob.proposed == 8 and "views took 2 s" in knob.reason
    assert c.settings.session.target_partitions == 8
    assert applied_labels(c) == ("revert:datafusion.target_partitions",)


def test_batches_grow_only_where_a_partition_reads_many():
    many = BATCHES_PER_PARTITION * 8192 * 8 * 2  # twice the batches the rule allows per partition, on 8 partitions
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, rows=many), _run(1, rows=many)))
    c = calibrate(history, Settings(session=SessionSettings(target_partitions=8)), "apply")
    knob = _knob(c, "datafusion.batch_size")
    assert knob.proposed == 16384 and c.settings.session.batch_size == 16384
    assert knob.evidence["batches_per_partition"] == pytest.approx(2 * BATCHES_PER_PARTITION)
    small = CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1)))
    assert _knob(calibrate(small, Settings(), "apply"), "datafusion.batch_size").status == "kept"


def test_sync_is_proposed_processes_where_its_parallel_nodes_pay_the_start_up_with_a_margin():
    # 2 workers save half of the parallel seconds; the start-up is 1.5 s, the margin 2 x 1.5 + 0.1 = 3.1 s
    pays = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, parallel=8.0), _run(1, parallel=8.0)),
                              startups=_startups())
    c = calibrate(pays, Settings(), "apply")
    knob = _knob(c, "executor")
    assert knob.status == "applied" and knob.proposed == "processes" and knob.evidence["workers"] == 2
    assert knob.expected_saving_seconds == pytest.approx(8.0 / 2 - 1.5)
    assert c.settings.executor == "processes" and c.settings.workers == 2
    short = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, parallel=6.0), _run(1, parallel=6.0)),
                               startups=_startups())  # saves 3.0 s: more than the start-up, less than the margin
    knob = _knob(calibrate(short, Settings(), "apply"), "executor")
    assert knob.status == "kept" and "sync kept" in knob.reason
    assert math.isclose(knob.evidence["needed_seconds"], 3.1)


def test_sync_needs_measured_start_ups_on_this_machine():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, parallel=80.0), _run(1, parallel=80.0)),
                                 startups=_startups(n=1))
    knob = _knob(calibrate(history, Settings(), "apply"), "executor")
    assert knob.status == "kept" and "1 measured processes start-up" in knob.reason


def test_processes_that_cannot_pay_still_go_to_sync():
    runs = tuple(_run(i, executor="processes", workers=2, startup=1.5, parallel=0.2) for i in range(2))
    c = calibrate(CalibrationHistory(workload=WORKLOAD, runs=runs, startups=_startups()),
                  Settings(executor="processes", workers=2), "apply")
    assert _knob(c, "executor").proposed == "sync" and c.settings.executor == "sync"


def test_views_are_measured_until_a_setting_has_its_samples_and_again_later():
    measured = tuple(_run(i) for i in range(VIEW_SAMPLES))
    eight = Settings(session=SessionSettings(target_partitions=8))
    assert measure_views(CalibrationHistory(workload=WORKLOAD, runs=measured[:-1]), eight)
    assert not measure_views(CalibrationHistory(workload=WORKLOAD, runs=measured), eight)
    assert not measure_views(CalibrationHistory(workload=WORKLOAD, runs=measured), Settings())  # 8: the newest's
    four = Settings(session=SessionSettings(target_partitions=4))
    assert measure_views(CalibrationHistory(workload=WORKLOAD, runs=measured), four)  # a new setting: measured
    quiet = tuple(msgspec.structs.replace(_run(10 + i), view_seconds=None, view_max_rows=None)
                  for i in range(VIEW_REMEASURE_RUNS - 1))
    assert measure_views(CalibrationHistory(workload=WORKLOAD, runs=(*measured, *quiet)), eight)
    assert not measure_views(CalibrationHistory(workload=WORKLOAD, runs=(*measured, *quiet[:-1])), eight)
    c = calibrate(CalibrationHistory(workload=WORKLOAD, runs=measured), eight, "observe")
    assert c.measure_views is False
