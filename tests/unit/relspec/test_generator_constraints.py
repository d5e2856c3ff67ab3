"""_cartesian_, _chain_ and the constraints _mutex_, _requires_, _exclude_: results equal itertools re-derivations,
are seeded, counted before they are built, and compile to one chain per pipeline."""

from __future__ import annotations

import itertools
import time

import numpy as np
import pytest

from nirs_core.data import tecator
from relspec import CompileError, SpecError, compile_plan
from relspec.generators import expand, generator_sites
from relspec.spec import decode_spec

SNV, MSC, SG = {"op": "snv"}, {"op": "msc"}, {"op": "savgol", "window_length": 11}
D1 = {"op": "savgol", "window_length": 11, "deriv": 1}


def _expand(value, seed=0, cap=10_000):
    return expand(value, "$", np.random.default_rng(seed), cap)


def test_cartesian_is_the_product_of_its_stages_without_null_items():
    stages = [[SNV, MSC, None], [SG, D1]]
    expected = [[i for i in combo if i is not None] for combo in itertools.product(*stages)]
    assert _expand({"_cartesian_": [{"_or_": stages[0]}, {"_or_": stages[1]}]}) == expected
    assert len(expected) == 6 and [SG] in expected


def test_cartesian_count_is_a_seeded_sample_in_expansion_order():
    node = {"_cartesian_": [{"_or_": [SNV, MSC, None]}, {"_or_": [SG, D1, None]}], "count": 4}
    first, again, other = _expand(node, seed=3), _expand(node, seed=3), _expand(node, seed=4)
    every = _expand({"_cartesian_": node["_cartesian_"]})
    assert first == again and len(first) == 4 and first != other
    assert [every.index(p) for p in first] == sorted(every.index(p) for p in first)


def test_chain_keeps_the_written_order_and_count_takes_the_first():
    assert _expand({"_chain_": [3, {"_or_": [1, 2]}, 0]}) == [3, 1, 2, 0]
    assert _expand({"_chain_": [SNV, MSC, SG], "count": 2}) == [SNV, MSC]


def _filter(combos, mutex=(), requires=(), exclude=()):
    """The constraints written out on lists of hashable labels."""
    out = []
    for combo in combos:
        present = set(combo)
        if any(set(g) <= present for g in mutex):
            continue
        if any(g[0] in present and not set(g[1:]) <= present for g in requires):
            continue
        if any(set(g) == present for g in exclude):
            continue
        out.append(list(combo))
    return out


def test_constraints_on_pick_equal_the_filters_written_out():
    items = ["a", "b", "c", "d"]
    node = {"_or_": items, "pick": 2, "_mutex_": [["a", "b"]], "_requires_": [["c", "d"]], "_exclude_": [["b", "d"]]}
    expected = _filter(itertools.combinations(items, 2), mutex=[["a", "b"]], requires=[["c", "d"]],
                       exclude=[["b", "d"]])
    assert _expand(node) == expected == [["a", "d"], ["c", "d"]]


def test_constraints_on_cartesian_filter_the_pipelines_by_their_steps():
    node = {"_cartesian_": [{"_or_": [SNV, MSC, None]}, {"_or_": [SG, D1, None]}],
            "_mutex_": [[MSC, D1]], "_requires_": [[SNV, SG]], "_exclude_": [[]]}
    got = _expand(node)
    assert [MSC, D1] not in got and [SNV, D1] not in got and [SNV] not in got and [] not in got
    assert [SNV, SG] in got and [MSC, SG] in got and [D1] in got
    reordered = {"_cartesian_": node["_cartesian_"], "_mutex_": [[{"deriv": 1, "window_length": 11,
                                                                 "op": "savgol"}, MSC]]}
    assert [MSC, D1] not in _expand(reordered)  # options are compared as values, whatever their key order


@pytest.mark.parametrize(("node", "message", "where"), [
    ({"_or_": ["a", "b"], "_mutex_": [["a", "b"]]}, "need pick or arrange", r"\$`"),
    ({"_or_": ["a", "b"], "pick": 1, "_mutex_": [["a", "z"]]}, "'z' is not one of the generator's options",
     r"\$\._mutex_\[0\]\[1\]`"),
    ({"_or_": ["a", "b"], "pick": 1, "_requires_": [["a"]]}, "lists of at least 2 options", r"\$\._requires_`"),
    ({"_cartesian_": []}, "non-empty list of stages", r"\$\._cartesian_`"),
    ({"_chain_": [1], "count": 0}, "count must be a positive integer", r"\$`"),
    ({"_chain_": [1], "pick": 1}, r"unknown keys \['pick'\] beside _chain_", r"\$`"),
])
def test_malformed_generators_name_their_spec_path(node, message, where):
    with pytest.raises(SpecError, match=rf"{message}.* - at `{where}"):
        _expand(node)


def test_a_cartesian_product_is_counted_before_it_is_built():
    stages = [{"_range_": [1, 100]} for _ in range(4)]  # 10^8 pipelines
    start = time.perf_counter()
    with pytest.raises(SpecError, match=r"_cartesian_ of 4 stages gives 100000000 pipelines, more than 10000"):
        _expand({"_cartesian_": stages})
    assert time.perf_counter() - start < 1.0
    assert generator_sites({"pipeline": [{"_cartesian_": [{"_or_": [1, 2]}, {"_or_": [3, 4, 5]}]}]}) == [
        ("$.pipeline[0]", "_cartesian_", 6)]


def test_a_cartesian_step_compiles_to_one_path_per_pipeline():
    spec = decode_spec({"target": "fat", "max_chains": 100, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_cartesian_": [{"_or_": [SNV, MSC, None]}, {"_or_": [SG, D1, None]}], "_exclude_": [[]]},
        {"model": {"op": "pls", "n_components": [2, 3]}}]})
    plan = compile_plan(spec, tecator().schema())
    assert len({c.branch_path for c in plan.chains}) == 8 and len(plan.chains) == 16
    assert "snv > savgol(window_length=11)" in {c.branch_name for c in plan.chains}
    too_many = decode_spec({"target": "fat", "max_chains": 10, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}},
        {"_cartesian_": [{"_or_": [SNV, MSC, None]}, {"_or_": [SG, D1, None]}]},
        {"model": {"op": "pls", "n_components": [2, 3]}}]})
    with pytest.raises(CompileError, match=r"18 chains.*max_chains=10"):
        compile_plan(too_many, tecator().schema())
