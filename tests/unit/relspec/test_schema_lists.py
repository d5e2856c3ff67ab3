"""`nirdag schema` (spec_json_schema) names every transform, split kind, model and generator keyword the decoder
accepts."""

from __future__ import annotations

import typing

import jsonschema

from nirs_core.operators.registry import DEFAULT_OPERATORS
from relspec.generators import CONSTRAINT_KEYS, GENERATOR_KEYS, SECOND_STAGE_KEYS
from relspec.json_schema import spec_json_schema
from relspec.model_specs import ModelSpec
from relspec.split_specs import SplitSpec

SCHEMA = spec_json_schema()


def _tags(defs: dict, field: str) -> set[str]:
    return {d["properties"][field]["enum"][0] for d in defs.values()
            if field in d.get("properties", {}) and "enum" in d["properties"][field]}


def test_every_operator_split_kind_and_model_is_in_the_schema():
    assert set(DEFAULT_OPERATORS.names) <= _tags(SCHEMA["$defs"], "op")
    for name in ("arpls", "snip", "rolling_ball", "modpoly", "imodpoly", "wavelet_denoise", "dwt_features",
                 "local_snv", "minmax", "pareto", "range_scale", "block_scale", "pca", "epo", "vip_select", "cars",
                 "mc_uve", "ipls", "sr_select"):
        assert name in DEFAULT_OPERATORS.names
    kinds = {t.__struct_config__.tag for t in typing.get_args(SplitSpec)}
    assert {"loo", "repeated_kfold", "venetian_blinds", "contiguous_blocks", "shuffle_split"} <= kinds
    assert kinds <= _tags(SCHEMA["$defs"], "kind")
    models = {t.__struct_config__.tag for t in typing.get_args(ModelSpec)}
    assert {"opls", "lwpls", "kernel_pls"} <= models <= _tags(SCHEMA["$defs"], "op")
    keywords = set(SCHEMA["$defs"]["Generator"]["propertyNames"]["enum"])
    assert {*GENERATOR_KEYS, *CONSTRAINT_KEYS, *SECOND_STAGE_KEYS} <= keywords


def test_the_schema_accepts_a_spec_using_the_new_language():
    spec = {"target": "fat", "pipeline": [
        {"split": {"kind": "repeated_kfold", "n_splits": 5, "n_repeats": 3}},
        {"_cartesian_": [{"_or_": [{"op": "arpls"}, {"op": "snip", "max_half_window": 12}]},
                         {"_or_": [{"op": "pareto"}, None]}], "_mutex_": [[{"op": "arpls"}, {"op": "pareto"}]]},
        {"op": "wavelet_denoise", "wavelet": "sym8"},
        {"model": {"op": "opls", "n_components": {"_range_": [1, 8]}}}]}
    assert not list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(spec))
    bad = {**spec, "pipeline": [{"split": {"kind": "venetian_blinds", "thickness": 0}}, *spec["pipeline"][1:]]}
    assert list(jsonschema.Draft202012Validator(SCHEMA).iter_errors(bad))
