"""Bundles derived from a bundle: a calibration transfer attached (``nirdag transfer``) or the chain retrained on new
data (``nirdag retrain``). Everything is checked before anything is written; the new bundle records its parent.

- :func:`attach_transfer` fits DS, PDS or slope/bias (:mod:`nirs_core.transfer`) on transfer standards measured on
  both instruments (matched by sample id) and writes a bundle that applies it: DS/PDS to spectra before the chain,
  slope/bias to its predictions.
- :func:`retrain` ``full``: every fitted step, the y transform and the model are cloned (same parameters) and fitted
  on the new data; ``transfer``: the fitted preprocessing is kept, the y transform and the model are refitted on the
  new data as it preprocesses them; ``bias``: everything is kept and a slope/intercept of the new reference values
  on the chain's predictions corrects them. ``full`` and ``transfer`` give a bundle of ``fold_final`` only (the
  parent's CV fold models belong to the old data) without the parent's transfer and correction (the model is
  fitted on the new spectra as measured); ``bias`` keeps every fold and the parent's spectral transfer.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Literal

import msgspec
import numpy as np
from sklearn.base import clone

from nirdag.bundle import serialize
from nirdag.bundle.archive import LoadedBundle, object_name, read_bundle, write_bundle
from nirdag.bundle.errors import BundleError, TamperedBundleError
from nirdag.bundle.fitted import FittedChain, FittedStage, fitted_objects_of
from nirdag.bundle.manifest import SCHEMA_VERSION, DerivedBy, FoldEntry, Manifest, encode
from nirdag.bundle.predict import _axis_gap, conform_spectra
from nirdag.bundle.signing import signing_key
from nirs_core.data import SpectraDataset
from nirs_core.diagnostics import fit_domain, latent_of
from nirs_core.errors import NirdagError
from nirs_core.metrics import regression_scores
from nirs_core.transfer import MIN_TRANSFER_PAIRS, fit_ds, fit_pds, fit_slope_bias
from relspec.plan import FOLD_FINAL

RetrainMode = Literal["full", "transfer", "bias"]
TransferMethod = Literal["pds", "ds", "slope-bias"]
RETRAIN_MODES: tuple[str, ...] = ("full", "transfer", "bias")
TRANSFER_METHODS: tuple[str, ...] = ("pds", "ds", "slope-bias")
_AXIS_TOL = 0.01  # as predict's: axes within 1 % of a sampling interval are one axis
_TRANSFER_BY: dict[str, DerivedBy] = {"pds": "transfer_pds", "ds": "transfer_ds", "slope-bias": "transfer_slope_bias"}
_RETRAIN_BY: dict[str, DerivedBy] = {"full": "retrain_full", "transfer": "retrain_transfer", "bias": "retrain_bias"}


class DeriveError(NirdagError):
    """A transfer or retrain refused before anything was written (standards, data, mode or chain that do not fit)."""


def file_sha256(path: str | Path) -> str:
    """The sha256 of a bundle file's bytes (``sha256sum`` gives the same): a derived bundle's ``parent_bundle_hash``."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


@dataclass(frozen=True)
class _Parent:
    loaded: LoadedBundle
    hash: str
    members: dict[str, bytes]

    @property
    def manifest(self) -> Manifest:
        return self.loaded.manifest

    @property
    def chain(self) -> FittedChain:
        return self.loaded.chain


def _parent(path: str | Path, key: str | bytes | None) -> _Parent:
    """The verified parent bundle and its member bytes, hashed again against its manifest (they were read once
    more from the file, which might have changed since it was verified)."""
    loaded = read_bundle(path, key=key)
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise BundleError(f"bundle {path} cannot be read: {exc.strerror or exc}") from None
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            same = zf.read("manifest.json") == encode(loaded.manifest)
            members = {name: zf.read(name) for name in loaded.manifest.members}
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError) as exc:
        raise TamperedBundleError(f"bundle {path} changed while it was being read ({exc})") from None
    if not same or any(
        hashlib.sha256(blob).hexdigest() != loaded.manifest.members[name] for name, blob in members.items()
    ):
        raise TamperedBundleError(f"bundle {path} changed while it was being read")
    return _Parent(loaded=loaded, hash=hashlib.sha256(data).hexdigest(), members=members)


def _no_stack(parent: _Parent, what: str) -> None:
    m = parent.manifest
    if m.base_chains:
        raise DeriveError(
            f"bundle {parent.loaded.path} holds a stacked chain: {what} of a stack is not supported; "
            "run the pipeline on the new data instead"
        )


