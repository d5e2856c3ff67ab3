"""Spec step structs -> configured operator references and instances.

A transform step struct knows its operator class (``type(step).operator``, derived from the registry). Step
references resolve back to classes by path: ours (the default registry, the models, FeatureConcat), a scikit-learn
estimator, or an operator of an extended registry (see :func:`operator_class`).
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any

import msgspec
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import MinMaxScaler, PowerTransformer, StandardScaler

from nirs_core import operators as ops
from nirs_core.operators.registry import check_operator, class_path, estimator_classes
from relspec import model_specs as m
from relspec import spec as s
from relspec.errors import SpecError
from relspec.hashing import sha256_of
from relspec.plan import StepRef, Task

_Y_TRANSFORMS: MappingProxyType[type, type[BaseEstimator]] = MappingProxyType({
    s.StandardY: StandardScaler,
    s.MinMaxY: MinMaxScaler,
    s.PowerY: PowerTransformer,
})

_CLASSES_BY_PATH: MappingProxyType[str, type[BaseEstimator]] = MappingProxyType({
    class_path(c): c for c in (*estimator_classes(), *_Y_TRANSFORMS.values())
})


_LABELLED_VALUES = 16  # a matrix parameter with more numbers than this is labelled by its shape (EPO differences)


def _shown(value: Any) -> str:
    matrix = isinstance(value, list) and value and all(isinstance(row, list) for row in value)
    if matrix and sum(len(row) for row in value) > _LABELLED_VALUES:
        return f"<{len(value)}x{len(value[0])} matrix>"
    return str(value)


def _label(op: str, params: dict[str, Any]) -> str:
    if not params:
        return op
    return f"{op}(" + ", ".join(f"{k}={_shown(v)}" for k, v in params.items()) + ")"


def _ref(op: str, cls: type[BaseEstimator], params: dict[str, Any], axis: tuple[float, ...] | None = None
         ) -> StepRef:
    path = class_path(cls)
    stateless = bool(getattr(cls, "traits", None) and cls.traits.row_wise_stateless)
    return StepRef(
        op=op, class_path=path, params=params, step_hash=sha256_of(path, params),
        row_wise_stateless=stateless, label=_label(op, params), axis=axis,
    )


def transform_ref(step: s.TransformStep, axis: tuple[float, ...] | None = None, seed: int | None = None
                  ) -> StepRef:
    """The identity and operator of one transform step; a wavelength-aware one keeps its input ``axis``, a random
    one (an engine-set ``random_state``, e.g. CARS) gets the run's ``seed``.

    The axis is not part of the step hash: it belongs to the dataset (and so to dataset_hash). The seed is, as a
    scikit-learn model's ``random_state`` is.
    """
    cls = type(step).operator
    params = msgspec.to_builtins(msgspec.structs.asdict(step))
    seeded = cls.parameter_constraints.get("random_state")
    if seeded is not None and not seeded.in_spec and seed is not None:
        params["random_state"] = seed
    aware = cls.traits.wavelength_aware
    return _ref(cls.spec_name, cls, params, axis if aware else None)


def y_transform_ref(spec: s.YTransformSpec) -> StepRef:
    """The identity and transformer of a ``y_processing`` step (fitted on a column vector of targets)."""
    params = msgspec.to_builtins(msgspec.structs.asdict(spec))
    return _ref(f"y:{type(spec).__struct_config__.tag}", _Y_TRANSFORMS[type(spec)], params)


_CONCAT_PATH = class_path(ops.FeatureConcat)


def concat_ref(members: list[tuple[str, list[StepRef]]]) -> StepRef:
    """One step applying each member's steps to the same input and concatenating the outputs (``merge:
    features``); row-wise stateless when every member step is. Identity: the members' step hashes."""
    params = {"branches": [[msgspec.to_builtins(r) for r in refs] for _, refs in members]}
    stateless = all(r.row_wise_stateless for _, refs in members for r in refs)
    # members' steps are joined with " then ": STEP_SEPARATOR never appears inside a step label
    label = "concat(" + " | ".join(" then ".join(r.label for r in refs) or "raw" for _, refs in members) + ")"
    return StepRef(op="concat", class_path=_CONCAT_PATH, params=params,
                   step_hash=sha256_of(_CONCAT_PATH, [[r.step_hash for r in refs] for _, refs in members]),
                   row_wise_stateless=stateless, label=label)


def output_axis(ref: StepRef, axis: tuple[float, ...]) -> tuple[float, ...]:
    """The wavelength axis after ``ref`` (unchanged unless the operator changes it)."""
    cls = operator_class(ref.class_path)
    if not cls.traits.changes_axis:
        return axis
    return tuple(float(w) for w in instantiate(ref).axis_after(len(axis)))


