"""The pipeline language derived from the operator registry: a test-only operator added with one registry line is
in the JSON Schema, decodes, compiles and runs; every declared bound is refused by the spec and by the operator."""

from __future__ import annotations

import pickle
from types import MappingProxyType
from typing import Any

import jsonschema
import msgspec
import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.utils.validation import validate_data

import nirdag
from nirs_core.data import tecator
from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params
from nirs_core.operators.registry import DEFAULT_OPERATORS, class_path
from relspec import SpecError, compile_plan, decode_spec
from relspec.hashing import sha256_of
from relspec.json_schema import spec_json_schema
from relspec.operator_map import instantiate, operator_class, transform_ref
from relspec.operator_specs import transform_specs


class Gamma(Operator):
    """Raise every value to the power ``gamma`` (test-only operator: defined here, never in nirs_core).

    Parameters
    ----------
    gamma : float, default=1
        The exponent, in (0, 4].
    """

    spec_name = "gamma"
    traits = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({"gamma": Param(float, gt=0, le=4)})

    def __init__(self, gamma: float = 1.0):
        self.gamma = gamma

    def fit(self, X, y=None):
        validate_data(self, X, dtype=np.float64)
        check_params(self)
        return self

    def transform(self, X):
        X = validate_data(self, X, dtype=np.float64, reset=False)
        check_params(self)
        return X ** float(self.gamma)


EXTENDED = DEFAULT_OPERATORS.with_operators(Gamma)  # the one registry line of this operator
TECATOR = tecator()


def _spec(*steps: dict[str, Any], n_components: Any = 2) -> dict[str, Any]:
    return {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, *steps,
                                          {"model": {"op": "pls", "n_components": n_components}}]}


def _error(raw: dict[str, Any], **kw: Any) -> str:
    with pytest.raises(SpecError) as info:
        decode_spec(raw, **kw)
    return str(info.value)


# --- extending the registry -----------------------------------------------------------------------------------


def test_extending_gives_a_new_registry_and_leaves_the_default_one_alone() -> None:
    assert EXTENDED.names == (*DEFAULT_OPERATORS.names, "gamma")
    assert "gamma" not in DEFAULT_OPERATORS.names
    assert EXTENDED.get("gamma") is Gamma
    assert DEFAULT_OPERATORS.with_operators(Gamma) == EXTENDED  # equal registries share their derived structs
    assert transform_specs(DEFAULT_OPERATORS.with_operators(Gamma)) is transform_specs(EXTENDED)


def test_the_json_schema_of_the_extended_registry_describes_the_new_operator() -> None:
    schema = spec_json_schema(EXTENDED)
    step = schema["$defs"]["GammaStep"]
    assert step["properties"]["op"] == {"enum": ["gamma"]}
    assert step["properties"]["gamma"]["anyOf"][0] == {
        "type": "number", "exclusiveMinimum": 0, "maximum": 4, "default": 1.0}
    assert step["description"].startswith("Raise every value to the power")
    assert {"$ref": "#/$defs/GammaStep"} in schema["$defs"]["Transform"]["anyOf"]
    raw = _spec({"op": "gamma", "gamma": 2.0})
    assert not list(jsonschema.Draft202012Validator(schema).iter_errors(raw))
    assert list(jsonschema.Draft202012Validator(schema).iter_errors(_spec({"op": "gamma", "gamma": 5})))
    assert list(jsonschema.Draft202012Validator(spec_json_schema()).iter_errors(raw))
    assert "GammaStep" not in spec_json_schema()["$defs"]


def test_only_the_extended_registry_decodes_the_new_operator() -> None:
    message = _error(_spec({"op": "gamma"}))
    assert "Invalid value 'gamma' - at `$.pipeline[1].op`" in message and "gamma" not in message.split(":")[-1]
    spec = decode_spec(_spec({"op": "gamma", "gamma": 2}), operators=EXTENDED)
    assert spec.pipeline[1] == transform_specs(EXTENDED).of("gamma")(gamma=2.0)
    assert "did you mean 'gamma'?" in _error(_spec({"op": "gama"}), operators=EXTENDED)
    assert _error(_spec({"op": "gama"}), operators=EXTENDED).endswith(f"known operators: {', '.join(EXTENDED.names)}")


@pytest.mark.parametrize(("value", "expected"), [
    (0, "Expected `float` > 0"), (4.5, "Expected `float` <= 4"), ("2", "Expected `float`, got `str`"),
])
def test_the_spec_refuses_a_bad_value_of_the_new_operator_with_its_path(value: object, expected: str) -> None:
    raw = _spec({"branch": {"a": [{"op": "gamma", "gamma": value}]}})
    message = _error(raw, operators=EXTENDED)
    assert expected in message and "`$.pipeline[1].branch.a[0].gamma`" in message


def test_a_spec_using_the_new_operator_compiles_to_a_step_ref_of_its_class() -> None:
    spec = decode_spec(_spec({"op": "gamma", "gamma": 0.5}, {"op": "snv"}), operators=EXTENDED)
    ref = transform_ref(spec.pipeline[1])
    assert (ref.op, ref.class_path, ref.params, ref.label) == ("gamma", class_path(Gamma), {"gamma": 0.5},
                                                               "gamma(gamma=0.5)")
    assert ref.step_hash == sha256_of(class_path(Gamma), {"gamma": 0.5}) and ref.row_wise_stateless
    assert isinstance(instantiate(ref), Gamma) and instantiate(ref).gamma == 0.5
    plan = compile_plan(spec, TECATOR.schema())
    snv = transform_specs().of("snv").operator
    assert [node.step.class_path for node in plan.hoisted] == [class_path(Gamma), class_path(snv)]
    assert plan.chains[0].preprocessing == "gamma(gamma=0.5) > snv"


