"""The refit block of the spec language and the rank metric names: msgspec only, so the compiled plan and the
read-only layers (views, queries, the CLI's `runs`/`query`) use them without loading the operator registry."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

MetricName = Literal["rmse", "mean_nrmse", "accuracy", "balanced_accuracy"]
SelectRule = Literal["min", "one_se", "wold_r", "randomization"]
ScoreLevel = Literal["spectrum", "sample"]
SCORE_LEVELS: tuple[ScoreLevel, ...] = ("spectrum", "sample")
REGRESSION_RANK_METRICS: tuple[MetricName, ...] = ("rmse", "mean_nrmse")
CLASSIFICATION_RANK_METRICS: tuple[MetricName, ...] = ("balanced_accuracy", "accuracy")


class RefitSpec(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Which chains are refit on all train rows (``fold_final``): the ``top_k`` best by pooled CV ``metric``.

    ``metric`` defaults by task: ``rmse`` for a numeric target, ``balanced_accuracy`` for class labels, and for
    several numeric targets ``mean_nrmse`` (the mean over targets of RMSECV / standard deviation of the target's
    train values) unless ``target`` names the one target whose ``rmse`` ranks the chains. The compiled plan holds
    the resolved metric and target.

    ``select`` is how the number of components of a refit chain is chosen among its sweep's counts (one numeric
    target): ``min`` the count of lowest RMSECV (the ranking's first); ``one_se`` the fewest components whose
    RMSECV is within one standard error (across folds) of the minimum; ``wold_r`` the count after which one more
    component lowers PRESS by less than ``1 - r_threshold`` (Wold's R = PRESS(k+1)/PRESS(k) > ``r_threshold``);
    ``randomization`` the fewest components whose squared CV residuals are not significantly larger than those
    of the minimum (van der Voet's randomization test, ``permutations`` seeded sign flips, level ``alpha``).

    ``level`` is what is scored for the ranking and the component rule: each ``spectrum``, or each physical
    ``sample`` (the mean of its replicates' predictions; the dataset must declare replicates). Default: ``sample``
    when the dataset declares replicates, else ``spectrum``; the compiled plan holds the resolved level.
    """

    metric: MetricName | None = None
    top_k: Annotated[int, msgspec.Meta(ge=1)] = 1
    target: str | None = None
    select: SelectRule = "min"
    r_threshold: Annotated[float, msgspec.Meta(gt=0, le=1)] = 0.95
    alpha: Annotated[float, msgspec.Meta(gt=0, lt=1)] = 0.05
    permutations: Annotated[int, msgspec.Meta(ge=19, le=100_000)] = 999
    # UNSET (= the default by data) is left out of the canonical form: plans without replicates keep their hashes
    level: ScoreLevel | msgspec.UnsetType = msgspec.UNSET
