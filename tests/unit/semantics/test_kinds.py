"""View kinds are one closed set; view specs decode strictly and the catalog is made of them."""

from __future__ import annotations

import typing

import msgspec
import pytest

from relspec.policy import ALL_VIEWS, ExecutionPolicy
from semantics import CATALOG, ViewError, decode_view
from semantics.compiler import requirements
from semantics.kinds import Node, ViewKind


def test_the_kind_literal_is_the_set_of_node_tags():
    tags = {member.__struct_config__.tag for member in typing.get_args(Node)}
    assert tags == set(typing.get_args(ViewKind))


def test_catalog_names_are_the_policy_view_names():
    assert tuple(v.name for v in CATALOG) == ALL_VIEWS


@pytest.mark.parametrize("view", CATALOG, ids=lambda v: v.name)
def test_catalog_specs_round_trip_through_json(view):
    assert decode_view(msgspec.json.encode(view)) == view


def test_unknown_kind_is_refused_at_decode():
    bad = b'{"name": "v", "description": "d", "root": {"kind": "pivot", "input": {"kind": "scan", "table": "runs"}}}'
    with pytest.raises(ViewError, match=r"Invalid value 'pivot' - at `\$.root.kind`.*kinds are scan, project"):
        decode_view(bad)


def test_unknown_aggregate_function_and_table_are_refused():
    spec = {"name": "v", "description": "d", "root": {"kind": "aggregate", "input": {"kind": "scan", "table": "runs"},
            "group_by": [], "measures": [{"name": "m", "function": "median", "args": ["x"]}]}}
    with pytest.raises(ViewError, match="median"):
        decode_view(msgspec.json.encode(spec))
    spec["root"]["input"]["table"] = "secrets"
    with pytest.raises(ViewError, match="secrets"):
        decode_view(msgspec.json.encode(spec))


def test_requirements_are_read_off_the_spec():
    views = {v.name: v for v in CATALOG}
    tables, functions = requirements(views["v_aggregated_scores"], ExecutionPolicy())
    assert tables == ("chains", "predictions", "runs", "spectra")
    assert functions == ("bias", "mae", "r2", "rmse", "rpd", "sep")
    assert requirements(views["v_fold_scores"], ExecutionPolicy()) == (("runs", "scores"), ())
