"""The operator registry and the parameter declarations: what the registry holds and refuses, how a Param checks
and describes values, and every public class of nirs_core.operators documented (numpydoc, runnable examples)."""

from __future__ import annotations

import doctest
import importlib
import inspect
import pkgutil
import re
from types import MappingProxyType

import numpy as np
import pytest
from sklearn.base import BaseEstimator

import nirs_core.operators as ops
from nirs_core.operators.base import Operator, OperatorTraits
from nirs_core.operators.params import Param, check_params
from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry, check_operator, estimator_classes

# --- the registry ---------------------------------------------------------------------------------------------


def test_the_default_registry_lists_the_spec_operators_in_their_documented_order() -> None:
    # the order of "known operators" messages; a new operator goes after these
    assert DEFAULT_OPERATORS.names[:22] == (
        "snv", "savgol", "detrend", "msc", "rnv", "emsc", "area_norm", "vector_norm", "max_norm", "mean_centre",
        "autoscale", "absorbance", "kubelka_munk", "gap_derivative", "derivative", "gaussian", "asls", "airpls",
        "crop", "mask_bands", "resample", "osc",
    )
    assert DEFAULT_OPERATORS.get("savgol") is ops.SavitzkyGolay
    with pytest.raises(KeyError, match="no operator named 'wavelet'; known operators: snv, savgol"):
        DEFAULT_OPERATORS.get("wavelet")


def test_every_estimator_the_package_exports_is_known_to_the_registry_module() -> None:
    # so the operator map and the bundle allow-list, both derived from estimator_classes, cover them all
    exported = {getattr(ops, name) for name in ops.__all__}
    estimators = {c for c in exported if isinstance(c, type) and issubclass(c, BaseEstimator)}
    assert estimators <= set(estimator_classes())
    assert len(estimator_classes()) == len(set(estimator_classes()))


def test_the_registry_is_immutable_and_extends_into_a_new_one() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_OPERATORS.operators = ()  # type: ignore[misc]
    extended = DEFAULT_OPERATORS.with_operators(_Shift)
    assert extended.names[-1] == "shift" and "shift" not in DEFAULT_OPERATORS.names
    assert extended.operators[:-1] == DEFAULT_OPERATORS.operators


class _Shift(Operator):
    spec_name = "shift"
    traits = OperatorTraits(row_wise_stateless=True)
    parameter_constraints = MappingProxyType({"by": Param(float)})

    def __init__(self, by: float = 0.0):
        self.by = by


class _NoOwnName(ops.SNV):
    """Inherits ``spec_name = "snv"``: registering it by mistake must not silently shadow SNV."""


class _Undeclared(_Shift):
    spec_name = "undeclared"

    def __init__(self, by: float = 0.0, scale: float = 1.0):
        self.by = by
        self.scale = scale


class _BadDefault(_Shift):
    spec_name = "bad_default"
    parameter_constraints = MappingProxyType({"by": Param(float, gt=0)})


@pytest.mark.parametrize(("operators", "error", "message"), [
    ((ops.SNV, ops.SNV), ValueError, r"spec names used by more than one operator: \['snv'\]"),
    ((_NoOwnName,), TypeError, "_NoOwnName must declare its own spec_name"),
    ((_Undeclared,), TypeError, r"names \['by'\], but __init__ takes \['by', 'scale'\]"),
    ((_BadDefault,), TypeError, r"the default by=0.0 is not a number > 0"),
    ((ops.PLSSweep,), TypeError, "is not an operator class"),
    ([ops.SNV], TypeError, "operators must be a tuple"),
])
def test_the_registry_refuses_what_would_make_the_language_ambiguous(operators, error, message: str) -> None:
    with pytest.raises(error, match=message):
        OperatorRegistry(operators)


def test_check_operator_accepts_every_default_operator() -> None:
    for cls in DEFAULT_OPERATORS.operators:
        assert check_operator(cls) is cls


