"""Named queries of what a chain's fits decided per fold: the training rows its sample filters dropped and the
columns its selections kept (constant SQL, ``$name`` values), for export and reports."""

from __future__ import annotations

from typing import Any

from semantics.queries import Session

EXCLUSIONS_TABLE = "sample_exclusions"
SELECTIONS_TABLE = "selected_variables"
_EXCLUSIONS = ("SELECT step, op, sample_id, reason FROM sample_exclusions WHERE run_id = $run_id AND "
               "chain_id = $chain_id AND fold_id = $fold_id ORDER BY step, row")
_KEPT = ("SELECT step, op, variable, wavelength FROM selected_variables WHERE run_id = $run_id AND "
         "chain_id = $chain_id AND fold_id = $fold_id AND kept ORDER BY step, variable")


def fold_exclusions(session: Session, run_id: str, chain_id: str, fold_id: str) -> list[dict[str, Any]]:
    """The rows a chain's filters dropped on one fold (step, op, sample_id, reason), in step then row order; [] when
    the run has no ``sample_exclusions`` table (made before it existed)."""
    if EXCLUSIONS_TABLE not in session.tables:
        return []
    return session.query(_EXCLUSIONS, run_id=run_id, chain_id=chain_id, fold_id=fold_id).to_pylist()


def fold_kept_variables(session: Session, run_id: str, chain_id: str, fold_id: str) -> list[dict[str, Any]]:
    """The input columns a chain's selection steps kept on one fold (step, op, variable, wavelength), in step then
    column order; [] without a ``selected_variables`` table."""
    if SELECTIONS_TABLE not in session.tables:
        return []
    return session.query(_KEPT, run_id=run_id, chain_id=chain_id, fold_id=fold_id).to_pylist()
