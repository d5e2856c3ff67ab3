"""Datasets in the workspace: `datasets` (one row per dataset_hash) and `spectra` (one row per sample).

A dataset is written once per dataset_hash and read back to an identical dataset (same content hash): the spectrum
width is kept in `datasets.n_wavelengths`, so the `list<double>` column comes back as the same 2D matrix. Metadata
columns are stored as strings.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from datafusion import SessionContext
from deltalake import DeltaTable
from deltalake.exceptions import TableNotFoundError

from datafusion_engine.errors import StoreError
from datafusion_engine.schemas import DATASETS, SPECTRA
from datafusion_engine.session import plain_strings
from datafusion_engine.workspace import Workspace
from nirs_core.data import SpectraDataset


def _map_column(names: list[str], columns: list[pa.Array], n: int, value_type: pa.DataType) -> pa.MapArray:
    """A map<string, value> per row from row-aligned columns (built in Arrow, not row by row)."""
    k = len(names)
    offsets = pa.array(np.arange(n + 1, dtype=np.int32) * k)
    keys = pa.array(np.tile(np.asarray(names, dtype=object), n) if k else [], type=pa.string())
    if k:
        items = pa.concat_arrays([c.cast(value_type) for c in columns])
        order = np.arange(n * k).reshape(k, n).T.reshape(-1)  # row-major: row 0's values first
        items = items.take(pa.array(order))
    else:
        items = pa.array([], type=value_type)
    return pa.MapArray.from_arrays(offsets, keys, items)


def dataset_tables(dataset: SpectraDataset) -> tuple[pa.Table, pa.Table]:
    """The `datasets` row and the `spectra` rows of a dataset."""
    core, targets, metadata = dataset.arrow
    n = dataset.n_samples
    numeric = [t for t in targets.column_names if not dataset.is_label_target(t)]
    labels = [t for t in targets.column_names if dataset.is_label_target(t)]
    head = pa.Table.from_pylist([{
        "dataset_hash": dataset.content_hash, "name": dataset.name, "n_samples": n,
        "n_wavelengths": dataset.n_wavelengths, "wavelengths": dataset.wavelengths.tolist(),
        "wavelength_unit": dataset.wavelength_unit, "numeric_targets": numeric, "label_targets": labels,
        "metadata_names": metadata.column_names, "replicate_column": dataset.replicate_column,
    }], schema=DATASETS)
    rows = pa.Table.from_arrays([
        pa.array(np.full(n, dataset.content_hash, dtype=object), type=pa.string()),
        pa.array(np.arange(n, dtype=np.int64)),
        core.column("sample_id").combine_chunks(),
        core.column("partition").combine_chunks(),
        core.column("spectrum").combine_chunks().cast(pa.list_(pa.float64())),
        _map_column(numeric, [targets.column(t).combine_chunks() for t in numeric], n, pa.float64()),
        _map_column(labels, [targets.column(t).combine_chunks() for t in labels], n, pa.string()),
        _map_column(metadata.column_names, [metadata.column(m).combine_chunks() for m in metadata.column_names], n,
                    pa.string()),
    ], schema=SPECTRA)
    return head, rows


def save_dataset(workspace: Workspace, dataset: SpectraDataset) -> bool:
    """Store ``dataset`` once under its dataset_hash; False when it was already there."""
    if dataset.content_hash in stored_dataset_hashes(workspace):
        return False
    head, rows = dataset_tables(dataset)
    workspace.store.write("spectra", rows)
    workspace.store.write("datasets", head)
    return True


def stored_dataset_hashes(workspace: Workspace) -> set[str]:
    if "datasets" not in workspace.layout.existing_tables():
        return set()
    return set(workspace.session().query("SELECT dataset_hash FROM datasets").column("dataset_hash").to_pylist())


def load_stored_dataset(workspace: Workspace, dataset_hash: str) -> SpectraDataset:
    """Read a stored dataset back; it has the same content hash as the one saved."""
    session = workspace.require().session()
    if "datasets" not in session.tables or "spectra" not in session.tables:
        raise StoreError(f"workspace {session.root} holds no stored datasets")
    head = session.query("SELECT * FROM datasets WHERE dataset_hash = $hash", hash=dataset_hash).to_pylist()
    if not head:
        raise StoreError(f"workspace {session.root} has no dataset {dataset_hash}")
    info = head[0]
    # no ORDER BY: sorting every spectrum inside DataFusion's bounded memory pool fails for large datasets; the
    # rows come back in write order (one file per dataset), and are put in order here only when they are not
    rows = session.query("SELECT * FROM spectra WHERE dataset_hash = $hash", hash=dataset_hash)
    order = np.argsort(rows.column("row").to_numpy(), kind="stable")
    if not np.array_equal(order, np.arange(rows.num_rows)):
        rows = rows.take(pa.array(order))
    n, p = info["n_samples"], info["n_wavelengths"]
    flat = pc.list_flatten(rows.column("spectrum")).to_numpy(zero_copy_only=False).astype(np.float64, copy=False)
    if rows.num_rows != n or flat.size != n * p:
        raise StoreError(f"dataset {dataset_hash} is incomplete in {session.root}: {rows.num_rows} of {n} rows")
    spectra = flat.reshape(n, p)
    spectra.setflags(write=False)

    def lookup(column: str, name: str) -> np.ndarray:
        return pc.map_lookup(rows.column(column), pa.scalar(name), "first").to_numpy(zero_copy_only=False)

    targets = {t: lookup("numeric_targets", t).astype(np.float64) for t in info["numeric_targets"]}
    targets |= {t: lookup("label_targets", t).astype(str) for t in info["label_targets"]}
    return SpectraDataset(
        name=info["name"], sample_ids=rows.column("sample_id").to_numpy(zero_copy_only=False),
        spectra=spectra, wavelengths=np.asarray(info["wavelengths"], dtype=np.float64),
        wavelength_unit=info["wavelength_unit"], targets=targets,
        partition=rows.column("partition").to_numpy(zero_copy_only=False),
        metadata={m: lookup("metadata", m).astype(str) for m in info["metadata_names"]},
        replicates=info.get("replicate_column"),
    )


@dataclass(frozen=True)
class StoredSpectra:
    """A stored dataset's spectra by reference: what a cluster's workers receive instead of the matrix.

    Calling it in a worker reads the dataset from the workspace (its Delta tables, on the object store for an
    ``s3://`` workspace), checks it is the dataset of ``dataset_hash`` (its content hash) and keeps it for the
    other tasks of that process: a worker holds one copy. The options (which may hold credentials given as
    storage options) are excluded from the repr, so no log line shows them.
    """

    location: str
    dataset_hash: str
    options: tuple[tuple[str, str], ...] = field(default=(), repr=False)

    def __call__(self) -> np.ndarray:
        return _worker_spectra(self)


@functools.lru_cache(maxsize=1)  # one dataset per worker process at a time: the run's
def _worker_spectra(ref: StoredSpectra) -> np.ndarray:
    workspace = Workspace(ref.location, dict(ref.options) or None)
    dataset = load_stored_dataset(workspace, ref.dataset_hash)
    if dataset.content_hash != ref.dataset_hash:
        raise StoreError(f"dataset {ref.dataset_hash} read back from {ref.location} hashes to "
                         f"{dataset.content_hash}: the stored spectra differ from the ones run")
    return dataset.spectra


def stored_spectra(workspace: Workspace, dataset_hash: str) -> StoredSpectra:
    """The reference to a dataset already stored in ``workspace`` (``save_dataset``)."""
    storage = workspace.layout.storage
    options = getattr(storage, "options", {})
    return StoredSpectra(str(workspace.root), dataset_hash, tuple(sorted(options.items())))


def read_delta_source(path: str | Path) -> pa.Table:
    """A user's Delta table (wide spectra) read through DataFusion's native provider, as one Arrow table."""
    try:
        table = DeltaTable(str(path))
    except TableNotFoundError:
        raise StoreError(f"{path}: not a Delta table (no _delta_log)") from None
    ctx = SessionContext()
    ctx.register_table("source", table)
    return plain_strings(ctx.sql("SELECT * FROM source").to_arrow_table())
