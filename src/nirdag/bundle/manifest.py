"""The bundle manifest: what a bundle holds and the sha256 of every member (msgspec, decoded strictly once)."""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from nirdag.bundle.errors import BundleError

SCHEMA_VERSION = 1
_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


class StepEntry(msgspec.Struct, **_FROZEN):
    """One step of the chain as configured (the fitted object is a member of each fold)."""

    role: Literal["transformer", "y_transform", "model", "meta_model"]
    op: str
    class_path: str
    params: dict[str, Any]
    step_hash: str


class ChainEntry(msgspec.Struct, **_FROZEN):
    chain_id: str
    pipeline_hash: str
    branch_name: str
    preprocessing: str
    model: str
    n_components: int | None
    steps: tuple[StepEntry, ...]


class FoldEntry(msgspec.Struct, **_FROZEN):
    """One fold's fitted chain: member names of its transformers (in order), its model and its y transform."""

    fold_id: str
    steps: tuple[str, ...]
    model: str
    y_transform: str | None


class BaseChainEntry(msgspec.Struct, **_FROZEN):
    """A base chain of a stacked chain: its identity and steps, and its fitted ``fold_final`` chain."""

    chain: ChainEntry
    fold: FoldEntry


class Manifest(msgspec.Struct, omit_defaults=True, **_FROZEN):
    """What a bundle holds. ``task`` and ``classes`` are written for classification only, ``base_chains`` for a
    stacked chain only (omitted at their defaults, so a regression manifest of one chain reads as before).

    A stacked chain's ``folds`` hold only ``fold_final``, whose model is the meta-model (no transformers); its
    inputs are the ``fold_final`` predictions of ``base_chains``, one column each in this order.
    """

    schema_version: int
    nirdag_version: str
    created_at: str
    run_id: str
    training_dataset_hash: str
    target_names: tuple[str, ...]
    wavelengths: tuple[float, ...]
    wavelength_unit: str
    chain: ChainEntry
    metrics: dict[str, float]
    folds: tuple[FoldEntry, ...]  # fold_final first, then the CV folds
    members: dict[str, str]  # member name -> sha256 hex of its bytes
    task: Literal["regression", "classification"] = "regression"
    classes: tuple[str, ...] = ()  # classification: the labels of the model's class codes 0, 1, ...
    base_chains: tuple[BaseChainEntry, ...] = ()  # stacked chain: its base chains in the meta-model's column order


class Signature(msgspec.Struct, **_FROZEN):
    """``signature.json``: the manifest's sha256, and its HMAC-SHA256 under the signing key when signed."""

    manifest_sha256: str
    hmac_sha256: str | None


class _Version(msgspec.Struct):
    schema_version: int


def encode(manifest: Manifest) -> bytes:
    """Canonical JSON (sorted keys): the bytes that are hashed and signed."""
    return msgspec.json.encode(msgspec.to_builtins(manifest), order="sorted")


def decode(data: bytes, where: str) -> Manifest:
    """Strict decode; a manifest of a newer schema_version is refused before its fields are read."""
    try:
        version = msgspec.json.decode(data, type=_Version).schema_version
    except msgspec.DecodeError as exc:
        raise BundleError(f"{where}: manifest.json is not a valid manifest: {exc}") from None
    if version > SCHEMA_VERSION:
        raise BundleError(f"{where}: manifest schema_version {version} is newer than this nirdag reads "
                          f"({SCHEMA_VERSION}); upgrade nirdag to load this bundle")
    if version < 1:
        raise BundleError(f"{where}: manifest schema_version {version} is not a valid version (>= 1)")
    try:
        return msgspec.json.decode(data, type=Manifest)
    except msgspec.DecodeError as exc:
        raise BundleError(f"{where}: manifest.json is not a valid manifest: {exc}") from None
