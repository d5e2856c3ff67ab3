"""The tuning language: `tune:` and `_tune_` markers decoded, bad ones refused with the spec path."""

from __future__ import annotations

import copy

import pytest

from relspec.errors import SpecError
from relspec.json_schema import spec_json_schema
from relspec.spec import decode_spec
from relspec.tune_spec import TunedParam, grid_size, substitute, tuned_params
from relspec.tuning import trial_spec

SPEC = {
    "target": "fat", "tune": {"n_trials": 5, "sampler": "tpe"},
    "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5}},
        {"op": "savgol", "window_length": {"_tune_": {"low": 5, "high": 21, "step": 2}},
         "deriv": {"_tune_": {"choices": [0, 1, 2]}}},
        {"model": {"op": "pls", "n_components": {"_tune_": {"low": 1, "high": 15}}}},
    ],
}
WINDOW, DERIV, COMPONENTS = "$.pipeline[1].window_length", "$.pipeline[1].deriv", "$.pipeline[2].model.n_components"


def _with(change) -> dict:
    spec = copy.deepcopy(SPEC)
    change(spec)
    return spec


def test_markers_are_found_with_their_paths_and_kinds():
    spec = decode_spec(SPEC)
    params = tuned_params(SPEC)
    assert [(p.path, p.kind) for p in params] == [(WINDOW, "int"), (DERIV, "categorical"), (COMPONENTS, "int")]
    assert spec.tune.n_trials == 5 and spec.tune.sampler == "tpe"
    # the decoded steps hold the first point of every marker
    assert spec.pipeline[1].window_length == 5 and spec.pipeline[1].deriv == 0
    assert spec.pipeline[2].model.n_components == 1


def test_a_float_range_with_log_is_a_float_marker():
    raw = _with(lambda s: s["pipeline"].insert(1, {"op": "asls", "lam": {"_tune_": {"low": 100, "high": 1e7,
                                                                                      "log": True}}}))
    spec = decode_spec(raw)
    lam = next(p for p in tuned_params(raw) if p.path == "$.pipeline[1].lam")
    assert lam.kind == "float" and lam.log and (lam.low, lam.high) == (100.0, 1e7)
    assert spec.pipeline[1].lam == 100.0


def test_a_value_the_operator_refuses_at_a_bound_names_the_marker():
    with pytest.raises(SpecError, match=r"the tuned value at `\$\.pipeline\[1\]\.p` cannot be 1\.5"):
        decode_spec(_with(lambda s: s["pipeline"].insert(
            1, {"op": "asls", "p": {"_tune_": {"low": 0.01, "high": 1.5}}})))


def test_a_trial_is_the_spec_with_its_values_and_no_tune_block():
    values = {WINDOW: 11, DERIV: 1, COMPONENTS: 7}
    spec = trial_spec(SPEC, values, seed=0)
    assert spec.tune is None
    assert (spec.pipeline[1].window_length, spec.pipeline[1].deriv, spec.pipeline[2].model.n_components) == (11, 1, 7)
    plain = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5}}, {"op": "savgol", "window_length": 11, "deriv": 1},
        {"model": {"op": "pls", "n_components": 7}}]})
    assert spec == plain


def test_substitute_refuses_a_missing_value():
    with pytest.raises(SpecError, match=r"no value for the tuned value at `\$\.pipeline\[1\]\.deriv`"):
        substitute(SPEC, {WINDOW: 11, COMPONENTS: 7})


def test_grid_values_enumerate_choices_and_stepped_ranges():
    params = tuned_params(SPEC)
    assert params[0].grid_values() == [5, 7, 9, 11, 13, 15, 17, 19, 21]
    assert params[1].grid_values() == [0, 1, 2]
    assert grid_size(params) == 9 * 3 * 15
    stepped = TunedParam(path="$.x", kind="float", low=0.1, high=0.5, step=0.1)
    assert stepped.grid_values() == pytest.approx([0.1, 0.2, 0.3, 0.4, 0.5], abs=1e-12)
    assert stepped.grid_count() == 5


