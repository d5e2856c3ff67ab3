"""relspec: the pipeline language (msgspec structs) and its compiler to a frozen, fingerprinted plan.

The names below load on first use, so that importing a light module (``relspec.policy``, ``relspec.provenance``)
does not import the compiler and scikit-learn.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "compile_plan": "relspec.compile",
    "CompileError": "relspec.errors",
    "SpecError": "relspec.errors",
    "FOLD_FINAL": "relspec.plan",
    "POOLED_CV": "relspec.plan",
    "ALL_TARGETS": "relspec.plan",
    "CompiledPlan": "relspec.plan",
    "fold_key": "relspec.plan",
    "ExecutionPolicy": "relspec.policy",
    "RuntimePolicy": "relspec.policy",
    "PipelineSpec": "relspec.spec",
    "decode_spec": "relspec.spec",
    "load_spec": "relspec.source",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'relspec' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return __all__
