"""nirdag's own named queries over a workspace: constant SQL text whose values are DataFusion parameters.

Every value (a run id, a chain id or prefix, a hash, a fold name) is bound as a ``$name`` parameter by DataFusion
and never enters the SQL text, so an id holding a quote is matched literally and finds nothing. The user's own SQL
does not come here: it goes through the read-only gate of :meth:`WorkspaceSession.dataframe` unchanged.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from datafusion_engine import WorkspaceSession
from relspec.plan import FOLD_FINAL, POOLED_CV
from semantics.errors import RunNotFound
from semantics.session import ViewSession

Session = WorkspaceSession | ViewSession
Row = dict[str, Any]

_RUN = "SELECT * FROM runs WHERE run_id = $run_id"
_RUNS = ("SELECT run_id, status, started_at, finished_at, dataset_hash, pipeline_hash, seed, error FROM runs "
         "ORDER BY started_at DESC")
_RUN_SUMMARY = (
    "SELECT r.run_id, r.status, r.started_at, r.finished_at, r.dataset_hash, r.pipeline_hash, r.seed, "
    "r.nirdag_version, r.error, (SELECT count(*) FROM chains c WHERE c.run_id = r.run_id) AS n_chains, "
    "v.best_rmsecv, v.rank_metric, v.best_cv_value, v.best_chain_id "
    "FROM runs r LEFT JOIN v_runs v ON v.run_id = r.run_id WHERE r.run_id = $run_id")
_STORED_RUN = (
    "SELECT r.status, r.seed, r.pipeline_hash, r.dataset_hash, p.spec_json, "
    "CAST(date_part('epoch', r.finished_at) - date_part('epoch', r.started_at) AS DOUBLE) AS s "
    "FROM runs r JOIN pipelines p ON p.pipeline_hash = r.pipeline_hash WHERE r.run_id = $run_id")
_PIPELINE = "SELECT spec_json FROM pipelines WHERE pipeline_hash = $pipeline_hash"
_CHAIN = "SELECT * FROM chains WHERE run_id = $run_id AND chain_id = $chain_id"
_CHAIN_PREFIX = "SELECT chain_id FROM chains WHERE run_id = $run_id AND starts_with(chain_id, $prefix)"
_BEST_REFIT = ("SELECT chain_id FROM chains WHERE run_id = $run_id AND refit AND rank IS NOT NULL "
               "ORDER BY rank LIMIT 1")
_UNRANKED_REFIT = "SELECT count(*) AS n FROM chains WHERE run_id = $run_id AND refit AND rank IS NULL"
_CV_PREDICTIONS = ("SELECT chain_id, fold_id, sample_id, target, y_pred FROM predictions WHERE run_id = $run_id "
                  "AND partition = 'val' AND fold_id <> $fold_final")
_DATASET_AXIS = "SELECT wavelengths, wavelength_unit FROM datasets WHERE dataset_hash = $dataset_hash"
_CHAIN_SCORES = ("SELECT fold_id, partition, target, metric, value FROM scores WHERE run_id = $run_id "
                 "AND chain_id = $chain_id AND (fold_id = $pooled OR fold_id = $final) AND level = 'spectrum'")
_CLASS_LABELS = ("SELECT DISTINCT y_true, label_true FROM predictions WHERE run_id = $run_id AND "
                 "chain_id = $chain_id AND label_true IS NOT NULL ORDER BY y_true")
_ARTIFACTS = "SELECT * FROM artifacts WHERE run_id = $run_id AND chain_id = $chain_id"
_FOLD_ARTIFACTS = "SELECT * FROM artifacts WHERE run_id = $run_id AND fold_id = $fold_id"
_CHAINS_WITH_ARTIFACTS = "SELECT DISTINCT chain_id FROM artifacts WHERE run_id = $run_id ORDER BY chain_id"
_NODE_EVENTS = "SELECT node, seconds, cache FROM events WHERE run_id = $run_id"
_RANKED_REGRESSION = (
    "SELECT rank, chain_id, branch_name, preprocessing, n_components, rmsecv, rmsep, refit FROM v_ranked_chains "
    "WHERE run_id = $run_id ORDER BY rank LIMIT $limit")
_RANKED_CLASSIFIERS = (
    "SELECT rank, chain_id, branch_name, preprocessing, model, n_components, rank_metric, cv_accuracy, "
    "cv_balanced_accuracy, test_accuracy, test_balanced_accuracy, refit FROM v_ranked_classifiers "
    "WHERE run_id = $run_id ORDER BY rank LIMIT $limit")
_RANKED_CHAINS = (
    "SELECT c.rank, c.chain_id, c.branch_name, c.preprocessing, c.n_components, s.value, c.refit "
    "FROM chains c JOIN scores s ON s.run_id = c.run_id AND s.chain_id = c.chain_id "
    "WHERE c.run_id = $run_id AND s.fold_id = $pooled AND s.partition = 'val' AND s.target = c.rank_target "
    "AND s.metric = c.rank_metric AND s.level = c.rank_level ORDER BY c.rank, s.value, c.n_components, c.chain_id "
    "LIMIT $limit")
# Per chain and level (spectrum; sample with replicates): pooled RMSECV and the refit's RMSEP of one target.
_LEVEL_ERRORS = (
    "SELECT chain_id, level, max(CASE WHEN fold_id = $pooled AND partition = 'val' THEN value END) AS rmsecv, "
    "max(CASE WHEN fold_id = $final AND partition = 'test' THEN value END) AS rmsep FROM scores "
    "WHERE run_id = $run_id AND target = $target AND metric = 'rmse' GROUP BY chain_id, level")
_TARGET_ERRORS = "SELECT chain_id, target, rmsecv, rmsep FROM v_ranked_chains WHERE run_id = $run_id"
_RUN_PREFIX = "SELECT run_id FROM runs WHERE starts_with(run_id, $prefix) ORDER BY run_id LIMIT 6"
_LATEST = "SELECT run_id FROM runs WHERE status = 'completed' ORDER BY started_at DESC, run_id DESC LIMIT 1"
_SAME_PLAN = ("SELECT run_id FROM runs WHERE status = 'completed' AND plan_hash = $plan_hash "
              "AND nirdag_version = $version ORDER BY started_at DESC, run_id DESC")
_ARTIFACT_COUNT = "SELECT count(*) AS n FROM artifacts WHERE run_id = $run_id"
LATEST = "latest"


def _rows(session: Session, sql: str, **params: Any) -> list[Row]:
    return session.query(sql, **params).to_pylist()


def _first(session: Session, sql: str, **params: Any) -> Row | None:
    rows = _rows(session, sql, **params)
    return rows[0] if rows else None


def run_row(session: Session, run_id: str) -> Row | None:
    """The ``runs`` row of ``run_id``; None when the workspace has no such run."""
    return _first(session, _RUN, run_id=run_id)


def resolve_run(session: Session, ref: str) -> str:
    """The run id a user means: ``latest`` (the most recently started completed run), a run id, or a unique prefix
    of one (``20261203T1510`` or more). Raises RunNotFound naming what matched."""
    if "runs" not in session.tables:
        raise RunNotFound(f"workspace {session.root} has no runs yet")
    if ref == LATEST:
        row = _first(session, _LATEST)
        if row is None:
            raise RunNotFound(f"workspace {session.root} has no completed run (`latest` names the newest one)")
        return row["run_id"]
    if run_row(session, ref) is not None:
        return ref
    found = [r["run_id"] for r in _rows(session, _RUN_PREFIX, prefix=ref)] if ref else []
    if len(found) == 1:
        return found[0]
    if not found:
        raise RunNotFound(f"no run {ref!r} in workspace {session.root} (give a run id, a unique prefix of one, "
                          "or `latest`; `nirdag runs list` lists them)")
    shown = ", ".join(found[:5]) + (" ..." if len(found) > 5 else "")
    raise RunNotFound(f"run prefix {ref!r} matches several runs ({shown}): give more of the id")


def completed_run_of_plan(session: Session, plan_hash: str, version: str, *, needs_artifacts: bool) -> str | None:
    """The newest completed run of this exact plan (same spec, dataset, seed and policy) made by this nirdag
    version, whose fitted objects are still stored when ``needs_artifacts`` (``artifacts purge`` drops them); None
    when there is none."""
    if "runs" not in session.tables:
        return None
    for row in _rows(session, _SAME_PLAN, plan_hash=plan_hash, version=version):
        if not needs_artifacts or ("artifacts" in session.tables
                                   and _first(session, _ARTIFACT_COUNT, run_id=row["run_id"])["n"] > 0):
            return row["run_id"]
    return None


def runs(session: Session) -> pa.Table:
    """One row per run, newest first."""
    return session.query(_RUNS)


def run_summary(session: Session, run_id: str) -> pa.Table:
    """A run's row with its chain count and, from ``v_runs``, its rank metric, best chain and its pooled CV value
    (empty when there is no such run)."""
    return session.query(_RUN_SUMMARY, run_id=run_id)


def stored_run(session: Session, run_id: str) -> Row | None:
    """What rebuilds a run: status, seed, hashes, the spec as it ran (``spec_json``) and its seconds (``s``)."""
    return _first(session, _STORED_RUN, run_id=run_id)


def cv_val_predictions(session: Session, run_id: str) -> pa.Table:
    """The out-of-fold (``val``) predictions of every chain of a run in its CV folds (not ``fold_final``)."""
    return session.query(_CV_PREDICTIONS, run_id=run_id, fold_final=FOLD_FINAL)


def pipeline_spec_json(session: Session, pipeline_hash: str) -> str | None:
    row = _first(session, _PIPELINE, pipeline_hash=pipeline_hash)
    return None if row is None else row["spec_json"]


def chain_row(session: Session, run_id: str, chain_id: str) -> Row | None:
    """The ``chains`` row of one chain of a run."""
    return _first(session, _CHAIN, run_id=run_id, chain_id=chain_id)


def chain_ids_with_prefix(session: Session, run_id: str, prefix: str) -> list[str]:
    """The chain ids of a run starting with ``prefix`` (a full id matches itself)."""
    return [r["chain_id"] for r in _rows(session, _CHAIN_PREFIX, run_id=run_id, prefix=prefix)]


def best_refit_chain(session: Session, run_id: str) -> str | None:
    """The refit chain ranked first by the run's own ranking (``chains.rank``); None when none was refit."""
    row = _first(session, _BEST_REFIT, run_id=run_id)
    return None if row is None else row["chain_id"]


