"""Errors of the view layer: bad view specs, policy gaps, joins that cannot be inferred."""

from nirs_core.errors import NirdagError


class ViewError(NirdagError):
    """A view spec is invalid or cannot be compiled (unknown kind, missing table, clashing columns)."""


class ViewPolicyError(ViewError):
    """A view needs a UDF or table that the execution policy did not declare."""


class JoinInferenceError(ViewError):
    """A join's keys cannot be found from the column roles: none, or more than one candidate; lists them."""


class RunNotFound(NirdagError):
    """A run reference (a run id, a unique prefix of one, or ``latest``) matches no run, or several."""