def resolve_estimator(path: str, task: Task | None = None) -> type[BaseEstimator]:
    """A scikit-learn estimator class from its import path; anything else is refused (no arbitrary imports).

    ``task`` regression accepts regressors only, classification classifiers only, None either.
    """
    module_name, _, name = path.rpartition(".")
    if not module_name.startswith("sklearn.") or not name:
        raise SpecError(f"invalid pipeline spec: estimator {path!r} must be a scikit-learn class path such as "
                        "'sklearn.linear_model.Ridge'")
    try:
        cls = getattr(importlib.import_module(module_name), name)
    except (ImportError, AttributeError):
        raise SpecError(f"invalid pipeline spec: estimator {path!r} does not exist in scikit-learn") from None
    regressor = isinstance(cls, type) and issubclass(cls, RegressorMixin)
    classifier = isinstance(cls, type) and issubclass(cls, ClassifierMixin)
    if task == "regression" and not regressor:
        hint = " (it is a classifier: the target is numeric, so use a regressor)" if classifier else ""
        raise SpecError(f"invalid pipeline spec: estimator {path!r} is not a scikit-learn regressor{hint}")
    if task == "classification" and not classifier:
        hint = " (it is a regressor: the target holds class labels)" if regressor else ""
        raise SpecError(f"invalid pipeline spec: estimator {path!r} is not a scikit-learn classifier{hint}")
    if not (regressor or classifier):
        raise SpecError(f"invalid pipeline spec: estimator {path!r} is neither a scikit-learn regressor nor a "
                        "classifier")
    return cls


def model_ref(model: m.ModelSpec, n_components: int | None, seed: int, task: Task = "regression") -> StepRef:
    """The identity of a model step (for a sweep model, with ``n_components``).

    A scikit-learn estimator that takes a ``random_state`` gets the run's seed unless the spec sets one; it must be
    a regressor for a regression ``task`` and a classifier for classification.
    """
    if isinstance(model, m.PLSModel):
        return _ref("pls", ops.PLSSweep, {"n_components": n_components, "scale": model.scale})
    if isinstance(model, m.PCRModel):
        return _ref("pcr", ops.PCR, {"n_components": n_components})
    if isinstance(model, m.OPLSModel):
        return _ref("opls", ops.OPLS, {"n_components": n_components})
    if isinstance(model, m.LWPLSModel):
        return _ref("lwpls", ops.LWPLS, {"n_components": n_components, "bandwidth": model.bandwidth})
    if isinstance(model, m.KernelPLSModel):
        return _ref("kernel_pls", ops.KernelPLS, {"n_components": n_components, "kernel": model.kernel,
                                                  "gamma": model.gamma, "degree": model.degree, "coef0": model.coef0})
    if isinstance(model, m.OPLSDAModel):
        return _ref("oplsda", ops.OPLSDA, {"n_components": n_components})
    if isinstance(model, m.PLSDAModel):
        return _ref("plsda", ops.PLSDA, {"n_components": n_components, "scale": model.scale})
    cls = resolve_estimator(model.estimator, task)
    params = dict(model.params)
    if "random_state" in cls().get_params() and "random_state" not in params:
        params["random_state"] = seed
    return _ref(f"sklearn:{cls.__name__}", cls, params)


def with_components(ref: StepRef, n_components: int | None) -> StepRef:
    """The same model step with another component count (unchanged for a model without components)."""
    if n_components is None:
        return ref
    return msgspec.structs.replace(ref, params={**ref.params, "n_components": n_components})


def instantiate(ref: StepRef) -> BaseEstimator:
    """A fresh, unfitted estimator for a step reference (a wavelength-aware one gets its input axis)."""
    if ref.class_path == _CONCAT_PATH:
        return ops.FeatureConcat(branches=[[instantiate(msgspec.convert(d, StepRef)) for d in member]
                                           for member in ref.params["branches"]])
    extra = {"wavelengths": list(ref.axis)} if ref.axis is not None else {}
    return operator_class(ref.class_path)(**ref.params, **extra)


def operator_class(path: str) -> type[BaseEstimator]:
    """The class a step reference names: ours, a scikit-learn estimator, or an operator of an extended registry.

    A path outside ours and scikit-learn's is imported and accepted only if it names an operator class (see
    ``nirs_core.operators.registry.check_operator``): the compiler only writes such paths, from the classes of the
    registry the spec was decoded with, and plans are never read back from files.
    """
    known = _CLASSES_BY_PATH.get(path)
    if known is not None:
        return known
    if path.startswith("sklearn."):
        return resolve_estimator(path)
    module_name, _, name = path.rpartition(".")
    try:
        return check_operator(getattr(importlib.import_module(module_name), name))
    except (ImportError, ValueError, AttributeError, TypeError) as exc:
        raise SpecError(f"invalid step reference: {path!r} names neither a nirdag operator nor a scikit-learn "
                        f"estimator ({type(exc).__name__}: {exc})") from None
