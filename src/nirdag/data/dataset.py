"""SpectraDataset: the one type through which every layer reads spectra, targets and partitions."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import numpy as np

from nirdag.data.errors import DataError, EmptyDatasetError, MissingColumnError

WavelengthUnit = Literal["nm", "cm-1", "index"]
Partition = Literal["train", "test"]
PARTITIONS: tuple[Partition, ...] = ("train", "test")
_HASH_DOMAIN = b"nirdag.dataset.v1\x00"


def _owned_readonly(values: object) -> np.ndarray:
    """A read-only float64 C-contiguous array nobody else can write to.

    An input that is already read-only float64 C-contiguous is shared as is (loaders hand over their arrays this
    way, without a copy); a writable one is copied, so a caller's later edits never change the dataset or
    invalidate its cached content hash.
    """
    array = np.asarray(values)
    shareable = array.dtype == np.float64 and array.flags.c_contiguous and not array.flags.writeable
    out = array if shareable else np.array(array, dtype=np.float64, order="C", copy=True)
    out.setflags(write=False)
    return out


def _readonly(array: np.ndarray) -> np.ndarray:
    view = array.view()
    view.setflags(write=False)
    return view


@dataclass(frozen=True, slots=False)
class DatasetSchema:
    """What the compiler needs to know of a dataset, without its values."""

    dataset_hash: str
    name: str
    n_samples: int
    n_wavelengths: int
    target_names: tuple[str, ...]
    wavelength_unit: WavelengthUnit
    train_rows: tuple[int, ...]
    test_rows: tuple[int, ...]


@dataclass(frozen=True)
class SpectraDataset:
    """Spectra (n_samples x n_wavelengths, float64, read-only) with ids, axis, targets and partitions.

    Parameters
    ----------
    name : str
        Display name (not part of the identity hash).
    sample_ids : numpy.ndarray
        One unique string id per row.
    spectra : numpy.ndarray
        2D float64 matrix; stored as a read-only C-contiguous array.
    wavelengths : numpy.ndarray
        1D axis, one value per column, in the order measured.
    wavelength_unit : {"nm", "cm-1", "index"}
    targets : Mapping[str, numpy.ndarray]
        Target name -> float64 vector of length n_samples (NaN = not measured).
    partition : numpy.ndarray
        ``"train"`` or ``"test"`` per row.
    """

    name: str
    sample_ids: np.ndarray
    spectra: np.ndarray
    wavelengths: np.ndarray
    wavelength_unit: WavelengthUnit
    targets: Mapping[str, np.ndarray]
    partition: np.ndarray

    def __post_init__(self) -> None:
        spectra = _owned_readonly(self.spectra)
        if spectra.ndim != 2:
            raise DataError(f"dataset {self.name!r}: spectra must be 2D, got shape {spectra.shape}")
        n, p = spectra.shape
        if n == 0 or p == 0:
            raise EmptyDatasetError(
                f"dataset {self.name!r} is empty: {n} samples x {p} wavelengths (need at least 1 x 1)"
            )
        wavelengths = _owned_readonly(self.wavelengths)
        if wavelengths.shape != (p,):
            raise DataError(
                f"dataset {self.name!r}: wavelength axis has {wavelengths.size} values for {p} spectral columns"
            )
        ids = np.array(self.sample_ids, dtype=str)
        if ids.shape != (n,):
            raise DataError(f"dataset {self.name!r}: {ids.size} sample ids for {n} spectra")
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size != n:
            dup = uniq[counts > 1][:5].tolist()
            raise DataError(f"dataset {self.name!r}: sample ids are not unique, e.g. {dup}")
        partition = np.array(self.partition, dtype=str)
        bad = np.setdiff1d(np.unique(partition), PARTITIONS)
        if partition.shape != (n,) or bad.size:
            raise DataError(
                f"dataset {self.name!r}: partition must give 'train' or 'test' for each of {n} rows, "
                f"found {bad.tolist() or partition.shape}"
            )
        targets: dict[str, np.ndarray] = {}
        for tname, values in self.targets.items():
            vec = _owned_readonly(values)
            if vec.shape != (n,):
                raise DataError(f"dataset {self.name!r}: target {tname!r} has {vec.size} values for {n} rows")
            targets[tname] = vec
        object.__setattr__(self, "spectra", spectra)
        object.__setattr__(self, "wavelengths", wavelengths)
        object.__setattr__(self, "sample_ids", _readonly(ids))
        object.__setattr__(self, "partition", _readonly(partition))
        object.__setattr__(self, "targets", MappingProxyType(targets))

    @property
    def n_samples(self) -> int:
        return int(self.spectra.shape[0])

    @property
    def n_wavelengths(self) -> int:
        return int(self.spectra.shape[1])

    def target(self, name: str) -> np.ndarray:
        """Return the target vector ``name``; a missing name lists the targets this dataset has."""
        try:
            return self.targets[name]
        except KeyError:
            raise MissingColumnError(
                f"dataset {self.name!r} has no target column {name!r}; targets are {sorted(self.targets)}"
            ) from None

    def rows(self, partition: Partition) -> np.ndarray:
        """Row indices (int64, ascending) of one partition."""
        return np.flatnonzero(self.partition == partition)

    @cached_property
    def content_hash(self) -> str:
        """Full sha256 hex of the canonical content: spectra, axis, ids, targets, partitions."""
        h = hashlib.sha256(_HASH_DOMAIN)
        h.update(np.asarray(self.spectra.shape, dtype="<i8").tobytes())
        h.update(np.ascontiguousarray(self.spectra, dtype="<f8").data)
        h.update(np.ascontiguousarray(self.wavelengths, dtype="<f8").data)
        h.update(self.wavelength_unit.encode())
        _update_strings(h, self.sample_ids)
        for tname in sorted(self.targets):
            _update_strings(h, np.asarray([tname]))
            h.update(np.ascontiguousarray(self.targets[tname], dtype="<f8").data)
        _update_strings(h, self.partition)
        return h.hexdigest()

    def schema(self) -> DatasetSchema:
        return DatasetSchema(
            dataset_hash=self.content_hash,
            name=self.name,
            n_samples=self.n_samples,
            n_wavelengths=self.n_wavelengths,
            target_names=tuple(sorted(self.targets)),
            wavelength_unit=self.wavelength_unit,
            train_rows=tuple(self.rows("train").tolist()),
            test_rows=tuple(self.rows("test").tolist()),
        )


def _update_strings(h: hashlib._Hash, values: np.ndarray) -> None:
    """Hash strings unambiguously: each as its utf-8 length (int64 LE) then its bytes."""
    encoded = [str(v).encode("utf-8") for v in values]
    h.update(np.asarray([len(e) for e in encoded], dtype="<i8").tobytes())
    h.update(b"".join(encoded))
