"""The bundle manifest: what a bundle holds and the sha256 of every member (msgspec, decoded strictly once).

Schema versions: 1 (no applicability domain), 2 (``domain``: the refit chain's calibration facts and limits, copied
from the workspace's ``domains`` table), 3 (``calibration``: the conformity scores of a regression chain's pooled
out-of-fold residuals, for prediction intervals; ``selected_variables`` and ``sample_exclusions``: what the refit's
column selections kept and its sample filters dropped, copied from the workspace tables of those names; and, for a
bundle derived from another, ``transfer``, ``correction``, ``parent_bundle_hash``, ``data_hash``, ``derived_by``;
see :mod:`nirdag.bundle.derive`). A reader refuses a version newer than its own and reads every older one.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec
import msgspec.structs
import numpy as np

from nirdag.bundle.errors import BundleError
from nirs_core.conformal import ConformalCalibration
from nirs_core.diagnostics import Domain
from nirs_core.transfer import SlopeBias, SpectralTransfer

SCHEMA_VERSION = 3
DOMAIN_SINCE = 2  # the first schema version whose manifests may carry a domain
DERIVED_SINCE = 3  # the first schema version whose manifests may carry a transfer, a correction and a parent
DerivedBy = Literal["retrain_full", "retrain_transfer", "retrain_bias", "transfer_pds", "transfer_ds",
                    "transfer_slope_bias"]
CALIBRATION_SINCE = 3  # the first schema version whose manifests may carry conformal calibration scores
FOLD_RECORDS_SINCE = 3  # the first whose manifests may list the refit's kept wavelengths and excluded samples
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


class SelectionEntry(msgspec.Struct, **_FROZEN):
    """The input columns a column-selection step of the chain kept in its refit (``fold_final``): ``step`` its
    0-based place among the chain's preprocessing steps, ``variables`` the kept columns' indices in its input and
    ``wavelengths`` their axis values. The fitted step (a member) applies the same selection at predict time."""

    step: int
    op: str
    variables: tuple[int, ...]
    wavelengths: tuple[float, ...]


class ExclusionEntry(msgspec.Struct, **_FROZEN):
    """A training sample a sample filter of the chain dropped from its refit (``fold_final``), with the reason.
    Provenance only: a bundle never drops a spectrum at predict time."""

    step: int
    op: str
    sample_id: str
    reason: str


class Manifest(msgspec.Struct, omit_defaults=True, **_FROZEN):
    """What a bundle holds. ``task`` and ``classes`` are written for classification only, ``base_chains`` for a
    stacked chain only, ``domain`` for a chain whose model has a latent structure and whose run stored its
    applicability domain (omitted at their defaults, so a regression manifest of one chain reads as before).

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
    domain: Domain | None = None  # the refit chain's applicability domain (the run's `domains` row), since v2
    # Since v3, a bundle derived from another (`nirdag transfer`, `nirdag retrain`): the spectral transfer applied to
    # spectra before the chain, the slope/bias applied to its predictions, the sha256 of the parent bundle's file,
    # the identity of the data the derivation was fitted on, and which derivation it was.
    transfer: SpectralTransfer | None = None
    correction: SlopeBias | None = None
    parent_bundle_hash: str | None = None
    data_hash: str | None = None
    derived_by: DerivedBy | None = None
    calibration: ConformalCalibration | None = None  # conformity scores for prediction intervals, since v3
    selected_variables: tuple[SelectionEntry, ...] = ()  # the refit's kept columns per selection step, since v3
    sample_exclusions: tuple[ExclusionEntry, ...] = ()  # the training samples the refit's filters dropped, since v3

    @property
    def derived(self) -> bool:
        return any(v is not None for v in (self.transfer, self.correction, self.parent_bundle_hash, self.data_hash,
                                           self.derived_by))


class Signature(msgspec.Struct, **_FROZEN):
    """``signature.json``: the manifest's sha256, and its HMAC-SHA256 under the signing key when signed."""

    manifest_sha256: str
    hmac_sha256: str | None


class _Version(msgspec.Struct):
    schema_version: int


# JSON has no NaN: msgspec writes an undefined domain limit (NaN, e.g. a Q limit when the components reconstruct the
# calibration exactly) as null, and these fields read null back as NaN.
_DOMAIN_FLOATS = frozenset(f.name for f in msgspec.structs.fields(Domain) if f.type is float)


def encode(manifest: Manifest) -> bytes:
    """Canonical JSON (sorted keys): the bytes that are hashed and signed."""
    return msgspec.json.encode(msgspec.to_builtins(manifest), order="sorted")


