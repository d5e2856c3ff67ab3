"""New spectra through a fitted chain: width, axis, unit and finiteness checked first; predictions with sample ids,
each judged against the chain's applicability domain (T², Q, their ratios to the 95 % limits, the verdict)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from threadpoolctl import ThreadpoolController

from nirdag.bundle.archive import LoadedBundle, read_bundle
from nirdag.bundle.errors import BundleError, SpectraMismatchError
from nirdag.bundle.fitted import DOMAIN_COLUMNS, FittedChain, fitted_objects_of
from nirdag.bundle.limits import DEFAULT_LIMITS, BundleLimits
from nirs_core.conformal import IntervalScale
from nirs_core.data import SpectraDataset
from nirs_core.diagnostics import DOMAINS
from nirs_core.operators import Resample

# Schema metadata of a predictions table without domain columns' values: why the chain carries no domain.
DOMAIN_ABSENT_KEY = b"nirdag.domain_absent"

# Axes equal to within 1% of the training axis' sampling interval are the same axis written with fewer digits
# (instrument exports and CSV headers round wavelengths); anything further apart is another axis.
_AXIS_TOL = 0.01


@cache
def _blas() -> ThreadpoolController:
    """One controller of the loaded BLAS/OpenMP libraries: ``threadpool_limits`` scans them on every call (3.5 ms,
    most of a single-spectrum prediction); a controller made once limits them in microseconds."""
    return ThreadpoolController()


def _axis_gap(a: np.ndarray, b: np.ndarray) -> float:
    """The largest difference between two axes of one length, in training sampling intervals (inf if lengths
    differ)."""
    if a.shape != b.shape:
        return float("inf")
    step = float(np.median(np.abs(np.diff(b)))) if b.size > 1 else max(1.0, abs(float(b[0])))
    return float(np.max(np.abs(a - b))) / step


def _onto_training_axis(chain: FittedChain, X: np.ndarray, axis: np.ndarray, where: str) -> np.ndarray:
    try:
        return Resample(new_wavelengths=chain.wavelengths, wavelengths=axis).fit(X).transform(X)
    except ValueError as exc:
        raise SpectraMismatchError(f"{where}: cannot resample onto the training axis: {exc}") from None


def conform_spectra(chain: FittedChain, X: np.ndarray, axis: np.ndarray | None, unit: str | None, *,
                    resample: bool, where: str) -> np.ndarray:
    """Spectra on the chain's training axis; refuses a differing axis unless ``resample`` asks to interpolate."""
    X = np.asarray(X, dtype=np.float64)
    if X.ndim != 2 or X.shape[0] == 0:
        raise SpectraMismatchError(f"{where}: spectra must be a non-empty 2D matrix, got shape {X.shape}")
    train = chain.wavelengths
    train_desc = f"{train.size} wavelengths {train[0]:g}..{train[-1]:g} {chain.wavelength_unit}"
    if unit is not None and "index" not in (unit, chain.wavelength_unit) and unit != chain.wavelength_unit:
        raise SpectraMismatchError(f"{where}: wavelength unit {unit!r} differs from training ({train_desc})")
    if axis is None:
        if X.shape[1] != train.size:
            raise SpectraMismatchError(f"{where}: {X.shape[1]} wavelengths per spectrum, the chain was trained on "
                                       f"{train_desc}")
    elif (gap := _axis_gap(np.asarray(axis, dtype=np.float64), train)) > _AXIS_TOL:
        detail = "" if gap == float("inf") else f", by up to {gap:.3g} sampling intervals"
        if not resample:
            raise SpectraMismatchError(
                f"{where}: wavelength axis ({len(axis)} wavelengths {axis[0]:g}..{axis[-1]:g}) differs from "
                f"training ({train_desc}{detail}); pass resample=True (--resample) to interpolate onto the "
                "training axis")
        X = _onto_training_axis(chain, X, np.asarray(axis, dtype=np.float64), where)
    bad = np.flatnonzero(~np.isfinite(X).all(axis=1))
    if bad.size:
        raise SpectraMismatchError(f"{where}: {bad.size} spectra contain NaN or inf (rows {(bad + 1)[:5].tolist()}"
                                   f"{' ...' if bad.size > 5 else ''}); remove or repair them")
    return X


def _domain_columns(judged: dict[str, np.ndarray] | None, n: int, t: int) -> dict[str, pa.Array]:
    """The domain columns, repeated for each of ``t`` targets; null without a domain (and NaN, an undefined
    ratio, as null)."""
    if judged is None:
        return {name: pa.nulls(n * t, pa.string() if name == "domain" else pa.float64()) for name in DOMAIN_COLUMNS}
    out = {}
    for name in DOMAIN_COLUMNS:
        values = np.tile(judged[name], t)
        out[name] = (pa.array(values.astype(object), pa.string()) if name == "domain" else
                     pa.array(values, pa.float64(), mask=~np.isfinite(values)))
    return out


