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

def _pivot(metrics: tuple[str, ...], alias: str = "s") -> str:
    return ", ".join(f"max(CASE WHEN {alias}.metric = '{m}' THEN {alias}.value END) AS {m}" for m in metrics)


V_FOLD_SCORES = ViewSpec(
    name="v_fold_scores",
    description="Per chain, fold and partition of completed runs: rmse, r2, bias, sep, mae, rpd, n (one row each)",
    requires=("runs", "scores"),
    sql=f"""
SELECT s.run_id, s.chain_id, s.target, s.fold_id, s.partition,
       {_pivot(("rmse", "r2", "bias", "sep", "mae", "rpd", "n"))}
FROM scores s JOIN runs r ON r.run_id = s.run_id AND r.status = 'completed'
WHERE s.fold_id <> '{POOLED_CV}'
GROUP BY s.run_id, s.chain_id, s.target, s.fold_id, s.partition
""",
)

V_CHAIN_SCORES = ViewSpec(
    name="v_chain_scores",
    description="Per chain of completed runs: pooled out-of-fold (cv_*) and mean-of-folds RMSE, fold_final test RMSE",
    requires=("runs", "chains", "scores"),
    sql=f"""
WITH pooled AS (
  SELECT s.run_id, s.chain_id, s.target, {_pivot(("rmse", "r2", "bias", "sep", "rpd"))}
  FROM scores s WHERE s.fold_id = '{POOLED_CV}' AND s.partition = 'val'
  GROUP BY s.run_id, s.chain_id, s.target),
folds AS (
  SELECT run_id, chain_id, target, avg(value) AS mean_fold_rmse, stddev(value) AS sd_fold_rmse
  FROM scores WHERE fold_id NOT IN ('{POOLED_CV}', '{FOLD_FINAL}') AND partition = 'val' AND metric = 'rmse'
  GROUP BY run_id, chain_id, target),
final AS (
  SELECT run_id, chain_id, target, value AS rmsep FROM scores
  WHERE fold_id = '{FOLD_FINAL}' AND partition = 'test' AND metric = 'rmse')
SELECT c.run_id, c.chain_id, p.target, c.branch_name, c.preprocessing, c.model, c.n_components,
       p.rmse AS cv_rmse, p.r2 AS cv_r2, p.bias AS cv_bias, p.sep AS cv_sep, p.rpd AS cv_rpd,
       f.mean_fold_rmse, f.sd_fold_rmse, t.rmsep, c.refit
FROM chains c JOIN runs r ON r.run_id = c.run_id AND r.status = 'completed'
JOIN pooled p ON p.run_id = c.run_id AND p.chain_id = c.chain_id
LEFT JOIN folds f ON f.run_id = c.run_id AND f.chain_id = c.chain_id AND f.target = p.target
LEFT JOIN final t ON t.run_id = c.run_id AND t.chain_id = c.chain_id AND t.target = p.target
""",
)

V_RUNS = ViewSpec(
    name="v_runs",
    description="One row per run: status, dataset, seconds, chain count and the best chain by pooled RMSECV",
    requires=("runs", "chains", "scores"),
    sql=f"""
WITH best AS (
  SELECT run_id, chain_id, value,
         ROW_NUMBER() OVER (PARTITION BY run_id ORDER BY value, chain_id) AS k
  FROM scores WHERE fold_id = '{POOLED_CV}' AND partition = 'val' AND metric = 'rmse')
SELECT r.run_id, r.status, r.dataset_hash, r.pipeline_hash, r.started_at,
       CAST(date_part('epoch', r.finished_at) - date_part('epoch', r.started_at) AS DOUBLE) AS seconds,
       (SELECT count(*) FROM chains c WHERE c.run_id = r.run_id) AS n_chains,
       b.chain_id AS best_chain_id, b.value AS best_rmsecv, r.error
FROM runs r LEFT JOIN best b ON b.run_id = r.run_id AND b.k = 1
""",
)

CATALOG: tuple[ViewSpec, ...] = (V_RANKED_CHAINS, V_CHAIN_SCORES, V_FOLD_SCORES, V_RUNS)


def view_columns(workspace: str | Path) -> list[tuple[ViewSpec, list[str]]]:
    """Each catalog view available in the workspace with its column names."""
    session = open_session(workspace)
    out = []
    for view in CATALOG:
        if all(t in session.tables for t in view.requires):
            out.append((view, session.ctx.table(view.name).schema().names))
    return out


def open_session(workspace: str | Path, *, as_of: int | dt.datetime | None = None) -> WorkspaceSession:
    """A workspace session (optionally as of a Delta version or time) with the catalog views registered."""
    session = WorkspaceSession(workspace, as_of=as_of)
    for view in CATALOG:
        if all(t in session.tables for t in view.requires):
            session.register_view(view.name, session.ctx.sql(view.sql))
    return session
