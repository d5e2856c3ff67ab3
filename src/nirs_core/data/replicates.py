"""The replicate declaration of a dataset: which metadata column names the physical sample of each spectrum, and
the checks it must pass (the column exists, no cell is empty, no sample is in both the train and test partition)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from nirs_core.data.errors import DataError, MissingColumnError


def replicate_values(metadata: pa.Table, column: str) -> np.ndarray:
    """The column's values as strings (a null cell becomes ``""``, which :func:`check_replicates` refuses)."""
    values = metadata.column(column).to_pylist()
    return np.asarray(["" if v is None else str(v).strip() for v in values], dtype=str)


def check_replicates(dataset: str, column: str, metadata: pa.Table, partition: np.ndarray,
                     sample_ids: np.ndarray) -> None:
    """Refuse a replicate column that is not a metadata column, has an empty cell, or puts a sample's spectra in
    both partitions (its test scores would be on a sample the model was trained on)."""
    if column not in metadata.column_names:
        raise MissingColumnError(f"dataset {dataset!r}: replicate (sample) column {column!r} is not one of its "
                                 f"metadata columns {metadata.column_names}")
    values = replicate_values(metadata, column)
    empty = np.flatnonzero(values == "")
    if empty.size:
        raise DataError(f"dataset {dataset!r}: replicate (sample) column {column!r} is empty on {empty.size} rows, "
                        f"e.g. sample ids {sample_ids[empty[:5]].tolist()}; every spectrum needs its sample")
    in_train = set(values[partition == "train"].tolist())
    both = sorted(in_train & set(values[partition == "test"].tolist()))
    if both:
        raise DataError(f"dataset {dataset!r}: {len(both)} samples of replicate column {column!r} have spectra in "
                        f"both the train and the test partition, e.g. {both[:5]}; a sample's replicates must all "
                        "be train or all be test")
