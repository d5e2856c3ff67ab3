"""The bundle file (a zip): write it atomically; read it back verifying everything before anything is loaded."""

from __future__ import annotations

import hashlib
import io
import struct
import zipfile
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import numpy as np

from nirdag.bundle import serialize
from nirdag.bundle.errors import BundleError, TamperedBundleError
from nirdag.bundle.fitted import FittedChain, FittedStage, fitted_objects_of, no_stored_domain
from nirdag.bundle.limits import (
    DEFAULT_LIMITS,
    MANIFEST,
    MANIFEST_MAX_BYTES,
    SIGNATURE,
    SIGNATURE_MAX_BYTES,
    BundleLimits,
    check_entries,
    check_file_size,
)
from nirdag.bundle.manifest import CALIBRATION_SINCE, DOMAIN_SINCE, FoldEntry, Manifest, Signature, decode, encode
from nirdag.bundle.members import check_class, expected_classes
from nirdag.bundle.signing import sign, signing_key, verify
from nirs_core.files import write_atomic
from nirs_core.storage import StorageError, is_object_uri, read_file, write_file
from relspec.plan import FOLD_FINAL

_EPOCH = (1980, 1, 1, 0, 0, 0)
# What zipfile raises on damaged archives (bad CRC, truncated streams, bad headers): all mean "not intact".
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, OSError, ValueError, KeyError,
               NotImplementedError, RuntimeError, struct.error, UnicodeDecodeError, OverflowError, IndexError)


def object_name(data: bytes) -> str:
    """Member name of a fitted object's skops bytes (content-addressed)."""
    return f"objects/{hashlib.sha256(data).hexdigest()}.skops"


def write_bundle(path: str | Path, manifest: Manifest, members: Mapping[str, bytes], key: bytes | None, *,
                 storage_options: Mapping[str, str] | None = None) -> Path | str:
    """Write ``manifest`` (whose ``members`` must hash ``members``), the members and the signature to ``path`` (a
    file, or ``s3://bucket/key`` with ``storage_options`` over the ``AWS_*`` environment)."""
    expected = {name: hashlib.sha256(data).hexdigest() for name, data in members.items()}
    if expected != manifest.members:
        raise BundleError("internal: the manifest's member hashes do not match the members being written")
    manifest_bytes = encode(manifest)
    signature = msgspec.json.encode(sign(manifest_bytes, key), order="sorted")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in ((MANIFEST, manifest_bytes), (SIGNATURE, signature), *sorted(members.items())):
            zf.writestr(zipfile.ZipInfo(name, date_time=_EPOCH), data, compress_type=zipfile.ZIP_DEFLATED)
    if is_object_uri(path):
        try:
            return write_file(path, buffer.getvalue(), storage_options)
        except StorageError as exc:
            raise BundleError(f"bundle {path}: {exc}") from None
    path = Path(path)
    return write_atomic(path, buffer.getvalue(), prefix=f".{path.name}-")


@dataclass(frozen=True)
class LoadedBundle:
    """A verified bundle: its manifest, the fitted chain, and whether an HMAC signature was checked."""

    path: Path | str
    manifest: Manifest
    chain: FittedChain
    signature_verified: bool


class _Reader:
    """Reads members of a zip held in memory; the file size and the central directory (names, entry count, declared
    sizes, compression ratios) are checked against the limits before anything is decompressed; every zip failure
    becomes a BundleError naming the member."""

    def __init__(self, path: Path | str, limits: BundleLimits, options: Mapping[str, str] | None = None):
        self.where = f"bundle {path}"
        if isinstance(path, str):  # s3://bucket/key: its size is checked (one HEAD) before it is fetched
            try:
                data = read_file(path, options, max_bytes=limits.max_total_bytes)
            except StorageError as exc:
                raise BundleError(f"{self.where} cannot be read: {exc}") from None
        else:
            try:
                check_file_size(path.stat().st_size, limits, self.where)
                data = path.read_bytes()
            except OSError as exc:
                raise BundleError(f"{self.where} cannot be read: {exc.strerror or exc}") from None
        try:
            self.zf = zipfile.ZipFile(io.BytesIO(data))
            infos = self.zf.infolist()
        except _ZIP_ERRORS as exc:
            raise BundleError(f"{self.where} is not a nirdag bundle: not a readable zip archive (truncated or "
                              f"another kind of file): {exc}") from None
        check_entries(infos, limits, self.where)
        self.sizes = {i.filename: i.file_size for i in infos}

    def read(self, name: str, limit: int) -> bytes:
        if name not in self.sizes:
            raise TamperedBundleError(f"{self.where} has no member {name}")
        if self.sizes[name] > limit:
            raise BundleError(f"{self.where}: member {name} declares {self.sizes[name]} bytes, over the limit {limit}")
        try:
            with self.zf.open(name) as handle:
                data = handle.read(limit + 1)
        except _ZIP_ERRORS as exc:
            raise TamperedBundleError(f"{self.where}: member {name} is damaged ({exc})") from None
        if len(data) > limit:
            raise BundleError(f"{self.where}: member {name} is larger than the limit {limit}")
        return data


