"""What-if estimates from a run's recorded node metrics."""

from __future__ import annotations

import re

import pytest

from relspec.errors import CalibrationError
from relspec.what_if import ExecutorCosts, MeasuredNode, WhatIf, estimate, parse_changes

SYNC = WhatIf(executor="sync", workers=1, cache=True)
NODES = (
    MeasuredNode(node="spectra", kind="data", seconds=0.0, cache="uncached"),
    MeasuredNode(node="snv", kind="hoisted", seconds=0.4, cache="skipped", read_seconds=0.0),
    MeasuredNode(node="fit0", kind="fold_fit", seconds=0.05, cache="hit", read_seconds=0.05,
                 computed_elsewhere=1.0),
    MeasuredNode(node="fit1", kind="fold_fit", seconds=1.2, cache="miss", read_seconds=0.0, write_seconds=0.2),
    MeasuredNode(node="refit", kind="result", seconds=0.5, cache="uncached"),
)


def test_unknown_knobs_and_values_list_the_choices():
    with pytest.raises(CalibrationError, match=re.escape("the knobs are executor=..., workers=..., cache=...")):
        parse_changes("colour=blue", SYNC)
    with pytest.raises(CalibrationError, match="expected one of sync, threads, processes, dask, ray"):
        parse_changes("executor=gpu", SYNC)
    with pytest.raises(CalibrationError, match="expected on or off"):
        parse_changes("cache=maybe", SYNC)
    assert parse_changes("executor=processes, workers=2,cache=off", SYNC) == WhatIf(executor="processes", workers=2,
                                                                                    cache=False)


def test_the_recorded_policy_estimates_the_recorded_time():
    engine = 0.1 + sum(n.seconds for n in NODES) + 0.3  # start-up, nodes, overhead
    same = estimate("r", SYNC, engine, 0.1, NODES, SYNC, {"sync": ExecutorCosts(startup_seconds=(0.1,),
                                                                                  overhead_seconds=(0.3,))})
    assert same.estimated_engine_seconds == pytest.approx(engine)


def test_cache_off_computes_every_node_and_processes_spread_the_fits():
    off = estimate("r", SYNC, 2.5, 0.0, NODES, WhatIf(executor="sync", workers=1, cache=False), {})
    assert off.node_seconds == pytest.approx(0.4 + 1.0 + 1.0 + 0.5) and off.cache_seconds == 0
    parallel = estimate("r", SYNC, 2.5, 0.0, NODES, WhatIf(executor="processes", workers=2, cache=False), {})
    assert parallel.startup_seconds == 1.5 and any("never measured" in a for a in parallel.assumptions)
    assert parallel.node_seconds == pytest.approx(0.5 + (0.4 + 1.0 + 1.0) / 2)


def test_a_verification_says_how_far_the_estimate_was():
    from relspec.what_if import verification

    est = estimate("r", SYNC, 2.5, 0.0, NODES, WhatIf(executor="sync", workers=1, cache=False), {})
    checked = verification(est, "r2", est.estimated_engine_seconds / 1.25)
    assert checked.relative_error == pytest.approx(0.25) and checked.verified_run_id == "r2"
