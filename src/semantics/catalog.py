"""The semantic view catalog: named views over the workspace tables, compiled to DataFusion plans."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from datafusion_engine import WorkspaceSession
from relspec import FOLD_FINAL, POOLED_CV


@dataclass(frozen=True)
class ViewSpec:
    """A named view: what it answers, which tables it needs, and its query."""

    name: str
    description: str
    requires: tuple[str, ...]
    sql: str


V_RANKED_CHAINS = ViewSpec(
    name="v_ranked_chains",
    description="Chains of completed runs ranked by pooled RMSECV, with RMSEP of the refit (fold_final) on test",
    requires=("runs", "chains", "scores"),
    sql=f"""
SELECT c.run_id, c.chain_id, cv.target, c.branch_name, c.preprocessing, c.model, c.n_components,
       cv.value AS rmsecv, p.value AS rmsep, c.refit,
       ROW_NUMBER() OVER (PARTITION BY c.run_id, cv.target
                          ORDER BY cv.value, c.n_components, c.chain_id) AS rank
FROM chains c
JOIN runs r ON r.run_id = c.run_id AND r.status = 'completed'
JOIN scores cv ON cv.run_id = c.run_id AND cv.chain_id = c.chain_id
     AND cv.fold_id = '{POOLED_CV}' AND cv.partition = 'val' AND cv.metric = 'rmse'
LEFT JOIN scores p ON p.run_id = c.run_id AND p.chain_id = c.chain_id AND p.target = cv.target
     AND p.fold_id = '{FOLD_FINAL}' AND p.partition = 'test' AND p.metric = 'rmse'
""",
)

CATALOG: tuple[ViewSpec, ...] = (V_RANKED_CHAINS,)


def open_session(workspace: str | Path, *, as_of: int | dt.datetime | None = None) -> WorkspaceSession:
    """A workspace session (optionally as of a Delta version or time) with the catalog views registered."""
    session = WorkspaceSession(workspace, as_of=as_of)
    for view in CATALOG:
        if all(t in session.tables for t in view.requires):
            session.register_view(view.name, session.ctx.sql(view.sql))
    return session
