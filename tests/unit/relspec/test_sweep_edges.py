"""The edge-of-range finding of a swept step parameter: the best chain's value against the values tried by the chains
that differ from it in that parameter only, at least three of them, the smallest or the largest."""

from __future__ import annotations

import pytest

from nirs_core.data import tecator
from relspec.compile import compile_plan
from relspec.spec import decode_spec
from relspec.sweep_edges import swept_edges

SCHEMA = tecator().schema()


def _plan(step: dict, *before: dict):
    return compile_plan(decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, *before, step,
        {"model": {"op": "pls", "n_components": [2, 3]}}]}), SCHEMA)


def _chain(plan, label: str, n_components: int = 2) -> str:
    (chain,) = [c for c in plan.chains if c.preprocessing == label and c.n_components == n_components]
    return chain.chain_id


SAVGOL = "savgol(window_length={w}, polyorder=2, deriv=0)"


@pytest.mark.parametrize(("window", "edge"), [(5, "smallest"), (9, None), (13, "largest")])
def test_a_best_value_at_either_end_of_a_range_is_a_warning(window, edge):
    plan = _plan({"op": "savgol", "window_length": {"_range_": [5, 13, 4]}, "polyorder": 2})
    found = swept_edges(plan, _chain(plan, SAVGOL.format(w=window), 3),
                        [("$.pipeline[1].window_length", "_range_", 3)])
    if edge is None:
        assert found == ()
        return
    (finding,) = found
    assert (finding.code, finding.severity, finding.path) == ("swept_at_edge", "warning", "$.pipeline[1].window_length")
    assert f"savgol window_length={window}, the {edge} of the values the run tried (5, 9, 13)" in finding.message


def test_two_values_are_no_range_and_other_parameters_are_not_compared():
    plan = _plan({"op": "savgol", "window_length": {"_or_": [5, 13]}, "polyorder": 2})
    assert swept_edges(plan, _chain(plan, SAVGOL.format(w=13))) == ()
    # 5 and 9 with polyorder 2, 13 with polyorder 3: no chain differs from another in the window alone thrice
    plan = _plan({"_or_": [{"op": "savgol", "window_length": 5, "polyorder": 2},
                           {"op": "savgol", "window_length": 9, "polyorder": 2},
                           {"op": "savgol", "window_length": 13, "polyorder": 3}]})
    assert all(swept_edges(plan, c.chain_id) == () for c in plan.chains)


def test_the_values_tried_are_those_of_the_chains_equal_but_for_the_parameter():
    # msc chains try windows 5..13, snv chains too: the best snv chain is judged against the snv chains only
    plan = _plan({"op": "savgol", "window_length": {"_or_": [5, 9, 13]}, "polyorder": 2},
                 {"_or_": [{"op": "snv"}, {"op": "msc"}]})
    (finding,) = swept_edges(plan, _chain(plan, "snv > " + SAVGOL.format(w=13)))
    assert "(5, 9, 13)" in finding.message and finding.path == "$.pipeline"  # no generator site given
    assert swept_edges(plan, _chain(plan, "msc > " + SAVGOL.format(w=9))) == ()
    # a chain without steps, or one not in the plan, has nothing to say
    raw = compile_plan(decode_spec({"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}},
                                                                   {"model": {"op": "pls", "n_components": [2]}}]}),
                       SCHEMA)
    assert swept_edges(raw, raw.chains[0].chain_id) == () and swept_edges(plan, "0" * 64) == ()