def _undefined_limits_as_nan(raw: object) -> object:
    domain = raw.get("domain") if isinstance(raw, dict) else None
    if isinstance(domain, dict):
        raw["domain"] = {k: float("nan") if v is None and k in _DOMAIN_FLOATS else v for k, v in domain.items()}
    return raw


def decode(data: bytes, where: str) -> Manifest:
    """Strict decode; a manifest of a newer schema_version is refused before its fields are read."""
    try:
        version = msgspec.json.decode(data, type=_Version).schema_version
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter on invalid UTF-8
        raise BundleError(f"{where}: manifest.json is not a valid manifest: {exc}") from None
    if version > SCHEMA_VERSION:
        raise BundleError(f"{where}: manifest schema_version {version} is newer than this nirdag reads "
                          f"({SCHEMA_VERSION}); upgrade nirdag to load this bundle")
    if version < 1:
        raise BundleError(f"{where}: manifest schema_version {version} is not a valid version (>= 1)")
    try:
        manifest = msgspec.convert(_undefined_limits_as_nan(msgspec.json.decode(data)), Manifest)
    except (msgspec.DecodeError, msgspec.ValidationError, UnicodeDecodeError) as exc:
        raise BundleError(f"{where}: manifest.json is not a valid manifest: {exc}") from None
    if manifest.domain is not None and version < DOMAIN_SINCE:
        raise BundleError(f"{where}: a schema_version {version} manifest carries no `domain` (it came in version "
                          f"{DOMAIN_SINCE}); the manifest was edited")
    if manifest.derived and version < DERIVED_SINCE:
        raise BundleError(f"{where}: a schema_version {version} manifest carries no transfer, correction or parent "
                          f"(they came in version {DERIVED_SINCE}); the manifest was edited")
    if manifest.calibration is not None and version < CALIBRATION_SINCE:
        raise BundleError(f"{where}: a schema_version {version} manifest carries no `calibration` (it came in "
                          f"version {CALIBRATION_SINCE}); the manifest was edited")
    if (manifest.selected_variables or manifest.sample_exclusions) and version < FOLD_RECORDS_SINCE:
        raise BundleError(f"{where}: a schema_version {version} manifest carries no `selected_variables` or "
                          f"`sample_exclusions` (they came in version {FOLD_RECORDS_SINCE}); the manifest was edited")
    problem = _inconsistency(manifest)
    if problem:
        raise BundleError(f"{where}: manifest.json is not a valid manifest: {problem}")
    return manifest


def _inconsistency(manifest: Manifest) -> str | None:
    """What makes a well-typed manifest unusable (checked before any member is read); None when nothing does."""
    axis = np.asarray(manifest.wavelengths, dtype=np.float64)
    steps = np.diff(axis)
    counts = [c.n_components for c in (manifest.chain, *(b.chain for b in manifest.base_chains))]
    checks = (
        (axis.size > 0 and bool(np.isfinite(axis).all()), "its wavelength axis must be finite and non-empty"),
        (bool(np.all(steps > 0) or np.all(steps < 0)), "its wavelength axis must be strictly monotonic"),
        (len(set(manifest.target_names)) == len(manifest.target_names) > 0, "it must name distinct targets"),
        (bool(manifest.folds), "it must list fitted folds"),
        (all(k is None or k >= 1 for k in counts), f"n_components must be >= 1 (or null), got {counts}"),
        ((manifest.task == "classification") == bool(manifest.classes), "classes go with task classification"),
        (len(set(manifest.classes)) == len(manifest.classes), "its classes must be distinct"),
        (not manifest.classes or len(manifest.target_names) == 1, "a classifier has exactly one target"),
        (manifest.transfer is None or manifest.transfer.n_wavelengths == axis.size,
         "its transfer must map spectra of the training axis' width"),
        (manifest.correction is None or (not manifest.classes and len(manifest.correction.slope)
                                         == len(manifest.correction.intercept) == len(manifest.target_names)),
         "its slope/bias correction needs a regression chain and one slope and intercept per target"),
        (_calibration_fits(manifest), "its calibration must list the manifest's targets, each with finite "
         "non-negative sorted scores, and belong to a regression chain"),
    )
    return next((message for ok, message in checks if not ok), None)


def _calibration_fits(manifest: Manifest) -> bool:
    cal = manifest.calibration
    if cal is None:
        return True
    groups = [cal.absolute, *([cal.leverage] if cal.leverage else [])]
    return (not manifest.classes and cal.targets == manifest.target_names
            and all(len(g) == len(cal.targets) for g in groups)
            and all(s and all(0.0 <= a <= b < float("inf") for a, b in zip(s, (*s[1:], s[-1]), strict=True))
                    for g in groups for s in g))
