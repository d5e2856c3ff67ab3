"""Named queries of intervals and explanations: a chain's out-of-fold predictions with their truth and its
calibration rows (constant SQL, ``$name`` values, as in :mod:`semantics.queries`)."""

from __future__ import annotations

import pyarrow as pa

from relspec.plan import FOLD_FINAL
from semantics.queries import Session

EXPLANATIONS_TABLE = "explanations"
_OUT_OF_FOLD = ("SELECT fold_id, sample_id, target, y_true, y_pred FROM predictions WHERE run_id = $run_id AND "
                "chain_id = $chain_id AND partition = 'val' AND fold_id <> $fold_final "
                "ORDER BY target, fold_id, sample_id")
_CALIBRATION_IDS = ("SELECT DISTINCT sample_id FROM predictions WHERE run_id = $run_id AND chain_id = $chain_id "
                    "AND partition = 'train' AND fold_id = $fold_final ORDER BY sample_id")
_EXPLANATIONS = ("SELECT target, method, block_size, variable, axis, wavelength, importance, std FROM explanations "
                 "WHERE run_id = $run_id AND chain_id = $chain_id AND target = $target "
                 "ORDER BY method, block_size, variable")


def out_of_fold(session: Session, run_id: str, chain_id: str) -> pa.Table:
    """A chain's out-of-fold predictions (``val`` rows of every CV fold, never ``fold_final``) with their truth:
    ``fold_id, sample_id, target, y_true, y_pred``."""
    return session.query(_OUT_OF_FOLD, run_id=run_id, chain_id=chain_id, fold_final=FOLD_FINAL)


def calibration_ids(session: Session, run_id: str, chain_id: str) -> list[str]:
    """The sample ids the chain's ``fold_final`` model was fitted on (its ``train`` predictions), sorted."""
    rows = session.query(_CALIBRATION_IDS, run_id=run_id, chain_id=chain_id, fold_final=FOLD_FINAL)
    return rows.column("sample_id").to_pylist()


def chain_explanations(session: Session, run_id: str, chain_id: str, target: str) -> pa.Table:
    """Every ``explanations`` row of one chain and target, by method, block size and variable (the caller checks
    that the table exists)."""
    return session.query(_EXPLANATIONS, run_id=run_id, chain_id=chain_id, target=target)
