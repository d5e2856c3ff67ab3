"""then_pick and then_arrange, the second stage of `_or_` with pick/arrange (nirs4all's semantics): exact
expansions written out by hand, counted before they are built, seeded under count, path errors, and pipelines."""

from __future__ import annotations

import time

import numpy as np
import pytest

from nirs_core.data import tecator
from relspec import SpecError, compile_plan
from relspec.generators import expand, generator_sites
from relspec.spec import decode_spec

A, B, C = "A", "B", "C"


def _expand(value, seed=0, cap=10_000):
    return expand(value, "$", np.random.default_rng(seed), cap)


def test_pick_then_pick_chooses_combinations_of_the_combinations():
    # nirs4all's example: pick 2 of 3 gives [A,B], [A,C], [B,C]; then_pick 2 gives C(3,2) = 3 pairs of them
    assert _expand({"_or_": [A, B, C], "pick": 2, "then_pick": 2}) == [
        [[A, B], [A, C]], [[A, B], [B, C]], [[A, C], [B, C]]]


def test_pick_then_arrange_orders_the_combinations():
    assert _expand({"_or_": [A, B, C], "pick": 2, "then_arrange": 2}) == [
        [[A, B], [A, C]], [[A, B], [B, C]], [[A, C], [A, B]], [[A, C], [B, C]], [[B, C], [A, B]],
        [[B, C], [A, C]]]


def test_a_first_stage_of_one_option_stands_for_the_option():
    assert _expand({"_or_": [A, B, C], "pick": 1, "then_arrange": 2}) == [
        [A, B], [A, C], [B, A], [B, C], [C, A], [C, B]]
    assert _expand({"_or_": [A, B, C], "pick": 1, "then_pick": 3}) == [[A, B, C]]


def test_arrange_then_pick_chooses_among_the_arrangements():
    # arrange 2 of 2 gives [A,B], [B,A]; then_pick 1 gives each alone, then_pick 2 the pair of both
    assert _expand({"_or_": [A, B], "arrange": 2, "then_pick": 1}) == [[[A, B]], [[B, A]]]
    assert _expand({"_or_": [A, B], "arrange": 2, "then_pick": 2}) == [[[A, B], [B, A]]]
    assert _expand({"_or_": [A, B], "arrange": 2, "then_arrange": 2}) == [[[A, B], [B, A]], [[B, A], [A, B]]]


def test_constraints_filter_the_first_stage_and_count_samples_the_result_seeded():
    # pick 2 of A,B,C without [A,B]: [A,C], [B,C]; then_pick 2: the one pair of them
    assert _expand({"_or_": [A, B, C], "pick": 2, "_mutex_": [[A, B]], "then_pick": 2}) == [[[A, C], [B, C]]]
    node = {"_or_": ["a", "b", "c", "d"], "pick": 2, "then_pick": 2, "count": 4}  # C(6, 2) = 15, 4 kept
    every = _expand({k: v for k, v in node.items() if k != "count"})
    first, again, other = _expand(node, seed=1), _expand(node, seed=1), _expand(node, seed=2)
    assert len(every) == 15 and len(first) == 4 and first == again and first != other
    assert [every.index(x) for x in first] == sorted(every.index(x) for x in first)


def test_the_second_stage_is_counted_before_it_is_built():
    node = {"_or_": list(range(30)), "pick": 2, "then_pick": 3}  # C(435, 3) = 13,624,345 alternatives
    start = time.perf_counter()
    with pytest.raises(SpecError, match=r"then_pick: 3 of the 435 results of the first stage gives 13624345 "
                                        r"alternatives, more than 10000 \(max_chains=10000\) - at `\$`"):
        _expand(node)
    assert time.perf_counter() - start < 1.0
    with pytest.raises(SpecError, match=r"gives 13624345 alternatives, more than 200000 \(max_chains=10000, sampled"):
        _expand({**node, "count": 5})
    assert len(_expand({**node, "then_pick": 1})) == 435  # within max_chains once the second stage is small


@pytest.mark.parametrize(("node", "message", "where"), [
    ({"_or_": [A, B], "then_pick": 1}, "a second stage on the results of `pick` or `arrange`", r"\$`"),
    ({"_or_": [A, B], "pick": 1, "then_pick": 1, "then_arrange": 1}, "either `then_pick` or `then_arrange`", r"\$`"),
    ({"_or_": [A, B], "pick": 1, "then_arrange": 3}, r"integer in \[1, 2\] \(the first stage's results\), got 3",
     r"\$\.then_arrange`"),
    ({"_or_": [A, B], "pick": 1, "then_pick": True}, "got True", r"\$\.then_pick`"),
    ({"_cartesian_": [{"_or_": [A, B]}], "then_pick": 1}, r"unknown keys \['then_pick'\] beside _cartesian_", r"\$`"),
])
def test_malformed_second_stages_name_their_spec_path(node, message, where):
    with pytest.raises(SpecError, match=rf"{message}.* - at `{where}"):
        _expand(node)


def test_a_second_stage_in_a_pipeline_is_each_ordering_of_the_steps():
    snv, msc, detrend = {"op": "snv"}, {"op": "msc"}, {"op": "detrend"}
    raw = {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                         {"_or_": [snv, msc, detrend], "pick": 1, "then_arrange": 2},
                                         {"model": {"op": "pls", "n_components": [2]}}]}
    plan = compile_plan(decode_spec(raw), tecator().schema())
    assert sorted(c.preprocessing for c in plan.chains) == [
        "detrend(order=1) > msc", "detrend(order=1) > snv", "msc > detrend(order=1)", "msc > snv",
        "snv > detrend(order=1)", "snv > msc"]
    assert generator_sites(raw) == [("$.pipeline[1]", "_or_", 6)]
    raw["pipeline"][1] = {"_or_": [snv, msc, detrend], "pick": 2, "then_pick": 2}  # pairs of pairs, in sequence
    plan = compile_plan(decode_spec(raw), tecator().schema())
    assert sorted(c.preprocessing for c in plan.chains) == [
        "snv > detrend(order=1) > msc > detrend(order=1)", "snv > msc > msc > detrend(order=1)",
        "snv > msc > snv > detrend(order=1)"]
    raw["pipeline"][1] = {"_or_": [snv, msc], "pick": 1, "then_arrange": 3}
    with pytest.raises(SpecError, match=r"got 3 - at `\$\.pipeline\[1\]\.then_arrange`"):
        decode_spec(raw)
