"""Spec step structs -> configured operator references and instances (one fixed, immutable mapping)."""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import Any

import msgspec
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import MinMaxScaler, PowerTransformer, StandardScaler

from nirs_core import operators as ops
from relspec import spec as s
from relspec.errors import SpecError
from relspec.hashing import sha256_of
from relspec.plan import StepRef, Task

_TRANSFORMS: MappingProxyType[type, type[BaseEstimator]] = MappingProxyType({
    s.SNVStep: ops.SNV,
    s.SavitzkyGolayStep: ops.SavitzkyGolay,
    s.DetrendStep: ops.Detrend,
    s.MSCStep: ops.MSC,
    s.RNVStep: ops.RNV,
    s.EMSCStep: ops.EMSC,
    s.AreaNormStep: ops.AreaNormalise,
    s.VectorNormStep: ops.VectorNormalise,
    s.MaxNormStep: ops.MaxNormalise,
    s.MeanCentreStep: ops.MeanCentre,
    s.AutoscaleStep: ops.Autoscale,
    s.AbsorbanceStep: ops.ReflectanceToAbsorbance,
    s.KubelkaMunkStep: ops.KubelkaMunk,
    s.GapDerivativeStep: ops.GapSegmentDerivative,
    s.DerivativeStep: ops.FiniteDifference,
    s.GaussianStep: ops.GaussianSmooth,
    s.ASLSStep: ops.ASLS,
    s.AirPLSStep: ops.AirPLS,
    s.CropStep: ops.Crop,
    s.MaskBandsStep: ops.MaskBands,
    s.ResampleStep: ops.Resample,
    s.OSCStep: ops.OSC,
})

_Y_TRANSFORMS: MappingProxyType[type, type[BaseEstimator]] = MappingProxyType({
    s.StandardY: StandardScaler,
    s.MinMaxY: MinMaxScaler,
    s.PowerY: PowerTransformer,
})

_CLASSES_BY_PATH: MappingProxyType[str, type[BaseEstimator]] = MappingProxyType({
    f"{c.__module__}.{c.__qualname__}": c
    for c in (*_TRANSFORMS.values(), *_Y_TRANSFORMS.values(), ops.PLSSweep, ops.PCR, ops.PLSDA, ops.FeatureConcat)
})


def _label(op: str, params: dict[str, Any]) -> str:
    if not params:
        return op
    return f"{op}(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def _ref(op: str, cls: type[BaseEstimator], params: dict[str, Any], axis: tuple[float, ...] | None = None
         ) -> StepRef:
    class_path = f"{cls.__module__}.{cls.__qualname__}"
    stateless = bool(getattr(cls, "traits", None) and cls.traits.row_wise_stateless)
    return StepRef(
        op=op, class_path=class_path, params=params, step_hash=sha256_of(class_path, params),
        row_wise_stateless=stateless, label=_label(op, params), axis=axis,
    )


def transform_ref(step: s.TransformStep, axis: tuple[float, ...] | None = None) -> StepRef:
    """The identity and operator of one transform step; a wavelength-aware one keeps its input ``axis``.

    The axis is not part of the step hash: it belongs to the dataset (and so to dataset_hash).
    """
    cls = _TRANSFORMS[type(step)]
    params = msgspec.to_builtins(msgspec.structs.asdict(step))
    aware = cls.traits.wavelength_aware
    return _ref(type(step).__struct_config__.tag, cls, params, axis if aware else None)


def y_transform_ref(spec: s.YTransformSpec) -> StepRef:
    """The identity and transformer of a ``y_processing`` step (fitted on a column vector of targets)."""
    params = msgspec.to_builtins(msgspec.structs.asdict(spec))
    return _ref(f"y:{type(spec).__struct_config__.tag}", _Y_TRANSFORMS[type(spec)], params)


_CONCAT_PATH = f"{ops.FeatureConcat.__module__}.{ops.FeatureConcat.__qualname__}"


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
    cls = _CLASSES_BY_PATH[ref.class_path]
    if not cls.traits.changes_axis:
        return axis
    fitted = instantiate(ref).fit(np.zeros((2, len(axis))))
    return tuple(float(w) for w in fitted.wavelengths_out_)


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


def model_ref(model: s.ModelSpec, n_components: int | None, seed: int, task: Task = "regression") -> StepRef:
    """The identity of a model step (for a sweep model, with ``n_components``).

    A scikit-learn estimator that takes a ``random_state`` gets the run's seed unless the spec sets one; it must be
    a regressor for a regression ``task`` and a classifier for classification.
    """
    if isinstance(model, s.PLSModel):
        return _ref("pls", ops.PLSSweep, {"n_components": n_components, "scale": model.scale})
    if isinstance(model, s.PCRModel):
        return _ref("pcr", ops.PCR, {"n_components": n_components})
    if isinstance(model, s.PLSDAModel):
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
    cls = _CLASSES_BY_PATH.get(ref.class_path) or resolve_estimator(ref.class_path)
    return cls(**ref.params, **extra)