def _spectra(chain: FittedChain, data: SpectraDataset, where: str) -> np.ndarray:
    """The dataset's spectra on the chain's axis; another axis or unit is refused (no resampling here)."""
    return conform_spectra(chain, data.spectra, data.wavelengths, data.wavelength_unit, resample=False, where=where)


def _reference_values(manifest: Manifest, data: SpectraDataset, where: str, needed: int) -> np.ndarray:
    """The new data's values of every target of the chain ``(n, n_targets)``; refused when a target is missing,
    a value is not measured or there are fewer than ``needed`` rows."""
    missing = [t for t in manifest.target_names if t not in data.target_names]
    if missing:
        raise DeriveError(
            f"{where} has no target column {missing} (the chain predicts "
            f"{list(manifest.target_names)}; it has {list(data.target_names)}); retraining needs the "
            "reference values"
        )
    if manifest.classes:
        return _class_codes(manifest, data, where, needed)
    if any(data.is_label_target(t) for t in manifest.target_names):
        raise DeriveError(f"{where}: target {list(manifest.target_names)} holds labels; the chain is a regression")
    Y = np.column_stack([np.asarray(data.target(t), dtype=np.float64) for t in manifest.target_names])
    unmeasured = int((~np.isfinite(Y).all(axis=1)).sum())
    if unmeasured:
        raise DeriveError(
            f"{where}: {unmeasured} of {Y.shape[0]} rows have no value of {list(manifest.target_names)}"
            "; give only measured samples"
        )
    if Y.shape[0] < needed:
        raise DeriveError(f"{where} has {Y.shape[0]} rows; at least {needed} are needed")
    return Y


def _class_codes(manifest: Manifest, data: SpectraDataset, where: str, needed: int) -> np.ndarray:
    """A classifier's reference labels as the codes of its classes ``(n, 1)``; a label it does not know, an empty
    label or a numeric target is refused."""
    (target,) = manifest.target_names
    if not data.is_label_target(target):
        raise DeriveError(
            f"{where}: target {target!r} holds numbers; the chain is a classifier of the labels "
            f"{list(manifest.classes)} (load the column as labels)"
        )
    labels = np.asarray(data.target(target))
    unknown = sorted(set(labels.tolist()) - set(manifest.classes))
    if unknown:
        raise DeriveError(
            f"{where}: labels {unknown[:5]} of {target!r} are not classes of the chain "
            f"{list(manifest.classes)} ({int(np.isin(labels, unknown).sum())} rows)"
        )
    if labels.size < needed:
        raise DeriveError(f"{where} has {labels.size} rows; at least {needed} are needed")
    return np.asarray([manifest.classes.index(v) for v in labels.tolist()], dtype=np.float64)[:, None]


def _metrics(prefix: str, manifest: Manifest, Y: np.ndarray, pred: np.ndarray) -> dict[str, float]:
    if manifest.classes:
        truth = np.asarray(manifest.classes)[Y[:, 0].astype(np.int64)]
        return {f"{prefix}_accuracy": float(np.mean(np.asarray(pred)[:, 0] == truth))}
    several = len(manifest.target_names) > 1
    out = {}
    for j, target in enumerate(manifest.target_names):
        scores = regression_scores(Y[:, j], pred[None, :, j])
        for name in ("rmse", "r2", "bias"):
            value = float(scores[name][0])
            if np.isfinite(value):
                out[f"{prefix}_{name}{f'[{target}]' if several else ''}"] = value
    return out


def _write(
    parent: _Parent,
    manifest: Manifest,
    members: dict[str, bytes],
    output: str | Path,
    key: str | bytes | None,
    derived_by: DerivedBy,
    data_hash: str,
    nirdag_version: str,
) -> Path:
    manifest = msgspec.structs.replace(
        manifest,
        schema_version=SCHEMA_VERSION,
        nirdag_version=nirdag_version,
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        members={name: hashlib.sha256(data).hexdigest() for name, data in members.items()},
        parent_bundle_hash=parent.hash,
        data_hash=data_hash,
        derived_by=derived_by,
        # The parent's out-of-fold residuals describe the parent's chain on its own instrument and data, not a
        # chain refitted, corrected or fed transferred spectra: a derived bundle carries no conformity scores.
        calibration=None,
    )
    return write_bundle(output, manifest, members, signing_key(key))


