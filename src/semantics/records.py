"""View artifacts written under the workspace's ``provenance/`` folder as msgspec JSON.

Join decisions of the catalog views are a run document (``provenance/<run_id>/view_decisions.json``); scan
metrics of a measured query under ``provenance/scans/<query fingerprint>.json``.
"""

from __future__ import annotations

from pathlib import Path

import msgspec

from datafusion_engine import Workspace
from datafusion_engine.scan_metrics import ScanMetrics
from relspec.policy import MetricFunction, TableName
from relspec.validation import Finding
from semantics.joins import JoinDecision
from semantics.session import ViewSession

VIEW_DECISIONS = "view_decisions.json"
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


def _json(artifact: msgspec.Struct) -> bytes:
    return msgspec.json.format(msgspec.json.encode(artifact), indent=2)


def view_decisions(session: ViewSession, run_id: str) -> ViewDecisions:
    return ViewDecisions(run_id=run_id, views=tuple(
        ViewRecord(view=v.name, fingerprint=v.fingerprint, versions=v.versions, tables=v.tables,
                   functions=v.functions, joins=v.joins)
        for v in session.views.values()))


def join_findings(decisions: ViewDecisions) -> tuple[Finding, ...]:
    """A warning per view join inferred with less than exact confidence: its key columns' types differ, so
    DataFusion casts one side, and a key value that does not survive the cast silently matches nothing."""
    return tuple(
        Finding(code="coerced_join", severity="warning", path=f"$views.{view.view}.joins[{i}]",
                message=f"view {view.view}: the {j.how} join on {', '.join(j.left_keys)} = {', '.join(j.right_keys)} "
                        f"({', '.join(j.roles)}) is {j.confidence}, not exact: the key types differ and one side "
                        "is cast; a key the cast changes matches nothing")
        for view in decisions.views for i, j in enumerate(view.joins) if j.confidence != "exact")


def view_decisions_json(decisions: ViewDecisions) -> bytes:
    """The run document's bytes (written by the store as ``provenance/<run_id>/view_decisions.json``)."""
    return _json(decisions)


def record_scan_metrics(workspace: Workspace, metrics: ScanMetrics) -> Path | str:
    """Write a query's scan metrics under ``provenance/scans/`` (not a run's document: a query spans runs); returns
    where (a path or a URI)."""
    key = f"{workspace.layout.scans_prefix}/{metrics.fingerprint}.json"
    workspace.layout.storage.put(key, _json(metrics), temp_prefix=f".{metrics.fingerprint}.json.", fsync=False)
    return workspace.layout.location(key)


def read_view_decisions(workspace: Workspace, run_id: str) -> ViewDecisions:
    return msgspec.json.decode(workspace.read_document(run_id, VIEW_DECISIONS), type=ViewDecisions)