def predict_chain(chain: FittedChain, data: SpectraDataset | Any, *, fold_mean: bool = False,
                  resample: bool = False, sample_ids: Any = None, where: str = "spectra",
                  interval: float | None = None, interval_scale: IntervalScale = "absolute") -> pa.Table:
    """Predictions of ``chain`` for a SpectraDataset or a 2D array (rows in the training axis order).

    Returns a table ``sample_id, target, y_pred`` (+ ``y_pred_fold_mean``, the mean of the fold models) and the
    domain columns ``t2, q, t2_ratio, q_ratio, domain``, one row per sample and target (samples in input order,
    target by target as the chain lists them; the domain columns repeat per target); ``y_pred`` holds class labels
    (strings) for a classification chain. Without an applicability domain the domain columns are null and the
    schema metadata ``nirdag.domain_absent`` says why. With ``interval`` (a coverage such as 0.9) a regression
    chain also gives ``y_lower`` and ``y_upper``, its split-conformal prediction interval (``interval_scale``
    ``absolute``: ``ŷ ± q``; ``leverage``: ``ŷ ± q · sqrt(1 + h)``).
    """
    if interval is not None:
        chain.check_interval(interval, interval_scale)  # before any spectrum is read
    if isinstance(data, SpectraDataset):
        X = conform_spectra(chain, data.spectra, data.wavelengths, data.wavelength_unit, resample=resample,
                            where=f"dataset {data.name!r}")
        ids = data.sample_ids
    else:
        X = conform_spectra(chain, data, None, None, resample=resample, where=where)
        ids = np.arange(1, X.shape[0] + 1).astype(str) if sample_ids is None else np.asarray(sample_ids).astype(str)
        if ids.shape != (X.shape[0],):
            raise SpectraMismatchError(f"{where}: {ids.size} sample ids for {X.shape[0]} spectra")
    n, t = X.shape[0], len(chain.targets)
    # BLAS on one thread, as the engine runs: faster here (see STACK_NOTES) and the same arithmetic as the run.
    with fitted_objects_of(f"chain {chain.chain_id}"), _blas().limit(limits=1):
        columns, judged = chain.predict_judged(X, fold_mean=fold_mean, interval=interval,
                                               interval_scale=interval_scale)
        absent = chain.domain_absence()
    shapes = {name: values.shape for name, values in columns.items() if values.shape != (n, t)}
    if shapes:
        raise BundleError(f"chain {chain.chain_id}: its model predicts arrays of shape {shapes} for {n} spectra and "
                          f"the {t} targets {list(chain.targets)}")
    return pa.table({
        "sample_id": pa.array(np.tile(ids, t), pa.string()),
        "target": pa.array(np.repeat(np.asarray(chain.targets, dtype=object), n), pa.string()),
        **{name: pa.array(values.T.reshape(-1), pa.string() if chain.classes else pa.float64())
           for name, values in columns.items()},
        **_domain_columns(judged, n, t),
    }, metadata=None if absent is None else {DOMAIN_ABSENT_KEY: absent.encode()})