def test_a_run_on_tecator_fits_the_new_operator_like_scikit_learn_would(tmp_path) -> None:
    spec = decode_spec(_spec({"op": "gamma", "gamma": 2.0}, n_components=[1, 3]), operators=EXTENDED)
    run = nirdag.run(spec, TECATOR, workspace=tmp_path / "ws")
    rows = run.sql("SELECT c.n_components, c.preprocessing, s.value FROM chains c JOIN scores s USING (run_id, "
                   "chain_id) WHERE s.fold_id = 'cv' AND s.metric = 'rmse' ORDER BY c.n_components").to_pylist()
    assert [(r["n_components"], r["preprocessing"]) for r in rows] == [(1, "gamma(gamma=2.0)"),
                                                                      (3, "gamma(gamma=2.0)")]
    train = TECATOR.rows("train")
    X, y = TECATOR.spectra[train], TECATOR.target("fat")[train]
    for row in rows:
        model = make_pipeline(Gamma(gamma=2.0), PLSRegression(row["n_components"], scale=False))
        pred = cross_val_predict(model, X, y, cv=KFold(3, shuffle=True, random_state=0)).ravel()
        assert row["value"] == pytest.approx(float(np.sqrt(np.mean((pred - y) ** 2))), abs=1e-9)


def test_decoded_steps_pickle_and_stay_equal() -> None:
    spec = decode_spec(_spec({"op": "savgol", "window_length": 11}, {"op": "gamma"}), operators=EXTENDED)
    assert pickle.loads(pickle.dumps(spec)) == spec
    assert msgspec.to_builtins(spec.pipeline[2]) == {"op": "gamma", "gamma": 1.0}


def test_a_step_reference_resolves_only_to_an_operator_or_a_scikit_learn_estimator() -> None:
    assert operator_class(class_path(Gamma)) is Gamma
    for path in ("os.system", "json.JSONDecoder", "no_such_module.Op", "Gamma"):
        with pytest.raises(SpecError, match="names neither a nirdag operator nor a scikit-learn estimator"):
            operator_class(path)


# --- every declared bound, from the declarations ----------------------------------------------------------------

_REQUIRED = {  # values for the parameters a spec must give (containers have no declared bounds to derive them)
    "savgol": {"window_length": 11}, "crop": {"start": 900.0, "stop": 1000.0},
    "mask_bands": {"bands": [[900.0, 910.0]]},
    "resample": {"new_wavelengths": [900.0, 950.0]},
    "epo": {"differences": [[float(i % 3) for i in range(40)], [float(i % 5) for i in range(40)]]},
}


def _violations(param: Param) -> list[object]:
    """Values the declaration refuses: a wrong type, and one step past each bound."""
    if param.type is str:
        return ["no-such-option", 3]
    step = 1 if param.type is int else 0.5
    bad: list[object] = ["1", True, *([2.5] if param.type is int else [])]
    bad += [] if param.ge is None else [param.ge - step]
    bad += [] if param.gt is None else [param.gt]
    bad += [] if param.le is None else [param.le + step]
    bad += [] if param.lt is None else [param.lt]
    return bad


_CASES = [
    pytest.param(cls, name, value, id=f"{cls.spec_name}.{name}={value!r}")
    for cls in DEFAULT_OPERATORS.operators
    for name, param in cls.parameter_constraints.items() if param.in_spec and param.checked_here
    for value in _violations(param)
]


def _fit(cls: type[Operator], params: dict[str, Any]) -> None:
    axis = np.linspace(850.0, 1050.0, 40)
    extra = {"wavelengths": axis} if cls.traits.wavelength_aware else {}
    X = np.random.default_rng(0).uniform(0.1, 0.9, (12, axis.size))
    cls(**params, **extra).fit(X, np.arange(12.0))


@pytest.mark.parametrize(("cls", "name", "value"), _CASES)
def test_every_declared_bound_is_refused_by_the_spec_and_by_the_operator(cls, name: str, value: object) -> None:
    params = {**_REQUIRED.get(cls.spec_name, {}), name: value}
    message = _error(_spec({"op": cls.spec_name, **params}))
    assert f"- at `$.pipeline[1].{name}`" in message
    with pytest.raises(ValueError, match=f"^{cls.__name__}: {name} must be "):
        _fit(cls, params)


def test_there_are_bounds_to_check() -> None:
    assert len(_CASES) > 60


@pytest.mark.parametrize(("op", "name"), [("savgol", "window_length"), ("gap_derivative", "segment"),
                                          ("gap_derivative", "gap")])
def test_an_even_value_of_an_odd_parameter_is_refused_by_the_schema_and_the_operator(op: str, name: str) -> None:
    cls = DEFAULT_OPERATORS.get(op)
    assert cls.parameter_constraints[name].odd
    params = {**_REQUIRED.get(op, {}), name: 4}
    assert list(jsonschema.Draft202012Validator(spec_json_schema()).iter_errors(_spec({"op": op, **params})))
    with pytest.raises(ValueError, match=f"{name} must be an odd integer"):
        _fit(cls, params)


@pytest.mark.parametrize("cls", DEFAULT_OPERATORS.operators, ids=DEFAULT_OPERATORS.names)
def test_a_spec_step_with_only_its_required_values_configures_the_operator_with_its_defaults(cls) -> None:
    required = _REQUIRED.get(cls.spec_name, {})
    ref = transform_ref(decode_spec(_spec({"op": cls.spec_name, **required})).pipeline[1])
    built = {k: v for k, v in instantiate(ref).get_params().items() if k != "wavelengths"}
    default = {k: v for k, v in cls(**required).get_params().items() if k != "wavelengths"}
    assert msgspec.json.encode(built) == msgspec.json.encode(default)
