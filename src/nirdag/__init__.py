"""nirdag: near-infrared spectroscopy modelling on a compiled Hamilton DAG, with results in Delta tables.

``import nirdag`` is cheap: the engines load on first use of ``nirdag.run`` and friends.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "RunResult", "Workspace", "attach_transfer", "build_driver", "compile", "dag", "datasets", "explain", "export",
    "load_csv", "load_dataset", "load_spec", "plot", "plots", "predict", "query", "query_with_metrics", "replay",
    "report", "retrain", "run", "spec_schema",
]

_LAZY = {
    "run": ("nirdag.api", "run"),
    "compile": ("nirdag.api", "compile"),
    "build_driver": ("nirdag.api", "build_driver"),
    "query": ("nirdag.sql", "query"),
    "query_with_metrics": ("nirdag.sql", "query_with_metrics"),
    "dag": ("nirdag.api", "dag"),
    "export": ("nirdag.api", "export"),
    "explain": ("nirdag.explanations", "explain"),
    "predict": ("nirdag.bundle", "predict"),
    "replay": ("nirdag.api", "replay"),
    "retrain": ("nirdag.api", "retrain"),
    "attach_transfer": ("nirdag.api", "attach_transfer"),
    "load_spec": ("relspec", "load_spec"),
    "spec_schema": ("relspec.json_schema", "spec_json_schema"),
    "RunResult": ("nirdag.api", "RunResult"),
    "Workspace": ("nirdag.workspace", "Workspace"),
    "load_csv": ("nirs_core.data", "load_csv"),
    "load_dataset": ("nirdag.api", "load_dataset"),
    "datasets": ("nirdag.datasets", None),
    "plot": ("nirdag.report", "plot"),
    "plots": ("nirdag.plots", None),
    "report": ("nirdag.report", None),
}


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'nirdag' has no attribute {name!r}")
    module_name, attr = _LAZY[name]
    module = importlib.import_module(module_name)
    return module if attr is None else getattr(module, attr)


def __dir__() -> list[str]:
    return sorted(__all__)
