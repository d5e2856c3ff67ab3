"""The PolicyValidation artifact: findings tied to spec paths, the hoist-hazard check, and its golden JSON form."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from nirs_core.data import tecator
from relspec import CompileError, RuntimePolicy, compile_plan, decode_spec, load_spec
from relspec.compile import _probe_path
from relspec.hashing import sha256_of
from relspec.layout import Path as SpecPath
from relspec.model_specs import PLSModel
from relspec.plan import StepRef
from relspec.validation import PolicyValidation, decode_validation

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "examples" / "tecator_pls.yaml"
GOLDEN = ROOT / "tests" / "golden" / "policy_validation_tecator_example.json"


@pytest.fixture(scope="module")
def schema():
    return tecator().schema()


def _compile(schema, pipeline: list[dict], runtime: RuntimePolicy | None = None):
    return compile_plan(decode_spec({"target": "fat", "pipeline": pipeline}), schema, runtime)


def _codes(plan) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for f in plan.validation.findings:
        out.setdefault(f.code, []).append(f.path)
    return out


def test_golden_policy_validation_of_the_example(schema):
    """The JSON form is pinned; regenerate with NIRDAG_UPDATE_GOLDEN=1 after an intended change."""
    validation = compile_plan(load_spec(EXAMPLE), schema).validation
    text = json.dumps(json.loads(validation.to_json()), indent=2, sort_keys=True) + "\n"
    if os.environ.get("NIRDAG_UPDATE_GOLDEN"):
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")
    assert decode_validation(GOLDEN.read_bytes()) == validation


def test_golden_file_of_a_newer_or_unknown_shape_is_refused():
    data = json.loads(GOLDEN.read_text(encoding="utf-8"))
    data["unexpected"] = 1
    with pytest.raises(Exception, match="unknown field"):
        decode_validation(json.dumps(data).encode())


def test_hoisted_steps_are_reported_at_their_first_spec_path(schema):
    plan = compile_plan(load_spec(EXAMPLE), schema)
    codes = _codes(plan)
    assert codes["hoisted_step"] == ["$.pipeline[1].branch.snv[0]", "$.pipeline[1].branch.sg1[0]",
                                     "$.pipeline[1].branch.snv_sg1[1]"]
    (shared,) = plan.validation.of("info")[-1:]
    assert shared.code == "shared_prefix" and "compile to 3 shared node(s)" in shared.message


def test_fitted_step_before_split_is_a_warning_naming_its_path(schema):
    plan = _compile(schema, [{"op": "snv"}, {"op": "msc"}, {"split": {"kind": "kfold"}},
                             {"model": {"op": "pls", "n_components": 3}}])
    warnings = plan.validation.of("warning")
    assert [(w.code, w.path) for w in warnings] == [("fitted_before_split", "$.pipeline[1]")]
    assert "msc" in warnings[0].message


def test_identical_paths_share_one_fitted_node(schema):
    plan = _compile(schema, [{"split": {"kind": "kfold", "n_splits": 4}},
                             {"branch": {"a": [{"op": "msc"}], "b": [{"op": "msc"}]}},
                             {"model": {"op": "pls", "n_components": 3}}])
    assert len(plan.groups) == 1 and len({c.chain_id for c in plan.chains}) == 2
    assert any(f.code == "shared_fit" and "4 fold fits instead of 8" in f.message for f in plan.validation.findings)


def test_workers_beyond_the_dag_width_are_capped_with_a_warning(schema):
    plan = _compile(schema, [{"split": {"kind": "kfold", "n_splits": 3}}, {"model": {"op": "pls", "n_components": 3}}],
                    RuntimePolicy(executor="processes", workers=16))
    assert plan.policy.workers == 3
    assert [w.code for w in plan.validation.of("warning")] == ["workers_capped"]


def test_y_processing_is_recorded(schema):
    plan = _compile(schema, [{"split": {"kind": "kfold"}}, {"y_processing": {"op": "minmax"}},
                             {"model": {"op": "pls", "n_components": 3}}])
    assert _codes(plan)["y_processing"] == ["$.pipeline[1].y_processing"]
    assert plan.y_transform is not None and plan.groups[0].y_transform == plan.y_transform


def test_a_step_that_is_not_row_wise_cannot_be_hoisted():
    """A step claiming row-wise statelessness whose rows depend on other rows is a hoist hazard (leakage)."""
    liar = StepRef(op="liar", class_path="sklearn.preprocessing._data.StandardScaler", params={},
                   step_hash=sha256_of("liar"), row_wise_stateless=True, label="liar")
    path = SpecPath(branch_path=(), name="main", steps=(liar,), where=("$.pipeline[2]",),  # type: ignore[arg-type]
                    model=PLSModel(n_components=2), model_where="$.pipeline[3].model")
    model = StepRef(op="pls", class_path="nirs_core.operators.pls.PLSSweep", params={"n_components": 2},
                    step_hash=sha256_of("m"), row_wise_stateless=False, label="pls")
    with pytest.raises(CompileError, match=r"hoist hazard at `\$\.pipeline\[2\]`: liar"):
        _probe_path([liar], path, 40, 10, model)


def test_every_operator_declared_row_wise_passes_the_hoist_check(schema):
    """The real row-wise operators pass the same check (else the example would not compile)."""
    plan = _compile(schema, [{"split": {"kind": "kfold"}}, {"op": "snv"}, {"op": "rnv"}, {"op": "detrend"},
                             {"op": "savgol", "window_length": 9}, {"op": "vector_norm"}, {"op": "area_norm"},
                             {"op": "max_norm"}, {"op": "gaussian", "sigma": 2.0}, {"op": "derivative"},
                             {"model": {"op": "pls", "n_components": 2}}])
    assert len(plan.hoisted) == 9
    assert np.all([h.step.row_wise_stateless for h in plan.hoisted])


def test_validation_is_part_of_the_plan_identity(schema):
    a = compile_plan(load_spec(EXAMPLE), schema)
    b = compile_plan(load_spec(EXAMPLE), schema, RuntimePolicy(cache=False))
    assert isinstance(a.validation, PolicyValidation)
    assert a.plan_hash != b.plan_hash and a.pipeline_hash == b.pipeline_hash
