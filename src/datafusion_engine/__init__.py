"""datafusion_engine: the Workspace handle, the workspace store on Delta (one writer) and read-only DataFusion SQL.

The names below load on first use, so that importing a light module (``datafusion_engine.schemas``: the row types
the modelling core builds its tables with) does not import DataFusion and deltalake.
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "QueryError": "datafusion_engine.errors",
    "StoreError": "datafusion_engine.errors",
    "TABLE_SCHEMAS": "datafusion_engine.schemas",
    "RunRow": "datafusion_engine.schemas",
    "schema_from_struct": "datafusion_engine.schemas",
    "WorkspaceSession": "datafusion_engine.session",
    "WorkspaceStore": "datafusion_engine.store",
    "Workspace": "datafusion_engine.workspace",
}

__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module 'datafusion_engine' has no attribute {name!r}")
    return getattr(importlib.import_module(_LAZY[name]), name)


def __dir__() -> list[str]:
    return __all__