def unranked_refit_chains(session: Session, run_id: str) -> int:
    """How many refit chains of a run have no stored rank (runs made before the ranking was stored)."""
    return _rows(session, _UNRANKED_REFIT, run_id=run_id)[0]["n"]


def dataset_axis(session: Session, dataset_hash: str) -> Row | None:
    """``wavelengths`` and ``wavelength_unit`` of a stored dataset."""
    return _first(session, _DATASET_AXIS, dataset_hash=dataset_hash)


def chain_scores(session: Session, run_id: str, chain_id: str) -> list[Row]:
    """A chain's pooled CV and ``fold_final`` scores (fold_id, partition, target, metric, value)."""
    return _rows(session, _CHAIN_SCORES, run_id=run_id, chain_id=chain_id, pooled=POOLED_CV, final=FOLD_FINAL)


def class_labels(session: Session, run_id: str, chain_id: str) -> list[Row]:
    """The (class code, label) pairs a classification chain's stored predictions use, by code."""
    return _rows(session, _CLASS_LABELS, run_id=run_id, chain_id=chain_id)


def artifact_rows(session: Session, run_id: str, chain_id: str) -> list[Row]:
    """The artifact rows (fitted objects) of one chain of a run."""
    return _rows(session, _ARTIFACTS, run_id=run_id, chain_id=chain_id)


