"""Cache keys of generated nodes: step identity + input-data fingerprint + code fingerprint, full sha256.

Hamilton's own cache versions a node by the source of its function; every generated node shares one wrapper, so a
changed parameter would be served stale. These keys name what a node computes instead.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import numpy as np

import nirs_core.operators
import relspec.operator_map
from nirs_core.data import SpectraDataset
from nirs_modelling import compute
from nirs_modelling.targets import target_values
from relspec.hashing import sha256_of
from relspec.plan import CompiledPlan, FoldSpec, HoistedNode, SweepGroup

CACHE_FORMAT = 1  # bump when the meaning of a key or the layout of an entry changes
_LIBRARIES = ("numpy", "scipy", "scikit-learn", "ikpls")


def _sha256_array(values: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(values).tobytes()).hexdigest()


@dataclass(frozen=True)
class DataFingerprint:
    """What a node's input data is: content hash, shape, dtype and axis of the spectra; the target's values."""

    dataset_hash: str
    shape: tuple[int, ...]
    dtype: str
    wavelengths_sha256: str
    target: str
    target_sha256: str

    def spectra_part(self) -> list[object]:
        return [self.dataset_hash, list(self.shape), self.dtype, self.wavelengths_sha256]

    def with_target(self) -> list[object]:
        return [*self.spectra_part(), self.target, self.target_sha256]


def data_fingerprint(dataset: SpectraDataset, target: str, values: np.ndarray) -> DataFingerprint:
    """The fingerprint of the spectra and of the target's ``values`` as the engine uses them (class codes for
    labels)."""
    spectra = dataset.spectra
    return DataFingerprint(
        dataset_hash=dataset.content_hash, shape=tuple(spectra.shape), dtype=spectra.dtype.str,
        wavelengths_sha256=_sha256_array(np.asarray(dataset.wavelengths, dtype=np.float64)),
        target=target, target_sha256=_sha256_array(np.asarray(values, dtype=np.float64)),
    )


def _sources(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.py"))


@functools.cache
def code_fingerprint() -> str:
    """sha256 over the sources that compute cached values and the versions of the numeric libraries."""
    files = [*_sources(Path(nirs_core.operators.__file__).parent), Path(relspec.operator_map.__file__),
             Path(compute.__file__)]
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    for lib in _LIBRARIES:
        try:
            digest.update(f"{lib}={version(lib)}\0".encode())
        except PackageNotFoundError:
            digest.update(f"{lib}=absent\0".encode())
    return digest.hexdigest()


class KeyMaker:
    """The cache keys of one plan on one dataset (fold row hashes computed once per fold)."""

    def __init__(self, plan: CompiledPlan, dataset: SpectraDataset):
        self.fingerprint = data_fingerprint(dataset, plan.target_label, target_values(plan, dataset))
        self.code = code_fingerprint()
        test = sha256_of(list(plan.test_rows))
        self._rows = {f.fold_id: [sha256_of(list(f.train_rows)), sha256_of(list(f.val_rows)), test]
                      for f in plan.folds}

    def hoisted(self, node: HoistedNode) -> str:
        """Key of a hoisted node: its struct (prefix identity and step, with the axis) and the spectra."""
        return sha256_of("cache", CACHE_FORMAT, "hoisted", self.code, node, self.fingerprint.spectra_part())

    def fold_fit(self, group: SweepGroup, fold: FoldSpec) -> str:
        """Key of a fold fit: the whole group (steps, model, component list), the fold's rows, spectra, target."""
        return sha256_of("cache", CACHE_FORMAT, "fold_fit", self.code, group, fold.fold_id,
                         self._rows[fold.fold_id], self.fingerprint.with_target())
