"""semantics: named views over the workspace tables, registered in every workspace session."""

from semantics.catalog import CATALOG, V_RANKED_CHAINS, ViewSpec, open_session, view_columns

__all__ = ["CATALOG", "V_RANKED_CHAINS", "ViewSpec", "open_session", "view_columns"]
