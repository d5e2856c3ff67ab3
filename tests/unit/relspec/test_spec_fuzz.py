"""Fuzz guard over specs: any mutation of a valid spec (values replaced by random JSON values, keys dropped or
added, steps shuffled, generators injected) either compiles or raises one of nirdag's typed errors — never a bare
Python error, never unbounded work. `NIRDAG_FUZZ_EXAMPLES=5000 pytest tests/unit/relspec/test_spec_fuzz.py` runs
the long campaign; the suite runs a short one."""

from __future__ import annotations

import contextlib
import copy
import os
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import nirdag
from nirs_core.errors import NirdagError

EXAMPLES = int(os.environ.get("NIRDAG_FUZZ_EXAMPLES", "60"))
BASE = {"target": "fat", "seed": 0, "refit": {"top_k": 1}, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "sg": [{"op": "savgol", "window_length": 11, "polyorder": 2, "deriv": 1}]}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 4]}}}]}

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**15, 10**15) | st.floats(allow_nan=True) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12)
generators = st.sampled_from([
    {"_range_": [1, 10**9]}, {"_or_": []}, {"_or_": [1, 2], "pick": 5}, {"_log_range_": [0, 1, 3]},
    {"_grid_": {"a": [1, 2]}}, {"_zip_": {"a": [1], "b": [1, 2]}}, {"_sample_": {"n": -1}}, {"_or_": [{"op": "snv"}]},
])


def _paths(node: Any, prefix: tuple = ()) -> list[tuple]:
    out = [prefix]
    if isinstance(node, dict):
        for k, v in node.items():
            out += _paths(v, (*prefix, k))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out += _paths(v, (*prefix, i))
    return out


def _mutate(spec: dict, data: st.DataObject) -> dict:
    spec = copy.deepcopy(spec)
    for _ in range(data.draw(st.integers(1, 4))):
        where = data.draw(st.sampled_from(_paths(spec)[1:]))
        parent = spec
        for key in where[:-1]:
            parent = parent[key]
        action = data.draw(st.sampled_from(["replace", "generator", "drop", "add"]))
        if action == "replace":
            parent[where[-1]] = data.draw(json_values)
        elif action == "generator":
            parent[where[-1]] = copy.deepcopy(data.draw(generators))
        elif action == "drop" and isinstance(parent, dict):
            parent.pop(where[-1])
        elif action == "add" and isinstance(parent, dict):
            parent[data.draw(st.text(max_size=8))] = data.draw(json_values)
        if not isinstance(spec, dict) or not _paths(spec)[1:]:
            break
    return spec


@pytest.fixture(scope="module")
def tecator():
    return nirdag.datasets.tecator()


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_spec_compiles_or_raises_a_typed_error(tecator, data):
    spec = _mutate(BASE, data)
    with contextlib.suppress(NirdagError):  # a typed error is a right answer; anything else fails the test
        nirdag.compile(spec, tecator)