def fold_artifact_rows(session: Session, run_id: str, fold_id: str) -> list[Row]:
    """Every artifact row of a run fitted in ``fold_id``."""
    return _rows(session, _FOLD_ARTIFACTS, run_id=run_id, fold_id=fold_id)


def chains_with_artifacts(session: Session, run_id: str) -> list[str]:
    """The chains of a run that kept fitted objects (its refit chains), sorted."""
    return [r["chain_id"] for r in _rows(session, _CHAINS_WITH_ARTIFACTS, run_id=run_id)]


def node_events(session: Session, run_id: str) -> list[Row]:
    """Per executed node of a run: its seconds and cache status."""
    return _rows(session, _NODE_EVENTS, run_id=run_id)


def ranked_regression(session: Session, run_id: str, limit: int) -> pa.Table:
    """The ``limit`` best chains of a single-target regression run (``v_ranked_chains``)."""
    return session.query(_RANKED_REGRESSION, run_id=run_id, limit=int(limit))


def ranked_classifiers(session: Session, run_id: str, limit: int) -> pa.Table:
    """The ``limit`` best chains of a classification run (``v_ranked_classifiers``)."""
    return session.query(_RANKED_CLASSIFIERS, run_id=run_id, limit=int(limit))


def level_errors(session: Session, run_id: str, target: str) -> list[Row]:
    """Every chain's pooled RMSECV and refit RMSEP of ``target`` at each level of its scores (``spectrum``, and
    ``sample`` when the dataset declares replicates): rows of chain_id, level, rmsecv, rmsep."""
    return _rows(session, _LEVEL_ERRORS, run_id=run_id, target=target, pooled=POOLED_CV, final=FOLD_FINAL)


def ranked_multi_target(session: Session, run_id: str, targets: tuple[str, ...], rank_metric: str,
                        limit: int) -> pa.Table:
    """The ``limit`` best chains of a multi-target run in the run's ranking: rank, chain, the pooled CV value of the
    rank metric (a column named after it) and per target ``rmsecv_<target>`` and ``rmsep_<target>``."""
    ranked = _rows(session, _RANKED_CHAINS, run_id=run_id, pooled=POOLED_CV, limit=int(limit))
    errors = {(r["chain_id"], r["target"]): r for r in _rows(session, _TARGET_ERRORS, run_id=run_id)}
    per_target = [(f"{measure}_{target}", measure, target) for measure in ("rmsecv", "rmsep") for target in targets]
    schema = pa.schema([("rank", pa.int64()), ("chain_id", pa.string()), ("branch_name", pa.string()),
                        ("preprocessing", pa.string()), ("n_components", pa.int64()), (rank_metric, pa.float64()),
                        *((name, pa.float64()) for name, _, _ in per_target), ("refit", pa.bool_())])
    rows = [{**r, rank_metric: r["value"],
             **{name: errors.get((r["chain_id"], target), {}).get(measure) for name, measure, target in per_target}}
            for r in ranked]
    return pa.Table.from_pylist(rows, schema=schema)