def test_grid_over_a_float_range_without_step_names_the_marker():
    with pytest.raises(SpecError, match=r"needs a `step`.* - at `\$\.x\._tune_`"):
        TunedParam(path="$.x", kind="float", low=0.1, high=0.5).grid_values()


@pytest.mark.parametrize(("change", "message"), [
    (lambda s: s["pipeline"][1].update(windw=s["pipeline"][1].pop("window_length")),
     r"unknown field `windw`.* - at `\$\.pipeline\[1\]`"),
    (lambda s: s["pipeline"][2]["model"].update(n_components={"_tune_": {"low": 0, "high": 3}}),
     r"Expected `int` >= 1 - at `\$\.pipeline\[2\]\.model\.n_components`"),
    (lambda s: s["pipeline"][2]["model"].update(n_components={"_tune_": {"choices": [2, "many"]}}),
     r"the tuned value at `\$\.pipeline\[2\]\.model\.n_components` cannot be 'many'"),
    (lambda s: s["pipeline"][2]["model"].update(n_components={"_tune_": {"low": 5, "high": 3}}),
     r"low=5 is above high=3.* - at `\$\.pipeline\[2\]\.model\.n_components\._tune_`"),
    (lambda s: s["pipeline"][2]["model"].update(n_components={"_tune_": {"low": 0, "high": 3, "log": True}}),
     r"`log: true` needs low > 0"),
    (lambda s: s["pipeline"][1].update(deriv={"_tune_": {"choices": []}}), r"`choices` is empty"),
    (lambda s: s["pipeline"][1].update(deriv={"_tune_": {"low": 1}}), r"needs both `low` and `high`"),
    (lambda s: s["pipeline"][1].update(deriv={"_tune_": {"choices": [0], "low": 1}}), r"`choices` stands alone"),
    (lambda s: s["pipeline"][1].update(deriv={"_tune_": {"lo": 1, "high": 2}}), r"unknown field `lo`"),
    (lambda s: s["pipeline"][1].update(deriv={"_tune_": {"choices": [0, 1]}, "x": 1}),
     r"mapping of the one key `_tune_`"),
    (lambda s: s.pop("tune"), r"need a top-level `tune:` block.* - at `\$\.pipeline\[1\]\.window_length`"),
    (lambda s: s["pipeline"][0]["split"].update(n_splits={"_tune_": {"low": 3, "high": 5}}),
     r"the split cannot be tuned.* - at `\$\.pipeline\[0\]\.split\.n_splits`"),
    (lambda s: s["pipeline"].insert(1, {"op": "snv"}) or s["pipeline"].__setitem__(
        1, {"_or_": [{"op": "snv"}, {"op": "msc"}]}), r"cannot use generators.* - at `\$\.pipeline\[1\]`"),
    (lambda s: s.update(name={"_tune_": {"choices": ["a", "b"]}}), r"only values of the pipeline's steps.*`\$\.name`"),
    (lambda s: s.update(tune={"sampler": "bayes"}), r"`\$\.tune\.sampler`"),
    (lambda s: s.update(tune={"n_trials": 0}), r"`\$\.tune\.n_trials`"),
])
def test_bad_tuning_is_refused_naming_the_spec_path(change, message):
    with pytest.raises(SpecError, match=message):
        decode_spec(_with(change))


def test_a_tune_block_with_nothing_to_tune_is_refused():
    plain = {"target": "fat", "tune": {"n_trials": 3}, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5}}, {"model": {"op": "pls", "n_components": 3}}]}
    with pytest.raises(SpecError, match=r"`tune:` has nothing to tune.* - at `\$\.tune`"):
        decode_spec(plain)


def test_the_editor_schema_accepts_a_tuned_spec_and_refuses_a_bad_marker():
    jsonschema = pytest.importorskip("jsonschema")
    schema = spec_json_schema()
    jsonschema.validate(SPEC, schema)
    bad = _with(lambda s: s["pipeline"][1].update(deriv={"_tune_": {"lo": 0, "high": 2}}))
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(bad, schema)
