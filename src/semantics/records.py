"""View artifacts written under the workspace's ``provenance/`` folder as msgspec JSON.

Join decisions of the catalog views are recorded per run (``provenance/<run_id>/view_decisions.json``); scan
metrics of a measured query under ``provenance/scans/<query fingerprint>.json``.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from datafusion_engine.scan_metrics import ScanMetrics
from relspec.policy import MetricFunction, TableName
from semantics.joins import JoinDecision
from semantics.session import ViewSession

PROVENANCE_DIR = "provenance"
_ARTIFACT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


class ViewRecord(msgspec.Struct, **_ARTIFACT):
    """One compiled view: its fingerprint, the Delta versions and UDFs it reads, and its inferred joins."""

    view: str
    fingerprint: str
    versions: dict[str, int]
    tables: tuple[TableName, ...]
    functions: tuple[MetricFunction, ...]
    joins: tuple[JoinDecision, ...]


class ViewDecisions(msgspec.Struct, **_ARTIFACT):
    """The catalog as compiled right after a run completed: what each view joins on and why."""

    run_id: str
    views: tuple[ViewRecord, ...]


def _write(path: Path, artifact: msgspec.Struct) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_bytes(msgspec.json.format(msgspec.json.encode(artifact), indent=2))
    tmp.replace(path)  # readers never see half a file
    return path


def view_decisions(session: ViewSession, run_id: str) -> ViewDecisions:
    return ViewDecisions(run_id=run_id, views=tuple(
        ViewRecord(view=v.name, fingerprint=v.fingerprint, versions=v.versions, tables=v.tables,
                   functions=v.functions, joins=v.joins)
        for v in session.views.values()))


def record_view_decisions(session: ViewSession, run_id: str) -> Path:
    """Write the join decisions and fingerprints of the session's views as a provenance artifact of ``run_id``."""
    return _write(session.root / PROVENANCE_DIR / run_id / "view_decisions.json", view_decisions(session, run_id))


def record_scan_metrics(root: Path, metrics: ScanMetrics) -> Path:
    return _write(root / PROVENANCE_DIR / "scans" / f"{metrics.fingerprint}.json", metrics)


def read_view_decisions(root: Path, run_id: str) -> ViewDecisions:
    path = root / PROVENANCE_DIR / run_id / "view_decisions.json"
    return msgspec.json.decode(path.read_bytes(), type=ViewDecisions)