def predict(bundle: str | Path | LoadedBundle, data: SpectraDataset | np.ndarray, *, fold_mean: bool = False,
            resample: bool = False, key: str | bytes | None = None, sample_ids: Sequence[str] | None = None,
            limits: BundleLimits = DEFAULT_LIMITS, interval: float | None = None,
            interval_scale: IntervalScale = "absolute", storage_options: Mapping[str, str] | None = None
            ) -> pa.Table:
    """Predict new spectra with a bundle, verified (hashes; HMAC when a key is configured) before loading.

    Loads no engine (Hamilton, DataFusion, Delta): a lab machine only needs nirdag's operators, numpy and skops.

    Parameters
    ----------
    bundle : str, Path or LoadedBundle
        A bundle written by :func:`nirdag.export` (or one already read with ``read_bundle``).
    data : SpectraDataset or numpy.ndarray
        The spectra to predict: a dataset (its axis must equal the training axis unless ``resample``), or a 2D
        array on the training axis.
    fold_mean : bool
        Also return ``y_pred_fold_mean``, the mean of the CV fold models' predictions.
    resample : bool
        Interpolate spectra whose axis differs onto the training axis (default: refuse them).
    key : str or bytes, optional
        The HMAC key the bundle was signed with (default: ``$NIRDAG_BUNDLE_KEY``).
    sample_ids : sequence of str, optional
        Ids of the rows of an array (default ``1..n``).
    limits : BundleLimits
        Caps on the bundle's file size, entries, uncompressed size and compression ratio (default
        ``DEFAULT_LIMITS``: 1 GiB, 10,000 entries, ratio 100), checked before anything is decompressed.
    interval : float, optional
        Coverage of a split-conformal prediction interval (e.g. ``0.9``): adds ``y_lower`` and ``y_upper``. The
        bundle's conformity scores are its chain's pooled out-of-fold residuals; the bound is their
        ``ceil((n + 1) · interval)``-th smallest (infinite when the calibration has too few rows). Regression
        bundles of schema_version 3 or later only (a typed error otherwise).
    interval_scale : {"absolute", "leverage"}
        ``absolute``: ``ŷ ± q`` (the same width for every spectrum); ``leverage``: ``ŷ ± q · sqrt(1 + h)`` with
        ``h`` the spectrum's leverage under the refit model (wider far from the calibration centre; latent models
        with an applicability domain only).
    storage_options : mapping, optional
        For a bundle at ``s3://bucket/key``: options over the ``AWS_*`` environment (see
        :mod:`nirs_core.storage`).

    Returns
    -------
    pyarrow.Table
        ``sample_id, target, y_pred`` (+ ``y_pred_fold_mean``), one row per sample and target; a classification
        bundle's ``y_pred`` are class labels. Beside them each spectrum's Hotelling ``t2`` and ``q`` residual,
        ``t2_ratio`` and ``q_ratio`` (value / 95 % prediction limit) and ``domain``: ``regular``, ``extreme`` (T²
        or Q above its 95 % limit) or ``outlier`` (above its 99 % limit). A bundle without an applicability domain
        (written before nirdag carried one, or of a model without latent structure) gives null domain columns,
        and the table's schema metadata ``nirdag.domain_absent`` says why (see :func:`domain_report`).

    Examples
    --------
    >>> nirdag.predict("model.nirdag", nirdag.load_dataset("new.csv", id_column="id"))  # doctest: +SKIP
    """
    loaded = bundle if isinstance(bundle, LoadedBundle) else read_bundle(bundle, key=key, limits=limits,
                                                                         storage_options=storage_options)
    return predict_chain(loaded.chain, data, fold_mean=fold_mean, resample=resample, sample_ids=sample_ids,
                         where=f"spectra for bundle {loaded.path}", interval=interval, interval_scale=interval_scale)


def wide_predictions(table: pa.Table) -> pa.Table:
    """Long predictions (``sample_id, target, y_pred[, y_pred_fold_mean]`` and the domain columns, target by target
    as :func:`predict_chain` writes them) as one row per sample: ``sample_id``, then per target a column named after
    it (and ``<target>_fold_mean``, ``<target>_lower``, ``<target>_upper``), then the domain columns once (they are
    the spectrum's, not the target's)."""
    targets = list(dict.fromkeys(table.column("target").to_pylist()))
    n = table.num_rows // max(len(targets), 1)
    ids = table.column("sample_id").slice(0, n)
    columns: dict[str, pa.ChunkedArray] = {"sample_id": ids}
    for j, target in enumerate(targets):
        block = table.slice(j * n, n)
        if not block.column("sample_id").equals(ids) or set(block.column("target").to_pylist()) != {target}:
            raise BundleError("predictions are not laid out target by target with the same samples")
        for name in table.column_names[2:]:
            if name not in DOMAIN_COLUMNS:
                suffix = name.removeprefix("y_pred") if name.startswith("y_pred") else "_" + name.removeprefix("y_")
                columns[target + suffix] = block.column(name)
    columns.update({name: table.column(name).slice(0, n) for name in DOMAIN_COLUMNS if name in table.column_names})
    return pa.table(columns, metadata=table.schema.metadata)


@dataclass(frozen=True)
class DomainReport:
    """How the spectra of a predictions table fell against the applicability domain: counts per verdict over the
    spectra (each once, whatever the number of targets), the non-regular ones in input order with their verdict,
    and why there is no verdict at all (``absent``; None when the spectra were judged)."""

    n_spectra: int
    counts: dict[str, int]
    flagged: tuple[tuple[str, str], ...]
    absent: str | None

    def at_or_beyond(self, level: str) -> int:
        """How many spectra are ``level`` or worse (``extreme`` counts outliers too)."""
        return sum(self.counts[d] for d in DOMAINS[DOMAINS.index(level):])


def domain_report(table: pa.Table) -> DomainReport:
    """The :class:`DomainReport` of a long (:func:`predict_chain`) or wide (:func:`wide_predictions`) table."""
    if "target" in table.column_names:
        first = table.column("target")[0].as_py() if table.num_rows else None
        table = table.filter(pc.equal(table.column("target"), first)) if first is not None else table
    verdicts = table.column("domain").to_pylist()
    metadata = table.schema.metadata or {}
    absent = metadata.get(DOMAIN_ABSENT_KEY)
    ids = table.column("sample_id").to_pylist()
    counts = {d: verdicts.count(d) for d in DOMAINS}
    flagged = tuple((i, v) for i, v in zip(ids, verdicts, strict=True) if v is not None and v != "regular")
    return DomainReport(n_spectra=len(ids), counts=counts, flagged=flagged,
                        absent=None if absent is None else absent.decode())
