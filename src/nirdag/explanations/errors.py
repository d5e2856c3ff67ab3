"""Errors of explanations: each message names the run, chain or method and what would be right."""

from nirs_core.errors import NirdagError


class ExplainError(NirdagError):
    """An explanation cannot be computed: unknown method, a method that does not apply to the chain's model, a
    missing optional dependency, or a chain without what the method needs."""
