"""SpectraDataset: the one type through which every layer reads spectra, targets, metadata and partitions."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from types import MappingProxyType
from typing import Literal

import numpy as np
import pyarrow as pa

from nirs_core.data.errors import DataError, EmptyDatasetError, MissingColumnError
from nirs_core.data.hashing import dataset_hash
from nirs_core.data.replicates import check_replicates, replicate_values

WavelengthUnit = Literal["nm", "cm-1", "index"]
WAVELENGTH_UNITS: tuple[WavelengthUnit, ...] = ("nm", "cm-1", "index")
Partition = Literal["train", "test"]
PARTITIONS: tuple[Partition, ...] = ("train", "test")


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


def _metadata_as_target(values: list) -> pa.Array:
    """A metadata column as a target: float64 when every non-empty cell is a number, else the labels."""
    cells = ["" if v is None else str(v).strip() for v in values]
    filled = [c for c in cells if c]
    for text in (cells, [c.replace(",", ".") for c in cells] if not any("." in c for c in filled) else None):
        if text is None:
            continue
        try:
            return pa.array([float(c) if c else np.nan for c in text], type=pa.float64())
        except ValueError:
            continue
    return pa.array(cells, type=pa.string())


def _target_array(name: str, values: object, n: int, dataset: str) -> pa.Array:
    """Float64 for numeric targets (NaN = not measured), string for class labels."""
    array = np.asarray(values)
    if array.shape != (n,):
        raise DataError(f"dataset {dataset!r}: target {name!r} has {array.size} values for {n} rows")
    if array.dtype.kind in "fiub":
        return pa.array(_owned_readonly(array), type=pa.float64())
    if array.dtype.kind == "O":
        try:  # numbers with None for "not measured" stay numeric
            return pa.array(_owned_readonly(np.array([np.nan if v is None else v for v in array], dtype=float)))
        except (TypeError, ValueError):
            return pa.array(["" if v is None else str(v) for v in array], type=pa.string())
    if array.dtype.kind == "U":
        return pa.array(array.astype(str), type=pa.string())
    raise DataError(f"dataset {dataset!r}: target {name!r} has unsupported values of type {array.dtype}")


@dataclass(frozen=True)
class DatasetSchema:
    """What the compiler needs to know of a dataset, without its values."""

    dataset_hash: str
    name: str
    n_samples: int
    n_wavelengths: int
    target_names: tuple[str, ...]
    label_targets: tuple[str, ...]
    wavelength_unit: WavelengthUnit
    wavelengths: tuple[float, ...]
    train_rows: tuple[int, ...]
    test_rows: tuple[int, ...]
    # the declared replicate column and the physical sample of every row (empty without a declaration)
    replicate_column: str | None = None
    replicate_groups: tuple[str, ...] = ()


class SpectraDataset:
    """Spectra (n_samples x n_wavelengths float64) with ids, axis, targets, metadata and partitions, on Arrow.

    Parameters
    ----------
    name : str
        Display name (not part of the identity hash).
    sample_ids : array-like of str
        One unique id per row.
    spectra : array-like
        2D float64 matrix. A writable array is copied once; a read-only C-contiguous float64 one is shared.
    wavelengths : array-like
        1D axis, one value per column, strictly monotonic, in the order measured (ascending or descending).
    wavelength_unit : {"nm", "cm-1", "index"}
        ``index`` when the source has no axis (column positions).
    targets : Mapping[str, array-like]
        Target name -> values: numeric (float64, NaN = not measured) or strings (class labels).
    partition : array-like of {"train", "test"}
    metadata : Mapping[str, array-like], optional
        Free columns (instrument, date, group/repetition id...); not part of the identity hash.
    replicates : str, optional
        The metadata column naming the physical sample of each spectrum (its replicates share the value): every
        split then keeps a sample's spectra together and scores are also reported per sample. Its values are part
        of the identity hash when declared. See :meth:`with_replicates`.
    """

    def __init__(
        self, *, name: str, sample_ids: object, spectra: object, wavelengths: object,
        wavelength_unit: WavelengthUnit, targets: Mapping[str, object], partition: object,
        metadata: Mapping[str, object] | None = None, replicates: str | None = None,
    ):
        X = _owned_readonly(spectra)
        if X.ndim != 2:
            raise DataError(f"dataset {name!r}: spectra must be 2D, got shape {X.shape}")
        n, p = X.shape
        if n == 0 or p == 0:
            raise EmptyDatasetError(f"dataset {name!r} is empty: {n} samples x {p} wavelengths (need at least 1 x 1)")
        ids = np.asarray(sample_ids).astype(str)
        if ids.shape != (n,):
            raise DataError(f"dataset {name!r}: {ids.size} sample ids for {n} spectra")
        parts = np.asarray(partition).astype(str)
        if parts.shape != (n,):
            raise DataError(f"dataset {name!r}: {parts.size} partition labels for {n} spectra")
        core = pa.table({
            "sample_id": pa.array(ids, type=pa.string()),
            "partition": pa.array(parts, type=pa.string()),
            "spectrum": pa.FixedSizeListArray.from_arrays(pa.array(X.reshape(-1), type=pa.float64()), p),
        })
        target_table = pa.table({t: _target_array(t, v, n, name) for t, v in targets.items()})
        meta = {k: pa.array(np.asarray(v)) if not isinstance(v, pa.Array) else v for k, v in (metadata or {}).items()}
        wrong = [f"{k!r} ({len(v)})" for k, v in meta.items() if len(v) != n]
        if wrong:
            raise DataError(f"dataset {name!r}: metadata column(s) {', '.join(wrong)} do not have {n} values")
        self._init(name, core, target_table, pa.table(meta) if meta else pa.table({}),
                   _owned_readonly(wavelengths), wavelength_unit, replicates)

    @classmethod
    def from_arrow(
        cls, *, name: str, core: pa.Table, targets: pa.Table, metadata: pa.Table, wavelengths: np.ndarray,
        wavelength_unit: WavelengthUnit, replicates: str | None = None,
    ) -> SpectraDataset:
        """Build from row-aligned Arrow tables (core: sample_id, partition, spectrum) without copying them."""
        self = cls.__new__(cls)
        self._init(name, core, targets, metadata, _owned_readonly(wavelengths), wavelength_unit, replicates)
        return self

    def _init(self, name: str, core: pa.Table, targets: pa.Table, metadata: pa.Table, wavelengths: np.ndarray,
              unit: WavelengthUnit, replicates: str | None = None) -> None:
        self.name = name
        self.replicate_column = replicates
        self.load_notes: tuple[str, ...] = ()  # what the loader decided on its own (not part of the identity)
        self._core = core.combine_chunks()
        self._targets = targets.combine_chunks()
        self._metadata = metadata.combine_chunks()
        self.wavelengths = wavelengths
        self.wavelength_unit = unit
        self._validate()

    def _validate(self) -> None:
        n, p = self.spectra.shape
        if n == 0 or p == 0:
            raise EmptyDatasetError(f"dataset {self.name!r} is empty: {n} samples x {p} wavelengths")
        if self.wavelength_unit not in WAVELENGTH_UNITS:
            raise DataError(f"dataset {self.name!r}: wavelength unit {self.wavelength_unit!r} is not one of "
                            f"{list(WAVELENGTH_UNITS)}")
        if self.wavelengths.shape != (p,):
            raise DataError(f"dataset {self.name!r}: wavelength axis has {self.wavelengths.size} values for {p} "
                            "spectral columns")
        if not np.isfinite(self.wavelengths).all():
            bad = int(np.flatnonzero(~np.isfinite(self.wavelengths))[0])
            raise DataError(f"dataset {self.name!r}: wavelength axis value at position {bad} is not a finite number")
        steps = np.diff(self.wavelengths)
        if p > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
            bad = int(np.flatnonzero(steps <= 0)[0] if steps[0] > 0 else np.flatnonzero(steps >= 0)[0])
            raise DataError(f"dataset {self.name!r}: wavelength axis is not strictly monotonic at positions "
                            f"{bad}-{bad + 1} ({self.wavelengths[bad]:g}, {self.wavelengths[bad + 1]:g})")
        for table, what in ((self._targets, "targets"), (self._metadata, "metadata")):
            if table.num_columns and table.num_rows != n:
                raise DataError(f"dataset {self.name!r}: {what} have {table.num_rows} rows for {n} spectra")
        ids = self.sample_ids
        uniq, counts = np.unique(ids, return_counts=True)
        if uniq.size != n:
            raise DataError(f"dataset {self.name!r}: sample ids are not unique, e.g. {uniq[counts > 1][:5].tolist()}")
        bad_parts = np.setdiff1d(np.unique(self.partition), PARTITIONS)
        if bad_parts.size:
            raise DataError(f"dataset {self.name!r}: partition must be 'train' or 'test', found {bad_parts.tolist()}")
        if self.replicate_column is not None:
            check_replicates(self.name, self.replicate_column, self._metadata, self.partition, ids)

    # --- columns -----------------------------------------------------------------------------------------------
    @cached_property
    def spectra(self) -> np.ndarray:
        """The (n_samples, n_wavelengths) matrix: a read-only, zero-copy view of the Arrow buffer."""
        column = self._core.column("spectrum").chunk(0) if self._core.num_rows else None
        if column is None:
            return np.empty((0, 0))
        flat = column.flatten().to_numpy(zero_copy_only=True)
        return flat.reshape(len(column), column.type.list_size)

    @cached_property
    def sample_ids(self) -> np.ndarray:
        ids = self._core.column("sample_id").to_numpy(zero_copy_only=False).astype(str)
        ids.setflags(write=False)
        return ids

    @cached_property
    def partition(self) -> np.ndarray:
        parts = self._core.column("partition").to_numpy(zero_copy_only=False).astype(str)
        parts.setflags(write=False)
        return parts

    @property
    def targets(self) -> Mapping[str, np.ndarray]:
        """Target name -> values (float64 read-only, or str labels)."""
        return MappingProxyType({t: self.target(t) for t in self._targets.column_names})

    @property
    def target_names(self) -> tuple[str, ...]:
        return tuple(self._targets.column_names)

    def target(self, name: str) -> np.ndarray:
        """Values of target ``name``; a missing name lists the targets this dataset has."""
        if name not in self._targets.column_names:
            raise MissingColumnError(
                f"dataset {self.name!r} has no target column {name!r}; targets are {sorted(self._targets.column_names)}"
            )
        column = self._targets.column(name)
        if pa.types.is_floating(column.type):
            return column.to_numpy()
        labels = column.to_numpy(zero_copy_only=False).astype(str)
        labels.setflags(write=False)
        return labels

    def is_label_target(self, name: str) -> bool:
        """True when target ``name`` holds class labels (strings), False for numeric targets."""
        self.target(name)
        return not pa.types.is_floating(self._targets.column(name).type)

    def with_label_targets(self, names: Sequence[str]) -> SpectraDataset:
        """This dataset with the numeric targets ``names`` read as class labels (integer codes such as grades
        1/2/3 become the labels ``"1"``, ``"2"``, ``"3"``; a non-integer value keeps its shortest form; NaN = not
        measured = ``""``). Targets that already hold labels are kept; an unknown name lists the targets."""
        convert = [n for n in names if not self.is_label_target(n)]  # also checks every name exists
        if not convert:
            return self
        columns = {}
        for name in self._targets.column_names:
            column = self._targets.column(name)
            if name in convert:
                values = column.to_numpy()
                column = pa.array(["" if not np.isfinite(v) else (str(int(v)) if float(v).is_integer() else repr(v))
                                   for v in values.tolist()], type=pa.string())
            columns[name] = column
        out = SpectraDataset.from_arrow(name=self.name, core=self._core, targets=pa.table(columns),
                                        metadata=self._metadata, wavelengths=self.wavelengths,
                                        wavelength_unit=self.wavelength_unit, replicates=self.replicate_column)
        out.load_notes = self.load_notes
        return out

    def with_targets_from_metadata(self, names: Sequence[str]) -> SpectraDataset:
        """This dataset with the metadata columns ``names`` moved to the targets: numbers when every non-empty cell
        is one (a decimal comma is read when no cell has a point; empty = not measured), else class labels. Names
        that are not metadata columns are ignored."""
        move = [n for n in names if n in self._metadata.column_names and n not in self._targets.column_names]
        if not move:
            return self
        columns = {n: self._targets.column(n) for n in self._targets.column_names}
        for name in move:
            columns[name] = _metadata_as_target(self._metadata.column(name).to_pylist())
        out = SpectraDataset.from_arrow(name=self.name, core=self._core, targets=pa.table(columns),
                                        metadata=self._metadata.drop_columns(move), wavelengths=self.wavelengths,
                                        wavelength_unit=self.wavelength_unit, replicates=self.replicate_column)
        out.load_notes = (*self.load_notes, *(f"target {n!r} read from its column" for n in move))
        return out

    def with_replicates(self, column: str | None) -> SpectraDataset:
        """This dataset with metadata column ``column`` declared as the physical sample of each spectrum (None: no
        declaration). Raises MissingColumnError when it is not a metadata column, DataError when a cell is empty
        or a sample has spectra in both the train and the test partition."""
        out = SpectraDataset.from_arrow(name=self.name, core=self._core, targets=self._targets,
                                        metadata=self._metadata, wavelengths=self.wavelengths,
                                        wavelength_unit=self.wavelength_unit, replicates=column)
        out.load_notes = self.load_notes
        return out

    @cached_property
    def replicate_groups(self) -> np.ndarray | None:
        """The physical sample of each row (strings) when replicates are declared, else None."""
        if self.replicate_column is None:
            return None
        values = replicate_values(self._metadata, self.replicate_column)
        values.setflags(write=False)
        return values

    @property
    def metadata(self) -> pa.Table:
        """Free metadata columns (row-aligned with the spectra)."""
        return self._metadata

    @property
    def arrow(self) -> tuple[pa.Table, pa.Table, pa.Table]:
        """The three row-aligned Arrow tables: core (sample_id, partition, spectrum), targets, metadata."""
        return self._core, self._targets, self._metadata

    @property
    def n_samples(self) -> int:
        return self._core.num_rows

    @property
    def n_wavelengths(self) -> int:
        return int(self._core.schema.field("spectrum").type.list_size)

    # --- selection ---------------------------------------------------------------------------------------------
    def rows(self, partition: Partition | None = None, *, mask: object = None, ids: Sequence[str] | None = None
             ) -> np.ndarray:
        """Row indices (int64) of a partition, a boolean mask or sample ids (in the order given); no copy of data."""
        given = [x is not None for x in (partition, mask, ids)]
        if sum(given) != 1:
            raise ValueError("give exactly one of partition, mask or ids")
        if partition is not None:
            if partition not in PARTITIONS:
                raise DataError(f"unknown partition {partition!r}; partitions are {list(PARTITIONS)}")
            return np.flatnonzero(self.partition == partition)
        if mask is not None:
            m = np.asarray(mask, dtype=bool)
            if m.shape != (self.n_samples,):
                raise DataError(f"mask has shape {m.shape}, expected ({self.n_samples},)")
            return np.flatnonzero(m)
        position = {sid: i for i, sid in enumerate(self.sample_ids)}
        missing = [s for s in ids if s not in position]
        if missing:
            raise DataError(f"dataset {self.name!r} has no sample ids {missing[:5]}")
        return np.asarray([position[s] for s in ids], dtype=np.int64)

    def slice(self, start: int, stop: int) -> SpectraDataset:
        """Rows ``start:stop`` sharing every buffer with this dataset (zero-copy)."""
        length = max(0, min(stop, self.n_samples) - start)
        return self._with_tables(self._core.slice(start, length), self._targets.slice(start, length),
                                 self._metadata.slice(start, length) if self._metadata.num_columns else self._metadata)

    def select(self, partition: Partition | None = None, *, mask: object = None, ids: Sequence[str] | None = None,
               copy: bool = False) -> SpectraDataset:
        """The selected rows as a dataset: zero-copy when they are one contiguous ascending run.

        Any other selection copies the rows, which must be asked for with ``copy=True``; code that only needs the
        rows uses :meth:`rows` and indexes the shared matrix instead.
        """
        idx = self.rows(partition, mask=mask, ids=ids)
        if idx.size == 0:
            raise EmptyDatasetError(f"selection of dataset {self.name!r} has no rows")
        if np.array_equal(idx, np.arange(idx[0], idx[0] + idx.size)):
            return self.slice(int(idx[0]), int(idx[0] + idx.size))
        if not copy:
            raise DataError("these rows are not one contiguous run, so selecting them copies the spectra; pass "
                            "copy=True to do so, or use rows() to get their indices")
        take = pa.array(idx)
        return self._with_tables(self._core.take(take), self._targets.take(take),
                                 self._metadata.take(take) if self._metadata.num_columns else self._metadata)

    def _with_tables(self, core: pa.Table, targets: pa.Table, metadata: pa.Table) -> SpectraDataset:
        return SpectraDataset.from_arrow(name=self.name, core=core, targets=targets, metadata=metadata,
                                         wavelengths=self.wavelengths, wavelength_unit=self.wavelength_unit,
                                         replicates=self.replicate_column)

    # --- identity ----------------------------------------------------------------------------------------------
    @cached_property
    def content_hash(self) -> str:
        """Full sha256 hex of the canonical content: spectra, axis, ids, targets, partitions (not metadata)."""
        return dataset_hash(
            spectra=self.spectra, wavelengths=self.wavelengths, unit=self.wavelength_unit,
            sample_ids=self._core.column("sample_id").chunk(0),
            targets={t: self._targets.column(t).chunk(0) for t in self._targets.column_names},
            partition=self._core.column("partition").chunk(0),
            replicates=None if self.replicate_column is None else (self.replicate_column, self.replicate_groups),
        )

    def schema(self) -> DatasetSchema:
        return DatasetSchema(
            dataset_hash=self.content_hash, name=self.name, n_samples=self.n_samples,
            n_wavelengths=self.n_wavelengths, target_names=tuple(sorted(self.target_names)),
            label_targets=tuple(sorted(t for t in self.target_names if self.is_label_target(t))),
            wavelength_unit=self.wavelength_unit, wavelengths=tuple(self.wavelengths.tolist()),
            train_rows=tuple(self.rows("train").tolist()),
            test_rows=tuple(self.rows("test").tolist()),
            replicate_column=self.replicate_column,
            replicate_groups=() if self.replicate_groups is None else tuple(self.replicate_groups.tolist()),
        )

    def __repr__(self) -> str:
        return (f"SpectraDataset({self.name!r}, {self.n_samples} x {self.n_wavelengths}, "
                f"targets={list(self.target_names)}, train={self.rows('train').size}, test={self.rows('test').size})")

