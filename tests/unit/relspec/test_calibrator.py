"""The policy calibrator on synthetic histories: proposals, bounds, hysteresis, modes."""

from __future__ import annotations

import json
import os
from pathlib import Path

import msgspec
import pytest

from relspec.calibration import PolicyCalibration, applied_labels, calibrate, decode_calibration
from relspec.calibration_history import KNOBS, CacheObservation, CalibrationHistory, RunObservation, Settings
from relspec.policy import AdmissionCosts
from relspec.workload import bucket, workload_of

WORKLOAD = workload_of(172, 100, 60, 5, ["pls"])


def _run(i: int, *, executor="processes", workers=2, startup=1.5, engine=2.0, nodes=0.3, mode="observe",
         applied=(), costs=None) -> RunObservation:
    return RunObservation(run_id=f"r{i}", mode=mode, workers=workers,
                          settings=Settings(executor=executor, workers=workers, costs=costs or AdmissionCosts()),
                          startup_seconds=startup, engine_seconds=engine, node_seconds=nodes, applied=applied)


def _writes(rate: float, n: int = 3) -> tuple[CacheObservation, ...]:
    return tuple(CacheObservation(run_id="r0", op="write", nbytes=10_000_000, seconds=10_000_000 / rate)
                 for _ in range(n))


def _knob(calibration: PolicyCalibration, knob: str):
    return next(k for k in calibration.knobs if k.knob == knob)


def test_workload_buckets_are_powers_of_four():
    assert [bucket(n) for n in (0, 1, 2, 4, 5, 172, 256, 257)] == [1, 1, 4, 4, 16, 256, 256, 1024]
    assert WORKLOAD.key == "r256-w256-c64-f16-pls"
    assert workload_of(250, 90, 50, 5, ["pls"]) == WORKLOAD and workload_of(20_000, 100, 60, 5, ["pls"]) != WORKLOAD


def test_no_history_proposes_nothing():
    c = calibrate(CalibrationHistory(workload=WORKLOAD), Settings(executor="processes", workers=2), "apply")
    assert [k.knob for k in c.knobs] == list(KNOBS)
    assert all(k.status == "kept" and k.proposed == k.current for k in c.knobs)
    assert c.settings == Settings(executor="processes", workers=2) and not c.applied


def test_parallel_that_cannot_pay_is_switched_to_sync_in_apply_only():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1)))
    asked = Settings(executor="processes", workers=2)
    observed = calibrate(history, asked, "observe")
    knob = _knob(observed, "executor")
    assert knob.status == "would apply" and knob.proposed == "sync" and observed.settings == asked
    assert knob.expected_saving_seconds == pytest.approx(1.5 - 0.3 * 0.5)
    applied = calibrate(history, asked, "apply")
    assert _knob(applied, "executor").status == "applied" and applied.settings.executor == "sync"
    assert applied.settings.workers is None and applied_labels(applied) == ("executor",)


def test_parallel_that_pays_is_kept():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0, nodes=20.0), _run(1, nodes=22.0)))
    assert _knob(calibrate(history, Settings(executor="processes", workers=2), "apply"), "executor").status == "kept"


def test_one_run_is_not_enough_evidence():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0),), cache=_writes(50e6, n=1))
    c = calibrate(history, Settings(executor="processes", workers=2), "apply")
    assert not c.applied and "2 needed" in _knob(c, "cache.write_bytes_per_s").reason


def test_a_throughput_moves_at_most_a_factor_two_per_run():
    history = CalibrationHistory(workload=WORKLOAD, cache=_writes(20e6))  # 10x slower than the default 200 MB/s
    c = calibrate(history, Settings(), "apply")
    knob = _knob(c, "cache.write_bytes_per_s")
    assert knob.proposed == pytest.approx(100e6) and knob.bound and "one step per run" in knob.bound
    assert c.settings.costs.write_bytes_per_s == pytest.approx(100e6)
    assert knob.evidence["median"] == pytest.approx(20e6) and knob.evidence["observations"] == 3


def test_apply_continues_from_the_costs_the_last_applied_run_carried():
    last = _run(0, executor="sync", workers=1, mode="apply", costs=AdmissionCosts(write_bytes_per_s=100e6))
    history = CalibrationHistory(workload=WORKLOAD, runs=(last,), cache=_writes(20e6))
    c = calibrate(history, Settings(), "apply")
    assert _knob(c, "cache.write_bytes_per_s").current == pytest.approx(100e6)
    assert c.settings.costs.write_bytes_per_s == pytest.approx(50e6)  # the second step
    assert calibrate(history, Settings(), "observe").settings == Settings()  # observe never carries anything


