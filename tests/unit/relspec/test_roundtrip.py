"""Python structs <-> YAML <-> struct round trips, the JSON Schema of the YAML form, and hash stability."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import msgspec
import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nirs_core.data import tecator
from relspec import SpecError, compile_plan, decode_spec, load_spec
from relspec.json_schema import spec_json_schema
from relspec.model_specs import PLSModel
from relspec.operator_specs import transform_specs
from relspec.spec import BranchStep, ModelStep, PipelineSpec, PowerY, SplitStep, YProcessingStep, parse_yaml
from relspec.split_specs import KFoldSplit

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "tecator_pls.yaml"
VALIDATOR = jsonschema.Draft202012Validator(spec_json_schema())


def _yaml_round_trip(spec: PipelineSpec) -> PipelineSpec:
    text = yaml.safe_dump(msgspec.to_builtins(spec), sort_keys=False)
    return decode_spec(parse_yaml(text))


def test_example_round_trips_through_yaml():
    spec = load_spec(EXAMPLE)
    assert _yaml_round_trip(spec) == spec


def test_python_structs_round_trip_through_yaml_and_json():
    step = transform_specs().of
    spec = PipelineSpec(target="fat", name="py", seed=7, pipeline=(
        SplitStep(split=KFoldSplit(n_splits=4)),
        BranchStep(branch={"a": [step("snv")()], "b": [BranchStep(branch={"x": [step("msc")()], "y": []}),
                                                       step("savgol")(window_length=11, deriv=1)]}),
        YProcessingStep(y_processing=PowerY()),
        ModelStep(model=PLSModel(n_components=[2, 5])),
    ))
    assert _yaml_round_trip(spec) == spec
    assert decode_spec(json.loads(msgspec.json.encode(spec))) == spec
    assert not list(VALIDATOR.iter_errors(json.loads(msgspec.json.encode(spec))))


def test_the_schema_accepts_generators_where_the_language_does():
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    raw["pipeline"].insert(1, {"op": "savgol", "window_length": {"_or_": [11, 15]}})
    raw["pipeline"].insert(1, {"_or_": [{"op": "snv"}, {"op": "msc"}], "count": 1})
    assert not list(VALIDATOR.iter_errors(raw))
    decode_spec(raw)


@pytest.mark.parametrize("mutate, where", [
    (lambda r: r["pipeline"].append({"op": "snvv"}), "pipeline"),
    (lambda r: r.update(colour="red"), "colour"),
    (lambda r: r["pipeline"][0]["split"].update(kind="loo"), "kind"),
    (lambda r: r["pipeline"].insert(1, {"y_processing": {"op": "log"}}), "y_processing"),
])
def test_the_schema_and_the_decoder_refuse_the_same_mistakes(mutate, where):
    raw = yaml.safe_load(EXAMPLE.read_text(encoding="utf-8"))
    mutate(raw)
    assert list(VALIDATOR.iter_errors(raw))
    with pytest.raises(SpecError):
        decode_spec(raw)


_TRANSFORMS = st.sampled_from([
    {"op": "snv"}, {"op": "msc"}, {"op": "detrend", "order": 2}, {"op": "savgol", "window_length": 11, "deriv": 1},
    {"op": "vector_norm"}, {"op": "rnv", "percentile": 30.0},
])


def _alternative(depth: int) -> st.SearchStrategy[list[dict[str, Any]]]:
    item = _TRANSFORMS if depth == 0 else st.one_of(_TRANSFORMS, _branch(depth - 1))
    return st.lists(item, max_size=2)


def _branch(depth: int) -> st.SearchStrategy[dict[str, Any]]:
    names = st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True)
    return names.flatmap(lambda ns: st.fixed_dictionaries({n: _alternative(depth) for n in ns})).map(
        lambda b: {"branch": b})


def _count_paths(steps: list[dict[str, Any]]) -> int:
    total = 1
    for step in steps:
        if "branch" in step:
            total *= sum(_count_paths(alt) for alt in step["branch"].values())
    return total


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(steps=st.lists(st.one_of(_TRANSFORMS, _branch(1)), max_size=3), seed=st.integers(0, 2**16))
def test_random_specs_round_trip_validate_and_compile_deterministically(steps, seed):
    raw = {"target": "fat", "seed": seed, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, *steps, {"model": {"op": "pls", "n_components": [1, 3]}}]}
    assert not list(VALIDATOR.iter_errors(raw))
    spec = decode_spec(raw)
    assert _yaml_round_trip(spec) == spec
    schema = _SCHEMA
    plan = compile_plan(spec, schema)
    assert len(plan.chains) == 2 * _count_paths(steps)
    assert compile_plan(decode_spec(raw), schema).plan_hash == plan.plan_hash
    assert len({c.branch_path for c in plan.chains}) == _count_paths(steps)


_SCHEMA = tecator().schema()

_HASHES = """
import hashlib, sys
from nirs_core.data import tecator
from relspec import compile_plan, load_spec
plan = compile_plan(load_spec(sys.argv[1]), tecator().schema())
ids = hashlib.sha256("".join(c.chain_id for c in plan.chains).encode()).hexdigest()
print(plan.dataset_hash, plan.pipeline_hash, plan.plan_hash, ids)
"""


def test_identities_are_stable_across_processes_and_hash_seeds():
    outputs = set()
    for hash_seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run([sys.executable, "-c", _HASHES, str(EXAMPLE)], env=env, capture_output=True,
                              text=True, check=True)
        outputs.add(done.stdout.strip())
    plan = compile_plan(load_spec(EXAMPLE), _SCHEMA)
    assert len(outputs) == 1
    (line,) = outputs
    assert line.split()[:3] == [plan.dataset_hash, plan.pipeline_hash, plan.plan_hash]
