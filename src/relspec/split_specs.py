"""The cross-validation schemes of the pipeline language (``split: {kind: ...}``): frozen msgspec structs."""

from __future__ import annotations

from typing import Annotated

import msgspec

_STRICT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


class _Scheme(msgspec.Struct, tag_field="kind", **_STRICT):
    """Base of the cross-validation schemes over the train rows; ``kind`` selects one.

    When the dataset declares replicates (the physical sample of each spectrum), the scheme is applied to the
    samples and every fold keeps a sample's spectra on one side (``loo`` leaves one sample out);
    ``group_replicates: false`` splits the spectra themselves, and the compiler warns that replicates leak.
    """

    # UNSET (= true) is left out of the canonical form, so specs written before replicates keep their hashes
    group_replicates: bool | msgspec.UnsetType = msgspec.UNSET

    def __post_init__(self) -> None:
        if self.group_replicates is True:  # written out, the default: one canonical form (and hash) for both
            msgspec.structs.force_setattr(self, "group_replicates", msgspec.UNSET)

    @property
    def groups_replicates(self) -> bool:
        """Whether the folds keep a sample's replicates together (``group_replicates`` unless set false)."""
        return self.group_replicates is not False

    # Whether every train row is validated exactly once (a partition of the rows): stacking needs it.
    partitions_rows = True


class _Split(_Scheme, **_STRICT):
    """A scheme of ``n_splits`` folds."""

    n_splits: Annotated[int, msgspec.Meta(ge=2)] = 5


class KFoldSplit(_Split, tag="kfold"):
    """K-fold; shuffled with the run's seed when ``shuffle``."""

    shuffle: bool = True


class KennardStoneSplit(_Split, tag="kennard_stone"):
    """Folds that each span the spectral space: Kennard-Stone order, fold = position mod n_splits."""


class SPXYSplit(_Split, tag="spxy"):
    """Like ``kennard_stone`` with distances on spectra and target together (SPXY)."""


class StratifiedSplit(_Split, tag="stratified"):
    """K-fold stratified on quantile bins of the target (``n_bins`` default: n_train // n_splits)."""

    n_bins: Annotated[int, msgspec.Meta(ge=2)] | None = None
    shuffle: bool = True


class GroupSplit(_Split, tag="group_kfold"):
    """K-fold where the rows sharing a value of metadata column ``groups`` (repetitions) stay together."""

    groups: str
    shuffle: bool = True


class LOOSplit(_Scheme, tag="loo"):
    """Leave-one-out: one fold per train row, validated on that row alone (scikit-learn's ``LeaveOneOut``)."""


class RepeatedKFoldSplit(_Split, tag="repeated_kfold"):
    """K-fold repeated ``n_repeats`` times with different seeded shuffles (scikit-learn's ``RepeatedKFold``).

    The folds are ``fold_0`` .. ``fold_{n_repeats * n_splits - 1}``: fold ``fold_{r * n_splits + i}`` is fold i of
    repeat r. Predictions are kept per fold (so per repeat); the pooled CV score is over all repeats' out-of-fold
    predictions (RMSECV = sqrt of the repeats' mean MSECV).
    """

    n_repeats: Annotated[int, msgspec.Meta(ge=1)] = 10
    partitions_rows = False


class VenetianBlindsSplit(_Split, tag="venetian_blinds"):
    """Venetian blinds: in the dataset's order of the train rows, blinds of ``thickness`` consecutive rows are dealt
    to the folds in turn (row at position p is validated in fold ``(p // thickness) % n_splits``)."""

    thickness: Annotated[int, msgspec.Meta(ge=1)] = 1


class ContiguousBlocksSplit(_Split, tag="contiguous_blocks"):
    """Contiguous blocks: the train rows, in the dataset's order, cut into ``n_splits`` consecutive blocks
    (scikit-learn's ``KFold(shuffle=False)``)."""


class MonteCarloSplit(_Split, tag="shuffle_split"):
    """Monte Carlo CV: ``n_splits`` seeded random validation sets of ``test_size`` of the train rows (scikit-learn's
    ``ShuffleSplit``); a row may be validated in several splits or in none."""

    n_splits: Annotated[int, msgspec.Meta(ge=2)] = 10
    test_size: Annotated[float, msgspec.Meta(gt=0.0, lt=1.0)] = 0.1
    partitions_rows = False


SplitSpec = (KFoldSplit | KennardStoneSplit | SPXYSplit | StratifiedSplit | GroupSplit | LOOSplit
             | RepeatedKFoldSplit | VenetianBlindsSplit | ContiguousBlocksSplit | MonteCarloSplit)
