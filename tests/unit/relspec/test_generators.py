"""Generator keywords expand deterministically; specs using them compile to the product of the alternatives."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs_core.data import tecator
from relspec import CompileError, SpecError, compile_plan, load_spec
from relspec.generators import expand


def _expand(value, seed=0, cap=10_000):
    return expand(value, "$", np.random.default_rng(seed), cap)


def test_or_range_log_range_grid_zip():
    assert _expand({"_or_": [1, 2, 3]}) == [1, 2, 3]
    assert _expand({"_range_": [2, 5]}) == [2, 3, 4, 5]
    assert _expand({"_range_": [10, 2, -4]}) == [10, 6, 2]
    assert _expand({"_log_range_": [1, 100, 3]}) == pytest.approx([1.0, 10.0, 100.0])
    assert _expand({"_grid_": {"a": [1, 2], "b": ["x", "y"]}}) == [
        {"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 2, "b": "x"}, {"a": 2, "b": "y"}]
    assert _expand({"_zip_": {"a": [1, 2], "b": ["x", "y"]}}) == [{"a": 1, "b": "x"}, {"a": 2, "b": "y"}]


def test_pick_and_arrange():
    assert _expand({"_or_": ["a", "b", "c"], "pick": 2}) == [["a", "b"], ["a", "c"], ["b", "c"]]
    assert len(_expand({"_or_": ["a", "b", "c"], "arrange": 2})) == 6


def test_nested_generators_multiply():
    assert _expand({"op": "savgol", "window_length": {"_or_": [5, 7]}, "deriv": {"_range_": [0, 1]}}) == [
        {"op": "savgol", "window_length": w, "deriv": d} for w in (5, 7) for d in (0, 1)]


def test_count_and_sample_are_seeded():
    node = {"_or_": list(range(20)), "count": 5}
    assert _expand(node, seed=1) == _expand(node, seed=1)
    assert _expand(node, seed=1) != _expand(node, seed=2)
    sample = {"_sample_": {"distribution": "log_uniform", "low": 0.01, "high": 10, "n": 4}}
    assert _expand(sample, seed=3) == _expand(sample, seed=3)
    assert all(0.01 <= v <= 10 for v in _expand(sample, seed=3))


@pytest.mark.parametrize(("node", "message"), [
    ({"_or_": []}, "non-empty list"),
    ({"_range_": [5, 1]}, "no alternative"),
    ({"_zip_": {"a": [1, 2], "b": [1]}}, "equal lengths"),
    ({"_or_": [1, 2], "pik": 1}, "unknown keys"),
    ({"_or_": [1, 2], "_range_": [1, 2]}, "one generator keyword"),
])
def test_malformed_generators_name_the_problem(node, message):
    with pytest.raises(SpecError, match=message):
        _expand(node)


def test_cap_is_enforced_with_the_count():
    with pytest.raises(SpecError, match="expands to 400 alternatives, more than max_chains=100"):
        _expand({"a": {"_range_": [1, 20]}, "b": {"_range_": [1, 20]}}, cap=100)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.integers(-5, 5), min_size=1, max_size=6), st.lists(st.integers(-5, 5), min_size=1, max_size=6))
def test_grid_count_is_the_product(a, b):
    assert len(_expand({"_grid_": {"a": a, "b": b}})) == len(a) * len(b)


SPEC = {
    "target": "fat", "seed": 0,
    "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_or_": [{"op": "snv"}, {"op": "msc"}, None]},
        {"op": "savgol", "window_length": {"_or_": [11, 15]}, "deriv": 1},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 6]}}},
    ],
}


def test_spec_generators_compile_to_the_product_of_alternatives():
    plan = compile_plan(load_spec(SPEC), tecator().schema())
    assert len(plan.chains) == 3 * 2 * 6
    assert {c.branch_path for c in plan.chains} == {(i, j) for i in range(3) for j in range(2)}
    assert "none+savgol(window_length=11,deriv=1)" in {c.branch_name for c in plan.chains}
    assert len({c.chain_id for c in plan.chains}) == len(plan.chains)


def test_max_chains_is_a_compile_error_naming_the_count():
    with pytest.raises(CompileError, match=r"expands to 36 chains .* more than max_chains=10"):
        compile_plan(load_spec({**SPEC, "max_chains": 10}), tecator().schema())


def test_only_n_components_may_be_generated_in_a_model():
    spec = {**SPEC, "pipeline": [*SPEC["pipeline"][:-1], {"model": {"op": "pls", "n_components": 3,
                                                                   "scale": {"_or_": [True, False]}}}]}
    with pytest.raises(SpecError, match=r"only n_components .* `\$\.pipeline\[3\]\.model\.scale`"):
        load_spec(spec)


def test_unknown_operator_suggests_the_closest_name():
    with pytest.raises(SpecError, match=r"did you mean 'snv'\?"):
        load_spec({**SPEC, "pipeline": [SPEC["pipeline"][0], {"op": "SNVV"}, SPEC["pipeline"][-1]]})
