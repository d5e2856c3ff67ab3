"""The named queries the figures and the calibration report read: constant SQL whose values are ``$name`` parameters.

Kept apart from :mod:`semantics.queries` (the queries of runs, export and ranking); the same rule holds: a value
never enters the SQL text, so an id holding a quote is matched literally and finds nothing.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from relspec.plan import FOLD_FINAL, POOLED_CV
from semantics.queries import Session

Row = dict[str, Any]

_TOP_CHAIN = "SELECT * FROM chains WHERE run_id = $run_id AND rank IS NOT NULL ORDER BY rank LIMIT 1"
_RUN_CHAINS = ("SELECT chain_id, branch_name, preprocessing, model, n_components, refit, rank, rank_metric, "
               "rank_target, cv_loss FROM chains WHERE run_id = $run_id ORDER BY rank, chain_id")
# Per chain of a run: every score of the run's rank metric on the chain's rank target (pooled CV, each fold's
# validation and test rows, the refit's train and test rows).
_RANK_METRIC_SCORES = (
    "SELECT c.chain_id, c.branch_name, c.preprocessing, c.n_components, c.rank, c.refit, s.fold_id, s.partition, "
    "s.value FROM chains c JOIN scores s ON s.run_id = c.run_id AND s.chain_id = c.chain_id "
    "WHERE c.run_id = $run_id AND s.metric = c.rank_metric AND s.target = c.rank_target AND s.level = c.rank_level")
_METRIC_SCORES = (
    "SELECT c.chain_id, c.branch_name, c.preprocessing, c.n_components, c.rank, c.refit, s.fold_id, s.partition, "
    "s.value FROM chains c JOIN scores s ON s.run_id = c.run_id AND s.chain_id = c.chain_id "
    "WHERE c.run_id = $run_id AND s.metric = $metric AND s.target = $target AND s.level = 'spectrum'")
_CHAIN_PREDICTIONS = ("SELECT fold_id, partition, sample_id, target, y_true, y_pred, label_true, label_pred "
                      "FROM predictions WHERE run_id = $run_id AND chain_id = $chain_id AND target = $target")
_CHAIN_SCORES = ("SELECT fold_id, partition, target, metric, value FROM scores WHERE run_id = $run_id "
                 "AND chain_id = $chain_id AND (fold_id = $pooled OR fold_id = $final) AND level = $level "
                 "ORDER BY target, fold_id, "
                 "partition, metric")
_COMPONENTS = ("SELECT * FROM component_diagnostics WHERE run_id = $run_id AND chain_id = $chain_id "
               "AND target = $target ORDER BY n_components")
_IMPORTANCE = ("SELECT * FROM variable_importance WHERE run_id = $run_id AND chain_id = $chain_id "
               "AND target = $target ORDER BY variable")
_SAMPLES = ("SELECT * FROM sample_diagnostics WHERE run_id = $run_id AND chain_id = $chain_id "
            "AND target = $target ORDER BY partition DESC, sample_id")
_CONFUSION = ("SELECT * FROM confusion WHERE run_id = $run_id AND chain_id = $chain_id AND target = $target "
              "ORDER BY fold_id, partition, label_true, label_pred")
_CLASS_SCORES = ("SELECT * FROM class_scores WHERE run_id = $run_id AND chain_id = $chain_id AND target = $target "
                 "ORDER BY fold_id, partition, label")
_NODE_SECONDS = ("SELECT node, seconds, cache FROM events WHERE run_id = $run_id AND event = 'node' "
                 "ORDER BY seconds DESC")


def top_chain(session: Session, run_id: str) -> Row | None:
    """The ``chains`` row ranked first in its run (``chains.rank = 1``); None for a run without a ranking."""
    rows = session.query(_TOP_CHAIN, run_id=run_id).to_pylist()
    return rows[0] if rows else None


def run_chains(session: Session, run_id: str) -> pa.Table:
    """Every chain of a run in its ranking: ids, names, components, refit, rank, rank metric and target, cv_loss."""
    return session.query(_RUN_CHAINS, run_id=run_id)


def rank_metric_scores(session: Session, run_id: str) -> pa.Table:
    """Per chain: each stored value of the run's rank metric on its rank target, by fold_id and partition."""
    return session.query(_RANK_METRIC_SCORES, run_id=run_id)


def metric_scores(session: Session, run_id: str, metric: str, target: str) -> pa.Table:
    """Per chain: each stored value of ``metric`` on ``target``, by fold_id and partition."""
    return session.query(_METRIC_SCORES, run_id=run_id, metric=metric, target=target)


def chain_predictions(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    """Every stored prediction of one chain and target (CV folds' val and test rows, fold_final train and test)."""
    return session.query(_CHAIN_PREDICTIONS, run_id=run_id, chain_id=chain_id, target=target)


def chain_scores(session: Session, run_id: str, chain_id: str, level: str = "spectrum") -> pa.Table:
    """A chain's pooled CV and ``fold_final`` scores, every metric and target, at ``level`` (``spectrum``, or
    ``sample`` when the dataset declares replicates: none otherwise)."""
    return session.query(_CHAIN_SCORES, run_id=run_id, chain_id=chain_id, pooled=POOLED_CV, final=FOLD_FINAL,
                         level=level)


def component_diagnostics(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    return session.query(_COMPONENTS, run_id=run_id, chain_id=chain_id, target=target)


def variable_importance(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    return session.query(_IMPORTANCE, run_id=run_id, chain_id=chain_id, target=target)


def sample_diagnostics(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    """A refit chain's per-sample diagnostics of one target: train (calibration) rows, then test rows."""
    return session.query(_SAMPLES, run_id=run_id, chain_id=chain_id, target=target)


def confusion(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    return session.query(_CONFUSION, run_id=run_id, chain_id=chain_id, target=target)


def class_scores(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    return session.query(_CLASS_SCORES, run_id=run_id, chain_id=chain_id, target=target)


def node_seconds(session: Session, run_id: str) -> pa.Table:
    """The executed nodes of a run, slowest first: node, seconds, cache status."""
    return session.query(_NODE_SECONDS, run_id=run_id)
