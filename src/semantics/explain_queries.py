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
_EXPLANATION = ("SELECT target, method, variable, wavelength, importance, std FROM explanations "
                "WHERE run_id = $run_id AND chain_id = $chain_id AND method = $method ORDER BY target, variable")


def out_of_fold(session: Session, run_id: str, chain_id: str) -> pa.Table:
    """A chain's out-of-fold predictions (``val`` rows of every CV fold, never ``fold_final``) with their truth:
    ``fold_id, sample_id, target, y_true, y_pred``."""
    return session.query(_OUT_OF_FOLD, run_id=run_id, chain_id=chain_id, fold_final=FOLD_FINAL)


def calibration_ids(session: Session, run_id: str, chain_id: str) -> list[str]:
    """The sample ids the chain's ``fold_final`` model was fitted on (its ``train`` predictions), sorted."""
    rows = session.query(_CALIBRATION_IDS, run_id=run_id, chain_id=chain_id, fold_final=FOLD_FINAL)
    return rows.column("sample_id").to_pylist()


def explanation(session: Session, run_id: str, chain_id: str, method: str) -> pa.Table:
    """The ``explanations`` rows of one chain and method (the caller checks that the table exists)."""
    return session.query(_EXPLANATION, run_id=run_id, chain_id=chain_id, method=method)
