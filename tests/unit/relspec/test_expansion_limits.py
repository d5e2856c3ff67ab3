"""Huge expansions are counted before they are built and refused with the count and the spec path; deep nesting
and a spec of the wrong type are SpecErrors, never MemoryError, RecursionError or TypeError."""

from __future__ import annotations

import pytest

import nirdag
from relspec import CompileError, SpecError


@pytest.fixture(scope="module")
def tecator():
    return nirdag.datasets.tecator()


SAVGOLS = [{"op": "savgol", "window_length": 2 * i + 5} for i in range(40)]


def _spec(*steps, model=None) -> dict:
    return {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, *steps,
                                          {"model": model or {"op": "pls", "n_components": 3}}]}


@pytest.mark.parametrize(("spec", "error", "message"), [
    (_spec(model={"op": "pls", "n_components": {"_range_": [1, 10**12]}}), SpecError,
     r"expands to 1000000000000 values, more than max_chains=10000 - at `\$\.pipeline\[1\]\.model\.n_components"),
    (_spec(*[{"_or_": SAVGOLS[:10]} for _ in range(7)]), CompileError,
     r"expands to 10000000 chains \(10000000 preprocessing paths x 1 component counts\), more than max_chains"),
    (_spec({"_or_": SAVGOLS, "pick": 20}), SpecError,
     r"pick: 20 of 40 alternatives gives 137846528820 combinations.* - at `\$\.pipeline\[1\]`"),
    (_spec({"_or_": SAVGOLS[:30], "arrange": 10}), SpecError, r"arrange: 10 of 30 alternatives gives 1090273504"),
    (_spec({"_or_": SAVGOLS, "pick": 20, "count": 5}), SpecError, r"filtered or sampled"),
    (_spec({"op": "savgol", "window_length": 11, "polyorder": {"_log_range_": [1, 10, 10**8]}}), SpecError,
     r"expands to 100000000 values.* - at `\$\.pipeline\[1\]\.polyorder\._log_range_`"),
    (_spec({"op": "savgol", "window_length": {"_sample_": {"distribution": "int", "low": 5, "high": 9,
                                                           "n": 10**9}}}), SpecError, r"draws 1000000000 values"),
    (_spec({"_grid_": {"op": ["savgol"], "window_length": list(range(5, 205, 2)), "polyorder": list(range(200))}}),
     SpecError, r"expands to 20000 combinations"),
])
def test_huge_expansions_are_refused_before_they_are_built(tecator, spec, error, message):
    with pytest.raises(error, match=message):
        nirdag.compile(spec, tecator)


def test_deep_nesting_is_a_spec_error(tecator):
    steps = [{"op": "snv"}]
    for _ in range(200):
        steps = [{"branch": {"a": steps}}]
    with pytest.raises(SpecError, match="nests deeper than"):
        nirdag.compile(_spec(*steps), tecator)


@pytest.mark.parametrize("spec", [[1, 2, 3], 42, None, b"target: fat"])
def test_a_spec_of_the_wrong_type_is_a_spec_error(tecator, spec):
    with pytest.raises(SpecError, match="a pipeline spec is a YAML/JSON file path, a mapping"):
        nirdag.compile(spec, tecator)


def test_count_still_samples_a_moderate_pool(tecator):
    plan = nirdag.compile(_spec({"_or_": SAVGOLS[:20], "pick": 3, "count": 4}), tecator)
    assert len(plan.chains) == 4
