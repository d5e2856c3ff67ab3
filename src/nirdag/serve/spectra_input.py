"""Spectra sent to ``POST /predict/{bundle}``, decoded once at the boundary: JSON (``spectra`` rows, optional
``sample_ids`` and ``wavelengths``), a wide CSV (read exactly as ``nirdag predict MODEL FILE.csv`` reads a file) or
an Arrow IPC stream of the same wide layout."""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import msgspec
import numpy as np
import pyarrow as pa

from nirdag.api import load_dataset
from nirdag.serve.errors import RequestError, UnsupportedMediaType
from nirs_core.data import SpectraDataset, dataset_from_parts
from nirs_core.data.table_loader import ColumnRoles, parts_from_table
from nirs_core.errors import NirdagError

BodyKind = Literal["json", "csv", "arrow"]
_KINDS: dict[str, BodyKind] = {"application/json": "json", "text/csv": "csv",
                               "application/vnd.apache.arrow.stream": "arrow"}
_SOURCE = "request body"


class PredictRequest(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """The JSON body: one row of numbers per spectrum, on the model's training axis unless ``wavelengths`` says
    which axis the rows are on (it is then checked against the training axis)."""

    spectra: list[list[float]]
    sample_ids: list[str] | None = None
    wavelengths: list[float] | None = None


@dataclass(frozen=True)
class Spectra:
    """Decoded spectra: a matrix with its ids and axis (JSON), or a dataset read from a table (CSV, Arrow)."""

    matrix: np.ndarray | None = None
    sample_ids: list[str] | None = None
    wavelengths: np.ndarray | None = None
    dataset: SpectraDataset | None = None

    @property
    def n_spectra(self) -> int:
        return self.dataset.n_samples if self.dataset is not None else self.matrix.shape[0]


def body_kind(content_type: str | None) -> BodyKind:
    """The body's format from its Content-Type (JSON when absent); UnsupportedMediaType otherwise."""
    media = (content_type or "application/json").split(";")[0].strip().lower()
    if media not in _KINDS:
        raise UnsupportedMediaType(f"Content-Type {media[:80]!r}: send spectra as {', '.join(_KINDS)}")
    return _KINDS[media]


def _from_json(body: bytes) -> Spectra:
    try:
        request = msgspec.json.decode(body, type=PredictRequest)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise RequestError(f"JSON body: {' '.join(str(exc).split())}") from None
    widths = {len(row) for row in request.spectra}
    if len(widths) > 1:
        raise RequestError(f"JSON body: spectra rows have different lengths ({', '.join(map(str, sorted(widths)))})")
    if not request.spectra or widths == {0}:
        raise RequestError("JSON body: 'spectra' holds no spectrum (give one row of numbers per spectrum)")
    axis = None if request.wavelengths is None else np.asarray(request.wavelengths, dtype=np.float64)
    if axis is not None and (axis.size != widths.pop() or not np.isfinite(axis).all()):
        raise RequestError(f"JSON body: 'wavelengths' must be {len(request.spectra[0])} finite numbers, one per "
                           "column of 'spectra'")
    return Spectra(matrix=np.asarray(request.spectra, dtype=np.float64), sample_ids=request.sample_ids,
                   wavelengths=axis)


def _one_line(exc: NirdagError, path: str) -> RequestError:
    return RequestError(" ".join(str(exc).replace(path, _SOURCE).split()))


def _from_csv(body: bytes, targets: tuple[str, ...]) -> Spectra:
    with tempfile.TemporaryDirectory(prefix="nirdag-serve-") as folder:
        path = Path(folder) / "request.csv"
        path.write_bytes(body)
        try:
            return Spectra(dataset=load_dataset(path, format="csv", not_spectral=targets, name="request"))
        except NirdagError as exc:
            raise _one_line(exc, str(path)) from None


def _from_arrow(body: bytes, targets: tuple[str, ...]) -> Spectra:
    try:
        table = pa.ipc.open_stream(body).read_all()
    except (pa.ArrowException, ValueError) as exc:
        raise RequestError(f"Arrow IPC body: {' '.join(str(exc).split())[:300]}") from None
    try:
        parts = parts_from_table(Path(_SOURCE), table, ColumnRoles(not_spectral=targets), delimiter=None,
                                 wavelengths=None, wavelength_unit=None)
        return Spectra(dataset=dataset_from_parts(parts, name="request"))
    except NirdagError as exc:
        raise _one_line(exc, _SOURCE) from None
    except (pa.ArrowException, ValueError, TypeError) as exc:  # a column of a type no spectrum has
        raise RequestError(f"Arrow IPC body: {' '.join(str(exc).split())[:300]}") from None


def decode_spectra(body: bytes, kind: BodyKind, targets: tuple[str, ...]) -> Spectra:
    """The spectra of a request body; a one-line RequestError when it cannot be read. ``targets`` are the model's
    targets: columns of that name in a table are reference values, never spectra."""
    if not body:
        raise RequestError("empty request body: send spectra as JSON, CSV or Arrow IPC")
    if kind == "json":
        return _from_json(body)
    return _from_csv(body, targets) if kind == "csv" else _from_arrow(body, targets)
