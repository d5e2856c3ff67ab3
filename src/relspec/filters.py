"""Where a sample filter may stand in a pipeline, checked before anything runs.

A filter (``x_outliers``, ``y_outliers``, ``leverage``: ``nirs_core.operators.filters``) drops training rows from
the fit of the steps after it. It stands among the transforms of a path, before the model (a step after the model
is refused by the layout), never inside a ``merge: features`` branch (whose members see the same rows), and
``y_outliers`` judges numeric targets only.
"""

from __future__ import annotations

from collections.abc import Sequence

from nirs_core.operators.filters import RowFilter, YOutliers
from relspec.errors import CompileError
from relspec.layout import FeatureMerge, Path
from relspec.plan import Task
from relspec.validation import Finding


def is_filter(step: object) -> bool:
    """Whether a transform step struct names a sample filter."""
    operator = getattr(type(step), "operator", None)
    return isinstance(operator, type) and issubclass(operator, RowFilter)


def check_filters_outside(merge: FeatureMerge) -> None:
    """A CompileError for a sample filter inside a ``merge: features`` branch."""
    for _, steps, where in merge.members:
        for step, at in zip(steps, where, strict=True):
            if is_filter(step):
                raise CompileError(f"sample filter {type(step).operator.spec_name!r} inside a `merge: features` "
                                   f"branch (at `{merge.where}`): its members transform the same rows side by side; "
                                   f"put the filter before the branch - at `{at}`")


def check_filters(paths: Sequence[Path], task: Task) -> None:
    """A CompileError for ``y_outliers`` on a classification target (class codes have no outliers)."""
    if task != "classification":
        return
    for path in paths:
        for step, at in zip(path.steps, path.where, strict=True):
            if is_filter(step) and type(step).operator is YOutliers:
                raise CompileError(f"y_outliers judges numeric targets by MAD or IQR; the target of this pipeline "
                                   f"holds class labels - at `{at}`")


def filter_findings(paths: Sequence[Path]) -> tuple[Finding, ...]:
    """An info finding per sample filter (what it does to the folds), and one per row-wise stateless step written
    after a filter: it is computed in every fold instead of once above the folds (before the filter it would be)."""
    out: dict[str, Finding] = {}
    for path in paths:
        first = next((i for i, step in enumerate(path.steps) if is_filter(step)), None)
        if first is None:
            continue
        for step, at in zip(path.steps[first:], path.where[first:], strict=True):
            operator = getattr(type(step), "operator", None)
            if is_filter(step):
                message = (f"{operator.spec_name} is decided on each fold's training rows (all train rows for the "
                           "refit); the rows it drops are left out of the later fits, never out of the validation "
                           "or test predictions (table sample_exclusions)")
            elif operator is not None and operator.traits.row_wise_stateless:
                message = (f"{operator.spec_name} follows a sample filter, so it is computed in every fold; "
                           "written before the filter it would be computed once for all rows")
            else:
                continue
            out.setdefault(at, Finding(code="sample_filter", severity="info", path=at, message=message))
    return tuple(out.values())
