"""Errors of the execution engine."""

from nirs_core.errors import NirdagError


class PictureError(NirdagError):
    """A DAG picture cannot be drawn (unknown format, Graphviz's `dot` binary missing)."""


class ExecutorError(NirdagError):
    """The executor the policy names cannot be set up (a missing optional dependency)."""


class NodeError(NirdagError):
    """A node raised while the plan ran; the message names the node and the chains it serves."""