# --- Param ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("param", "good", "bad", "described"), [
    (Param(int, ge=3, odd=True), [3, 5, np.int64(7)], [4, 1, 5.0, True, "5"], "an odd integer >= 3"),
    (Param(int, ge=1, le=2), [1, 2], [0, 3, 1.5], "an integer in [1, 2]"),
    (Param(float, gt=0, lt=1), [0.5, np.float32(0.1)], [0, 1, float("nan"), True, "0.5"], "a number in (0, 1)"),
    (Param(float, gt=0, finite=True), [1e-9, 3, 10**400], [0, float("inf"), float("nan")], "a finite number > 0"),
    (Param(float, le=100), [-1e300, 100], [100.5], "a number <= 100"),
    (Param(float), [-np.inf, 0, 2.5], [float("nan"), None, "1"], "a number"),
    (Param(str, options=("linear", "cubic")), ["linear"], ["quadratic", 1], "'linear' or 'cubic'"),
    (Param(list[float]), [[1.0], "anything: the operator checks containers"], [], "a list"),
])
def test_a_param_accepts_and_describes_values(param: Param, good: list, bad: list, described: str) -> None:
    assert all(param.accepts(v) for v in good)
    assert not any(param.accepts(v) for v in bad)
    assert param.describe() == described


def test_check_params_names_the_class_the_parameter_and_the_value() -> None:
    with pytest.raises(ValueError, match=r"^SavitzkyGolay: window_length must be an odd integer >= 3, got 4$"):
        check_params(ops.SavitzkyGolay(window_length=4))
    check_params(ops.SavitzkyGolay(window_length=5))


def test_a_param_maps_onto_msgspec_bounds() -> None:
    assert Param(float, gt=0, le=4).bounds == {"gt": 0, "le": 4}
    assert Param(int).bounds == {}


# --- documentation --------------------------------------------------------------------------------------------

# exported from the package or registered (exporting a new operator from __init__ is optional)
_PUBLIC = list(dict.fromkeys([*(getattr(ops, name) for name in ops.__all__ if inspect.isclass(getattr(ops, name))
                                and getattr(ops, name) is not ops.OperatorTraits), *estimator_classes()]))
_MODULES = [importlib.import_module(f"nirs_core.operators.{m.name}") for m in pkgutil.iter_modules(ops.__path__)]


def _section(doc: str, title: str) -> str:
    """The body of a numpydoc section (empty if absent)."""
    match = re.search(rf"^{title}\n-+\n(.*?)(?:\n\n[A-Z][a-z]+\n-+\n|\Z)", doc, flags=re.S | re.M)
    return match.group(1) if match else ""


@pytest.mark.parametrize("cls", _PUBLIC, ids=lambda c: c.__name__)
def test_every_public_class_documents_its_parameters_and_has_an_example(cls: type) -> None:
    doc = inspect.getdoc(cls) or ""
    params = [p for p in inspect.signature(cls.__init__).parameters if p not in ("self", "args", "kwargs")]
    documented = _section(doc, "Parameters")
    for name in params:
        assert re.search(rf"^(\w+, )*{name}( :|,)", documented, flags=re.M), f"{cls.__name__}: {name} undocumented"
    assert ">>> " in _section(doc, "Examples"), f"{cls.__name__} has no Examples section"


_FIT_DATA = np.random.default_rng(0).uniform(0.1, 0.9, (12, 40))


@pytest.mark.parametrize("cls", [c for c in estimator_classes() if c is not ops.EPO], ids=lambda c: c.__name__)
def test_every_fitted_public_attribute_is_documented(cls: type) -> None:
    required = {ops.SavitzkyGolay: {"window_length": 5}, ops.Crop: {"start": 900.0, "stop": 1000.0},
                ops.MaskBands: {"bands": [(900.0, 910.0)]}, ops.Resample: {"new_wavelengths": [900.0, 950.0]}}
    wavelengths = {"wavelengths": np.linspace(850.0, 1050.0, 40)} if getattr(cls, "traits", None) and \
        cls.traits.wavelength_aware else {}
    y = np.arange(12) % 2 if cls in (ops.PLSDA, ops.OPLSDA) else np.arange(12.0)
    fitted = cls(**required.get(cls, {}), **wavelengths).fit(_FIT_DATA, y)
    attributes = [a for a in vars(fitted) if a.endswith("_") and not a.startswith("_")]
    documented = _section(inspect.getdoc(cls) or "", "Attributes")
    for name in attributes:
        assert re.search(rf"^(\w+, )*{name}( :|,)", documented, flags=re.M) or name == "n_features_in_", (
            f"{cls.__name__}.{name} is not in its Attributes section")


@pytest.mark.parametrize("module", _MODULES, ids=lambda m: m.__name__.rsplit(".", 1)[1])
def test_the_docstring_examples_run(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0
