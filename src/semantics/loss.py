"""The SQL of a metric's direction, generated from its one Python definition (``nirs_core.metrics``).

Views that rank by a metric other than the run's stored ranking (``chains.rank``) build their loss here, so no view
spells which metrics are better high: adding a metric to ``HIGHER_IS_BETTER`` changes every view that ranks by it.
The sets are read when a function is called (the catalog calls them once, when it is built).
"""

from __future__ import annotations

from collections.abc import Iterable

from nirs_core import metrics


def sql_list(names: Iterable[str]) -> str:
    """A SQL list of string literals, sorted: ``('a', 'b')`` (quotes inside a name are doubled)."""
    quoted = ", ".join("'" + n.replace("'", "''") + "'" for n in sorted(names))
    return f"({quoted})"


def higher_is_better_sql(metric: str) -> str:
    """A SQL predicate: the metric named by the expression ``metric`` is better high (``HIGHER_IS_BETTER``)."""
    return f"{metric} IN {sql_list(metrics.HIGHER_IS_BETTER)}"


def loss_sql(metric: str, value: str) -> str:
    """The SQL of :func:`nirs_core.metrics.loss` over the expressions ``metric`` (its name) and ``value``: lower is
    better (``-value`` when higher is better, ``abs(value)`` when closest to zero is, ``abs(value - 1)`` when
    closest to one is, else ``value``)."""
    return (f"CASE WHEN {higher_is_better_sql(metric)} THEN -({value}) "
            f"WHEN {metric} IN {sql_list(metrics.CLOSEST_TO_ZERO_IS_BETTER)} THEN abs({value}) "
            f"WHEN {metric} IN {sql_list(metrics.CLOSEST_TO_ONE_IS_BETTER)} THEN abs({value} - 1) ELSE {value} END")
