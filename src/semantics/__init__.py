"""semantics: view kinds, view specs and the view catalog compiled to DataFusion plans, with join inference."""

from semantics.catalog import CATALOG, V_RANKED_CHAINS
from semantics.compiler import CompiledView, compile_view
from semantics.errors import JoinInferenceError, ViewError, ViewPolicyError
from semantics.joins import JoinDecision
from semantics.kinds import ViewKind, ViewSpec, decode_view
from semantics.session import ViewSession, open_session, view_columns

__all__ = ["CATALOG", "V_RANKED_CHAINS", "CompiledView", "JoinDecision", "JoinInferenceError", "ViewError",
           "ViewKind", "ViewPolicyError", "ViewSession", "ViewSpec", "compile_view", "decode_view", "open_session",
           "view_columns"]