def test_a_value_within_the_dead_band_is_kept():
    c = calibrate(CalibrationHistory(workload=WORKLOAD, cache=_writes(190e6)), Settings(), "apply")
    assert _knob(c, "cache.write_bytes_per_s").status == "kept" and not c.applied


def test_an_applied_change_measured_slower_is_reverted_and_not_proposed_again():
    before = [_run(i, executor="sync", workers=1, engine=1.0 + 0.01 * i, mode="apply") for i in range(3)]
    slower = _run(3, executor="sync", workers=1, engine=1.5, mode="apply",
                  costs=AdmissionCosts(write_bytes_per_s=100e6), applied=("cache.write_bytes_per_s",))
    history = CalibrationHistory(workload=WORKLOAD, runs=(*before, slower), cache=_writes(20e6))
    c = calibrate(history, Settings(), "apply")
    knob = _knob(c, "cache.write_bytes_per_s")
    assert knob.revert and knob.status == "applied" and knob.proposed == pytest.approx(200e6)
    assert "took 1.5 s" in knob.reason and applied_labels(c) == ("revert:cache.write_bytes_per_s",)
    reverted = _run(4, executor="sync", workers=1, engine=1.0, mode="apply",
                    applied=("revert:cache.write_bytes_per_s",))
    again = calibrate(CalibrationHistory(workload=WORKLOAD, runs=(*before, slower, reverted),
                                         cache=_writes(20e6)), Settings(), "apply")
    assert _knob(again, "cache.write_bytes_per_s").status == "kept"  # hysteresis: no flip-flop


def test_a_change_within_the_spread_is_not_reverted():
    before = [_run(i, executor="sync", workers=1, engine=1.0, mode="apply") for i in range(3)]
    same = _run(3, executor="sync", workers=1, engine=1.03, mode="apply", applied=("cache.write_bytes_per_s",))
    c = calibrate(CalibrationHistory(workload=WORKLOAD, runs=(*before, same)), Settings(), "apply")
    assert not _knob(c, "cache.write_bytes_per_s").revert


def test_an_unreadable_history_calibrates_as_observe():
    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1)), warnings=("cannot read",))
    c = calibrate(history, Settings(executor="processes", workers=2), "apply")
    assert not c.applied and c.settings.executor == "processes"
    assert "cannot read" in c.warnings and any("ran as observe" in w for w in c.warnings)


def test_the_artifact_round_trips_strictly():
    c = calibrate(CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1))), Settings(), "observe")
    assert decode_calibration(c.to_json()) == c
    with pytest.raises(msgspec.ValidationError):
        decode_calibration(c.to_json().replace(b'"schema_version"', b'"extra":1,"schema_version"'))


def test_a_cache_knob_says_what_its_change_saves_per_rerun():
    """Writes measured 4x slower than the default: the 0.05 s nodes of 8 MB are no longer worth storing (write +
    read ~0.17 s measured); moving the knob one step already flips them, saving the difference on each re-run."""
    from relspec.calibration_history import NodeCost

    nodes = tuple(NodeCost(compute_seconds=0.06, nbytes=8_000_000) for _ in range(5))
    history = CalibrationHistory(workload=WORKLOAD, cache=_writes(50e6), nodes=nodes)
    knob = _knob(calibrate(history, Settings(), "observe"), "cache.write_bytes_per_s")
    assert knob.proposed == pytest.approx(100e6)
    measured = AdmissionCosts(write_bytes_per_s=50e6)
    assert AdmissionCosts().worth_storing(0.06, 8_000_000)  # today: stored
    assert not AdmissionCosts(write_bytes_per_s=100e6).worth_storing(0.06, 8_000_000)  # one step: skipped
    expected = 5 * (measured.store_seconds(8_000_000) - 0.06)
    assert knob.expected_saving_seconds == pytest.approx(expected, rel=1e-6) and knob.expected_saving_seconds > 0


GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "policy_calibration_synthetic.json"


def test_golden_policy_calibration():
    """The artifact's JSON form is pinned on a synthetic history (a processes run that cannot pay, slow writes);
    regenerate with NIRDAG_UPDATE_GOLDEN=1 after an intended change."""
    from relspec.calibration_history import NodeCost

    history = CalibrationHistory(workload=WORKLOAD, runs=(_run(0), _run(1)), cache=_writes(50e6),
                                 nodes=(NodeCost(compute_seconds=0.06, nbytes=8_000_000),))
    calibration = calibrate(history, Settings(executor="processes", workers=2), "apply")
    text = json.dumps(json.loads(calibration.to_json()), indent=2, sort_keys=True) + "\n"
    if os.environ.get("NIRDAG_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert decode_calibration(GOLDEN.read_bytes()) == calibration