def _paired(
    primary: SpectraDataset, secondary: SpectraDataset, chain: FittedChain, where: str
) -> tuple[np.ndarray, np.ndarray]:
    """Primary and secondary spectra of the same samples, row for row; refused with the counts when ids do not all
    match, when the axes differ or when there are too few pairs."""
    ids_p, ids_s = list(primary.sample_ids), list(secondary.sample_ids)
    for name, ids in (("primary", ids_p), ("secondary", ids_s)):
        if len(set(ids)) != len(ids):
            raise DeriveError(f"{where}: the {name} transfer standards repeat sample ids")
    only_p, only_s = sorted(set(ids_p) - set(ids_s)), sorted(set(ids_s) - set(ids_p))
    matched = len(ids_p) - len(only_p)
    if only_p or only_s:
        raise DeriveError(
            f"{where}: transfer standards are matched by sample id: {len(ids_p)} primary, "
            f"{len(ids_s)} secondary, {matched} matched; unmatched primary {only_p[:5]}"
            f"{' ...' if len(only_p) > 5 else ''}, unmatched secondary {only_s[:5]}"
            f"{' ...' if len(only_s) > 5 else ''}"
        )
    if matched < MIN_TRANSFER_PAIRS:
        raise DeriveError(f"{where}: {matched} matched transfer pairs, at least {MIN_TRANSFER_PAIRS} are needed")
    gap = _axis_gap(np.asarray(secondary.wavelengths, dtype=np.float64), np.asarray(primary.wavelengths))
    if gap > _AXIS_TOL or primary.wavelength_unit != secondary.wavelength_unit:
        raise DeriveError(
            f"{where}: the primary standards have {primary.n_wavelengths} wavelengths "
            f"{primary.wavelengths[0]:g}..{primary.wavelengths[-1]:g} {primary.wavelength_unit}, the "
            f"secondary {secondary.n_wavelengths} wavelengths {secondary.wavelengths[0]:g}.."
            f"{secondary.wavelengths[-1]:g} {secondary.wavelength_unit}; resample them onto one axis"
        )
    P = _spectra(chain, primary, f"{where} (primary)")
    order = {sid: i for i, sid in enumerate(ids_s)}
    S = _spectra(chain, secondary, f"{where} (secondary)")[[order[sid] for sid in ids_p]]
    return P, S


def attach_transfer(
    bundle: str | Path,
    primary: SpectraDataset,
    secondary: SpectraDataset,
    output: str | Path,
    *,
    method: TransferMethod,
    window: int = 5,
    n_components: int | None = None,
    ridge: float | None = None,
    key: str | bytes | None = None,
    nirdag_version: str,
) -> Path:
    """A bundle that predicts spectra of the secondary instrument, from transfer standards measured on both.

    ``pds`` / ``ds``: the spectral transfer (``window`` is PDS's half-width in channels; ``n_components`` truncates
    each SVD, ``ridge`` filters it instead) is applied to spectra before the chain. ``slope-bias``: the chain's
    predictions of the secondary standards are regressed onto its predictions of the primary ones, target by
    target, and predictions are corrected after the chain. The metric ``transfer_standards_rmse`` is the RMSE
    between the new bundle's predictions of the secondary standards and the parent's of the primary ones.
    """
    if method not in TRANSFER_METHODS:
        raise DeriveError(f"transfer method {method!r} is not one of {list(TRANSFER_METHODS)}")
    parent = _parent(bundle, key)
    where = f"transfer standards for bundle {parent.loaded.path}"
    manifest = parent.manifest
    if manifest.transfer is not None or manifest.correction is not None:
        raise DeriveError(
            f"bundle {parent.loaded.path} already carries a transfer or correction "
            f"({manifest.derived_by}); attach one to its parent instead"
        )
    P, S = _paired(primary, secondary, parent.chain, where)
    if method == "slope-bias" and manifest.classes:
        raise DeriveError(f"bundle {parent.loaded.path} is a classifier: slope/bias corrects numeric predictions only")
    with fitted_objects_of(f"bundle {parent.loaded.path}"):
        target = parent.chain.predict(P)["y_pred"]
        if method == "slope-bias":
            correction = fit_slope_bias(target, parent.chain.predict(S)["y_pred"], source="transfer_standards")
            derived = msgspec.structs.replace(manifest, correction=correction)
        else:
            fit = (
                fit_pds(P, S, window=window, n_components=n_components, ridge=ridge)
                if method == "pds"
                else fit_ds(P, S, n_components=n_components, ridge=ridge)
            )
            derived = msgspec.structs.replace(manifest, transfer=fit)
        got = replace(parent.chain, transfer=derived.transfer, correction=derived.correction).predict(S)["y_pred"]
    if not manifest.classes:
        rmse = float(np.sqrt(np.mean((np.asarray(got, dtype=np.float64) - target) ** 2)))
        derived = msgspec.structs.replace(derived, metrics={**manifest.metrics, "transfer_standards_rmse": rmse})
    data_hash = hashlib.sha256(f"{primary.content_hash}\n{secondary.content_hash}".encode()).hexdigest()
    return _write(parent, derived, dict(parent.members), output, key, _TRANSFER_BY[method], data_hash, nirdag_version)


