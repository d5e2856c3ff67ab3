"""Unit tests of the pipeline language: loading the example spec and SpecError messages that name the path."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from relspec import PipelineSpec, SpecError, decode_spec, load_spec
from relspec.hashing import sha256_of
from relspec.operator_specs import transform_specs
from relspec.spec import BranchStep, ModelStep, SplitStep
from relspec.split_specs import KFoldSplit

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "tecator_pls.yaml"


@pytest.fixture
def raw() -> dict[str, Any]:
    """The example spec as a plain dict (a fresh deep copy for each test to mutate)."""
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


def _decode_error(obj: Any) -> str:
    with pytest.raises(SpecError) as info:
        decode_spec(obj)
    return str(info.value)


def test_load_example_spec() -> None:
    spec = load_spec(EXAMPLE)
    assert isinstance(spec, PipelineSpec)
    assert (spec.name, spec.target, spec.seed) == ("tecator_pls", "fat", 0)
    assert (spec.refit.metric, spec.refit.top_k) == ("rmse", 1)
    split, branch, model = spec.pipeline
    assert isinstance(split, SplitStep)
    assert split.split == KFoldSplit(n_splits=5, shuffle=True)
    assert isinstance(branch, BranchStep)
    named = dict(branch.named())
    assert list(named) == ["raw", "snv", "sg1", "snv_sg1"]
    assert named["raw"] == ()
    snv, savgol = transform_specs().of("snv"), transform_specs().of("savgol")
    assert named["snv"] == (snv(),)
    sg1 = savgol(window_length=15, polyorder=2, deriv=1)
    assert named["sg1"] == (sg1,)
    assert named["snv_sg1"] == (snv(), sg1)
    assert isinstance(model, ModelStep)
    assert model.model.n_components == list(range(1, 16))
    assert model.model.component_values() == tuple(range(1, 16))


def test_load_spec_accepts_a_string_path_and_a_dict(raw: dict[str, Any]) -> None:
    assert load_spec(str(EXAMPLE)) == load_spec(EXAMPLE) == load_spec(raw)


def test_decoding_the_same_dict_twice_gives_equal_specs(raw: dict[str, Any]) -> None:
    first, second = decode_spec(raw), decode_spec(copy.deepcopy(raw))
    assert first == second
    assert sha256_of(first) == sha256_of(second)  # and the same canonical identity


def test_decoded_spec_is_frozen(raw: dict[str, Any]) -> None:
    spec = decode_spec(raw)
    with pytest.raises(AttributeError):
        spec.target = "protein"  # type: ignore[misc]


def test_unknown_operator_names_its_path_and_lists_known_operators(raw: dict[str, Any]) -> None:
    raw["pipeline"][1]["branch"]["snv"][0]["op"] = "snvv"
    message = _decode_error(raw)
    assert "'snvv'" in message
    assert "`$.pipeline[1].branch.snv[0].op`" in message
    for op in ("snv", "savgol", "detrend", "msc"):
        assert op in message.split("known operators:")[1]


def test_unknown_top_level_operator_step_names_its_path(raw: dict[str, Any]) -> None:
    raw["pipeline"].insert(1, {"op": "wavelet"})
    message = _decode_error(raw)
    assert "`$.pipeline[1].op`" in message
    assert "known operators: snv, savgol, detrend, msc" in message


def test_unknown_field_names_the_field_and_its_path(raw: dict[str, Any]) -> None:
    raw["pipeline"][1]["branch"]["sg1"][0]["window"] = 11
    message = _decode_error(raw)
    assert "unknown field `window`" in message
    assert "`$.pipeline[1].branch.sg1[0]`" in message


def test_unknown_top_level_field_names_the_root_path(raw: dict[str, Any]) -> None:
    raw["seeed"] = 3
    message = _decode_error(raw)
    assert "`seeed`" in message
    assert "`$`" in message


def test_n_components_as_a_string_names_its_path(raw: dict[str, Any]) -> None:
    raw["pipeline"][2]["model"]["n_components"] = "15"
    message = _decode_error(raw)
    assert "got `str`" in message
    assert "`$.pipeline[2].model.n_components`" in message


def test_step_with_two_keys_names_the_keys_and_its_path(raw: dict[str, Any]) -> None:
    raw["pipeline"][0]["model"] = {"op": "pls", "n_components": 3}
    message = _decode_error(raw)
    assert "['model', 'split']" in message
    assert "`$.pipeline[0]`" in message


def test_missing_target_names_the_field(raw: dict[str, Any]) -> None:
    del raw["target"]
    message = _decode_error(raw)
    assert "missing required field `target`" in message
    assert "`$`" in message


@pytest.mark.parametrize("pipeline", [{"split": {}}, "split", None])
def test_pipeline_that_is_not_a_list_is_rejected(raw: dict[str, Any], pipeline: Any) -> None:
    raw["pipeline"] = pipeline
    assert "`$.pipeline` must be a list" in _decode_error(raw)


def test_top_level_that_is_not_a_mapping_is_rejected() -> None:
    assert "mapping at the top level" in _decode_error(["not", "a", "mapping"])


def test_window_length_below_minimum_names_its_path(raw: dict[str, Any]) -> None:
    raw["pipeline"][1]["branch"]["sg1"][0]["window_length"] = 1
    message = _decode_error(raw)
    assert ">= 3" in message
    assert "`$.pipeline[1].branch.sg1[0].window_length`" in message


def test_error_from_a_file_names_the_file_and_the_spec_path(tmp_path: Path, raw: dict[str, Any]) -> None:
    raw["pipeline"][1]["branch"]["snv"][0]["op"] = "snvv"
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(raw), encoding="utf-8")
    with pytest.raises(SpecError) as info:
        load_spec(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ")
    assert "`$.pipeline[1].branch.snv[0].op`" in message


def test_yaml_syntax_error_raises_spec_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("target: fat\npipeline: [\n  - split: {kind: kfold\n", encoding="utf-8")
    with pytest.raises(SpecError, match="not valid YAML") as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_missing_spec_file_raises_spec_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "absent.yaml"
    with pytest.raises(SpecError, match="not found") as info:
        load_spec(path)
    assert str(path) in str(info.value)


def test_positional_branches_are_named_by_index(raw: dict[str, Any]) -> None:
    raw["pipeline"][1] = {"branch": [[], [{"op": "snv"}]]}
    branch = decode_spec(raw).pipeline[1]
    assert isinstance(branch, BranchStep)
    assert [name for name, _ in branch.named()] == ["branch_0", "branch_1"]


@pytest.mark.parametrize(("spec", "expected"), [
    ({"target": "fat", "pipline": []}, "unknown field `pipline` (did you mean `pipeline`?)"),
    ({"target": "fat"}, "`$.pipeline` is missing"),
    ({"target": "fat", "pipeline": [{"model": {"op": "pls", "n_component": {"_range_": [1, 5]}}}]},
     "unknown field `n_component` (did you mean `n_components`?); expected one of: n_components, scale - at "
     "`$.pipeline[0].model`"),
    ({"target": "fat", "refit": {"topk": 1}, "pipeline": []},
     "unknown field `topk` (did you mean `top_k`?); expected one of: alpha, level, metric, permutations, r_threshold, "
     "select, target, top_k - at `$.refit`"),
    ({"target": "fat", "pipeline": [{"split": {"kind": "kfold", "nsplits": 3}}]},
     "(did you mean `n_splits`?); expected one of: group_replicates, n_splits, shuffle - at `$.pipeline[0].split`"),
    ({"target": "fat", "pipeline": [{"op": "savgol", "windw_length": 11}]},
     "(did you mean `window_length`?); expected one of: deriv, polyorder, window_length - at `$.pipeline[0]`"),
])
def test_a_typo_names_the_unknown_field_and_the_closest_known_one(spec, expected):
    with pytest.raises(SpecError) as info:
        decode_spec(spec)
    assert expected in str(info.value)
