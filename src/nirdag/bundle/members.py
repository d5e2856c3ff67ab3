"""What a manifest says each member is: the members its folds, steps and base chains use, and the class each one
must be (its chain's ``steps`` entry); checked before any member is decompressed, and each object after loading."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from nirdag.bundle.errors import BundleError, TamperedBundleError
from nirdag.bundle.manifest import ChainEntry, FoldEntry, Manifest
from nirs_core.operators.registry import class_path

_MODEL_ROLES = ("model", "meta_model")


def _fold_classes(chain: ChainEntry, fold: FoldEntry, where: str) -> Iterator[tuple[str, str]]:
    """(member, class_path) of one fold: its transformers in order, its y transform, its model — matched with the
    chain's step entries of those roles."""
    transformers = [s.class_path for s in chain.steps if s.role == "transformer"]
    y_transforms = [s.class_path for s in chain.steps if s.role == "y_transform"]
    models = [s.class_path for s in chain.steps if s.role in _MODEL_ROLES]
    if (len(models) != 1 or len(y_transforms) > 1 or len(fold.steps) != len(transformers)
            or (fold.y_transform is None) != (not y_transforms)):
        raise BundleError(f"{where}: fold {fold.fold_id!r} of chain {chain.chain_id} holds {len(fold.steps)} "
                          f"transformers{' and a y transform' if fold.y_transform else ''}, but the chain's steps "
                          f"list {len(transformers)} transformers, {len(y_transforms)} y transforms and "
                          f"{len(models)} models")
    yield from zip(fold.steps, transformers, strict=True)
    if fold.y_transform is not None:
        yield fold.y_transform, y_transforms[0]
    yield fold.model, models[0]


def expected_classes(manifest: Manifest, where: str) -> dict[str, str]:
    """Member name -> the class its object must be, for every member a fold, step or base chain uses; the member
    set must be exactly the manifest's ``members`` (nothing unused, nothing missing), checked before any member is
    decompressed."""
    pairs = [pair for fold in manifest.folds for pair in _fold_classes(manifest.chain, fold, where)]
    pairs += [pair for base in manifest.base_chains for pair in _fold_classes(base.chain, base.fold, where)]
    expected: dict[str, str] = {}
    for name, cls in pairs:
        if expected.setdefault(name, cls) != cls:
            raise BundleError(f"{where}: member {name} is used as a {expected[name]} and as a {cls}")
    listed = set(manifest.members)
    missing = sorted(set(expected) - listed)
    if missing:
        raise BundleError(f"{where}: the manifest's folds use members {missing}, which it does not list")
    unused = sorted(listed - set(expected))
    if unused:
        raise TamperedBundleError(f"{where}: the manifest lists members {unused} that no fold, step or base chain "
                                  "uses; a bundle holds only the objects its chain needs")
    return expected


def check_class(obj: Any, expected: str, where: str) -> Any:
    """``obj`` when its class is ``expected`` (the manifest's ``class_path``); a BundleError otherwise."""
    found = class_path(type(obj))
    if found != expected:
        raise BundleError(f"{where} is a {found}, but the manifest's step says {expected}")
    return obj