def _refit(stage: FittedStage, X: np.ndarray, Y: np.ndarray, keep_steps: bool) -> FittedStage:
    """The stage fitted again on ``X``, ``Y``: its steps cloned and fitted in turn (or kept as fitted), then its y
    transform and model cloned and fitted as the engine fits them (``nirs_modelling.compute.fit_group``)."""
    steps: list[Any] = []
    for step in stage.steps:
        est = step if keep_steps else clone(step).fit(X, Y[:, 0] if Y.shape[1] == 1 else Y)
        X = est.transform(X)
        steps.append(est)
    y_transform = None if stage.y_transform is None else clone(stage.y_transform).fit(Y)
    y_fit = Y if y_transform is None else y_transform.transform(Y)
    model = clone(stage.model).fit(X, y_fit[:, 0] if y_fit.shape[1] == 1 else y_fit)
    return FittedStage(FOLD_FINAL, tuple(steps), model, y_transform)


def _stage_members(stage: FittedStage) -> tuple[FoldEntry, dict[str, bytes]]:
    members: dict[str, bytes] = {}

    def add(obj: Any) -> str:
        data = serialize.dumps(obj)
        members[object_name(data)] = data
        return object_name(data)

    entry = FoldEntry(
        fold_id=FOLD_FINAL,
        steps=tuple(add(s) for s in stage.steps),
        model=add(stage.model),
        y_transform=None if stage.y_transform is None else add(stage.y_transform),
    )
    return entry, members


def retrain(
    bundle: str | Path,
    data: SpectraDataset,
    output: str | Path,
    *,
    mode: RetrainMode,
    key: str | bytes | None = None,
    nirdag_version: str,
) -> Path:
    """A bundle of the parent's chain retrained on ``data`` (which must hold the chain's targets, on its axis).

    ``full`` refits every step and the model; ``transfer`` keeps the fitted preprocessing and refits the y
    transform and the model; ``bias`` keeps everything and fits a slope/intercept of the reference values on the
    chain's predictions. The new manifest records ``parent_bundle_hash`` (sha256 of the parent file), ``data_hash``
    (``data``'s content hash) and ``derived_by``; its metrics are the fit on ``data`` (``retrain_rmse``...).
    """
    if mode not in RETRAIN_MODES:
        raise DeriveError(f"retrain mode {mode!r} is not one of {list(RETRAIN_MODES)}")
    parent = _parent(bundle, key)
    if mode == "bias" and parent.manifest.classes:
        raise DeriveError(
            f"bundle {parent.loaded.path} is a classifier: retrain --mode bias corrects numeric "
            "predictions only; use --mode full or transfer"
        )
    _no_stack(parent, f"retrain --mode {mode}")
    where = f"retrain data {data.name!r} for bundle {parent.loaded.path}"
    manifest, chain = parent.manifest, parent.chain
    X = _spectra(chain, data, where)
    k = getattr(chain.final.model, "n_components", None)
    Y = _reference_values(
        manifest, data, where, MIN_TRANSFER_PAIRS if mode == "bias" else max(MIN_TRANSFER_PAIRS, (k or 0) + 2)
    )
    with fitted_objects_of(f"bundle {parent.loaded.path}"):
        if mode == "bias":
            correction = fit_slope_bias(Y, chain.predict(X)["y_pred"], source="reference")
            derived = msgspec.structs.replace(manifest, correction=correction)
            fitted = replace(chain, correction=correction, calibration=None)
            members = dict(parent.members)
        else:
            stage = _refit(chain.final, X, Y, keep_steps=mode == "transfer")
            entry, members = _stage_members(stage)
            fitted = replace(chain, stages=(stage,), domain=None, transfer=None, correction=None, calibration=None)
            latent = latent_of(stage.model, chain.n_components)
            domain = None if latent is None else fit_domain(latent, stage.transform(X))
            derived = msgspec.structs.replace(
                manifest,
                folds=(entry,),
                domain=domain,
                transfer=None,
                correction=None,
                training_dataset_hash=data.content_hash,
                # the parent's records describe its own fit: a full refit selects again, and neither mode re-runs
                # the parent's sample filters (they are not fitted objects), so no exclusions are claimed
                selected_variables=manifest.selected_variables if mode == "transfer" else (),
                sample_exclusions=(),
            )
        pred = fitted.predict(X)["y_pred"]
    derived = msgspec.structs.replace(derived, metrics=_metrics("retrain", manifest, Y, pred))
    return _write(parent, derived, members, output, key, _RETRAIN_BY[mode], data.content_hash, nirdag_version)
