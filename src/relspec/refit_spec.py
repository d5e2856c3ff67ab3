"""The refit block of the spec language and the rank metric names: msgspec only, so the compiled plan and the
read-only layers (views, queries, the CLI's `runs`/`query`) use them without loading the operator registry."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

MetricName = Literal["rmse", "mean_nrmse", "accuracy", "balanced_accuracy"]
REGRESSION_RANK_METRICS: tuple[MetricName, ...] = ("rmse", "mean_nrmse")
CLASSIFICATION_RANK_METRICS: tuple[MetricName, ...] = ("balanced_accuracy", "accuracy")


class RefitSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Which chains are refit on all train rows (``fold_final``): the ``top_k`` best by pooled CV ``metric``.

    ``metric`` defaults by task: ``rmse`` for a numeric target, ``balanced_accuracy`` for class labels, and for
    several numeric targets ``mean_nrmse`` (the mean over targets of RMSECV / standard deviation of the target's
    train values) unless ``target`` names the one target whose ``rmse`` ranks the chains. The compiled plan holds
    the resolved metric and target.
    """

    metric: MetricName | None = None
    top_k: Annotated[int, msgspec.Meta(ge=1)] = 1
    target: str | None = None
