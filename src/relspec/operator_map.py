"""Spec step structs -> configured operator references and instances (one fixed, immutable mapping)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

import msgspec
from sklearn.base import BaseEstimator

from nirdag.operators import MSC, SNV, Detrend, PLSSweep, SavitzkyGolay
from relspec.hashing import sha256_of
from relspec.plan import StepRef
from relspec.spec import DetrendStep, MSCStep, PLSModel, SavitzkyGolayStep, SNVStep, TransformStep

_TRANSFORMS: MappingProxyType[type, type[BaseEstimator]] = MappingProxyType({
    SNVStep: SNV,
    SavitzkyGolayStep: SavitzkyGolay,
    DetrendStep: Detrend,
    MSCStep: MSC,
})
_CLASSES_BY_PATH: MappingProxyType[str, type[BaseEstimator]] = MappingProxyType({
    f"{c.__module__}.{c.__qualname__}": c for c in (*_TRANSFORMS.values(), PLSSweep)
})


def _label(op: str, params: dict[str, Any]) -> str:
    if not params:
        return op
    return f"{op}(" + ", ".join(f"{k}={v}" for k, v in params.items()) + ")"


def _ref(op: str, cls: type[BaseEstimator], params: dict[str, Any]) -> StepRef:
    class_path = f"{cls.__module__}.{cls.__qualname__}"
    stateless = bool(getattr(cls, "traits", None) and cls.traits.row_wise_stateless)
    return StepRef(
        op=op, class_path=class_path, params=params, step_hash=sha256_of(class_path, params),
        row_wise_stateless=stateless, label=_label(op, params),
    )


def transform_ref(step: TransformStep) -> StepRef:
    """The identity and operator of one transform step."""
    params = msgspec.structs.asdict(step)
    return _ref(type(step).__struct_config__.tag, _TRANSFORMS[type(step)], params)


def pls_ref(model: PLSModel, n_components: int) -> StepRef:
    """The identity of a PLS step with ``n_components`` (fitted by the PLS sweep)."""
    return _ref("pls", PLSSweep, {"n_components": n_components, "scale": model.scale})


def instantiate(ref: StepRef) -> BaseEstimator:
    """A fresh, unfitted estimator for a step reference."""
    return _CLASSES_BY_PATH[ref.class_path](**ref.params)
