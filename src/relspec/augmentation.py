"""The augment steps of a plan: their references (identity and seed) and the finding that records how many synthetic
rows each fold's training block gets."""

from __future__ import annotations

from collections.abc import Sequence

import msgspec

from nirs_core.augment import Augmenter
from relspec.hashing import sha256_of
from relspec.plan import FOLD_FINAL, AugmentRef, FoldSpec
from relspec.validation import Finding


def augment_refs(augmenters: Sequence[tuple[Augmenter, str]], seed: int, by_class: bool) -> tuple[AugmentRef, ...]:
    """The plan's augment steps in spec order; a step without its own ``seed`` takes the run's."""
    refs = []
    for augmenter, _ in augmenters:
        canonical = msgspec.to_builtins(augmenter)
        params = ",".join(f"{k}={v}" for k, v in sorted(canonical.items()) if k != "kind" and v is not None)
        refs.append(
            AugmentRef(
                augmenter=augmenter,
                step_hash=sha256_of("augment", canonical),
                seed=seed if augmenter.seed is None else augmenter.seed,
                by_class=by_class,
                label=f"augment:{augmenter.kind}({params})" if params else f"augment:{augmenter.kind}",
            )
        )
    return tuple(refs)


def synthetic_rows(refs: Sequence[AugmentRef], n_real: int) -> int:
    """How many synthetic rows the augment steps add to a training block of ``n_real`` rows."""
    return sum(r.augmenter.n_synthetic(n_real) for r in refs)


def augmentation_findings(
    refs: Sequence[AugmentRef], folds: Sequence[FoldSpec], n_final: int, where: str
) -> list[Finding]:
    """One info finding: the real and synthetic training rows of every fold and of the refit."""
    if not refs:
        return []
    counts = [(f.fold_id, len(f.train_rows)) for f in folds] + [(FOLD_FINAL, n_final)]
    listed = ", ".join(f"{fold_id}: {n} real + {synthetic_rows(refs, n)} synthetic" for fold_id, n in counts)
    return [
        Finding(
            code="augmentation",
            severity="info",
            path=where,
            message=f"{' > '.join(r.label for r in refs)} adds synthetic rows to each training block only "
            f"(never to validation or test rows, never at predict time): {listed}",
        )
    ]
