"""Named queries of the applicability domain: the ``domains`` row of a run's chain (constant SQL, ``$name`` values).

Kept beside :mod:`semantics.queries` (same rules: every value is a DataFusion parameter, never SQL text) so the
bundle side of the applicability domain reads it in one place.
"""

from __future__ import annotations

from typing import Any

from semantics.queries import Session

DOMAINS_TABLE = "domains"
_CHAIN_DOMAIN = "SELECT * FROM domains WHERE run_id = $run_id AND chain_id = $chain_id"


def chain_domain(session: Session, run_id: str, chain_id: str) -> dict[str, Any] | None:
    """The ``domains`` row of one chain of a run (``datafusion_engine.schemas.DomainRow``); None when the run stored
    none for it (a model without latent structure, a stack, or a run made before domains were computed). The table's
    natural key is (run_id, chain_id): there is at most one row. The caller checks that the table exists."""
    rows = session.query(_CHAIN_DOMAIN, run_id=run_id, chain_id=chain_id).to_pylist()
    return rows[0] if rows else None