def _verified_manifest(reader: _Reader, key: bytes | None) -> tuple[Manifest, bool]:
    for required in (MANIFEST, SIGNATURE):
        if required not in reader.sizes:
            raise TamperedBundleError(f"{reader.where} has no {required}; found members {sorted(reader.sizes)}")
    manifest_bytes = reader.read(MANIFEST, MANIFEST_MAX_BYTES)
    try:
        signature = msgspec.json.decode(reader.read(SIGNATURE, SIGNATURE_MAX_BYTES), type=Signature)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:  # msgspec raises the latter on invalid UTF-8
        raise TamperedBundleError(f"{reader.where}: signature.json is not valid: {exc}") from None
    verified = verify(manifest_bytes, signature, key, reader.where)
    manifest = decode(manifest_bytes, reader.where)
    listed, present = set(manifest.members), set(reader.sizes) - {MANIFEST, SIGNATURE}
    if present - listed:
        raise TamperedBundleError(f"{reader.where} holds members the manifest does not list: "
                                  f"{sorted(present - listed)}")
    if listed - present:
        raise TamperedBundleError(f"{reader.where} lacks members the manifest lists: {sorted(listed - present)}")
    return manifest, verified


def _member_loader(reader: _Reader, manifest: Manifest) -> Callable[[str], Any]:
    """Check the member set against what the folds use, then every member's sha256 (all of them, before any is
    deserialised); then load on demand, each object checked against its manifest class before it is used."""
    expected = expected_classes(manifest, reader.where)
    contents = {}
    for name, digest in sorted(manifest.members.items()):
        data = reader.read(name, reader.sizes[name])
        actual = hashlib.sha256(data).hexdigest()
        if actual != digest:
            raise TamperedBundleError(f"{reader.where}: member {name} was changed: it hashes to sha256 {actual}, "
                                      f"the manifest records {digest}")
        contents[name] = data
    cache: dict[str, Any] = {}

    def load(name: str) -> Any:
        if name not in cache:
            where = f"{reader.where} member {name}"
            cache[name] = check_class(serialize.loads(contents[name], where), expected[name], where)
        return cache[name]

    return load


def _stage(fold: FoldEntry, load: Callable[[str], Any]) -> FittedStage:
    return FittedStage(fold.fold_id, tuple(load(s) for s in fold.steps), load(fold.model),
                       load(fold.y_transform) if fold.y_transform else None)


def _domain_note(manifest: Manifest) -> str:
    """Why a bundle of a latent model carries no domain (the model itself tells the other reasons)."""
    if manifest.schema_version < DOMAIN_SINCE:
        return (f"the bundle was written before nirdag carried applicability domains (manifest schema_version "
                f"{manifest.schema_version}); export the chain again to get one")
    return no_stored_domain(manifest.run_id)


def _calibration_note(manifest: Manifest) -> str:
    """Why a bundle carries no conformal calibration."""
    if manifest.schema_version < CALIBRATION_SINCE:
        return (f"the bundle was written before nirdag carried them (manifest schema_version "
                f"{manifest.schema_version}); export the chain again from its workspace to get intervals")
    if manifest.derived_by is not None:
        return (f"it is a derived bundle ({manifest.derived_by}): its parent's out-of-fold residuals do not describe "
                f"it, so it carries no conformity scores")
    return f"run {manifest.run_id} stored no out-of-fold predictions for this chain"


def _fitted_chain(manifest: Manifest, load: Callable[[str], Any], where: str) -> FittedChain:
    facts = {"targets": tuple(manifest.target_names), "wavelengths": np.asarray(manifest.wavelengths, dtype=np.float64),
             "wavelength_unit": manifest.wavelength_unit, "classes": manifest.classes}
    bases = []
    for base in manifest.base_chains:
        if base.fold.fold_id != FOLD_FINAL:
            raise BundleError(f"{where}: base chain {base.chain.chain_id} of the stack must be its {FOLD_FINAL!r} "
                              f"chain, not {base.fold.fold_id!r}")
        bases.append(FittedChain(chain_id=base.chain.chain_id, n_components=base.chain.n_components,
                                 stages=(_stage(base.fold, load),), **facts))
    return FittedChain(chain_id=manifest.chain.chain_id, n_components=manifest.chain.n_components,
                       stages=tuple(_stage(f, load) for f in manifest.folds), bases=tuple(bases),
                       domain=manifest.domain, domain_note=_domain_note(manifest), transfer=manifest.transfer,
                       correction=manifest.correction, calibration=manifest.calibration,
                       calibration_note=_calibration_note(manifest), **facts)


def read_bundle(path: str | Path, *, key: str | bytes | None = None, limits: BundleLimits = DEFAULT_LIMITS,
                storage_options: Mapping[str, str] | None = None) -> LoadedBundle:
    """Open and verify a bundle: file size, entry names, count, declared sizes and compression ratios within
    ``limits``; manifest digest (and HMAC when a key is given or ``$NIRDAG_BUNDLE_KEY`` is set), schema version;
    member set equal to what the folds use; every member's sha256 — then load the fitted objects through the skops
    allow-list, each checked against its manifest class."""
    path = str(path) if is_object_uri(path) else Path(path)
    reader = _Reader(path, limits, storage_options)
    manifest, verified = _verified_manifest(reader, signing_key(key))
    load = _member_loader(reader, manifest)
    with fitted_objects_of(reader.where):  # the domain check reads the model's latent structure
        chain = _fitted_chain(manifest, load, reader.where)
    return LoadedBundle(path=path, manifest=manifest, chain=chain, signature_verified=verified)
