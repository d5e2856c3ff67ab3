"""What a bundle may cost to open: caps on its file size, entries, uncompressed size and compression ratio, and the
entry names it may hold — all checked on the zip's central directory, before anything is decompressed."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass

from nirdag.bundle.errors import BundleError, TamperedBundleError

MANIFEST = "manifest.json"
SIGNATURE = "signature.json"
OBJECT_NAME = re.compile(r"objects/[0-9a-f]{64}\.skops")
MANIFEST_MAX_BYTES = 16 * 2**20
SIGNATURE_MAX_BYTES = 4096
_MiB = 2**20


@dataclass(frozen=True, kw_only=True)
class BundleLimits:
    """Caps on what opening a bundle may cost. The defaults pass any real bundle with a wide margin (measured: a
    2,000-wavelength PLS chain with 10 fold models is 21.8 MB uncompressed in 25 entries, ratio 1.06; see
    docs/reliability.md) and bound the memory a hostile one can take.

    Parameters
    ----------
    max_total_bytes : int
        The sum of the declared uncompressed sizes of every entry (and the file's size on disk).
    max_entries : int
        Zip entries (manifest, signature and fitted objects).
    max_ratio : float
        Uncompressed / compressed size, of the whole archive and of every entry of at least ``ratio_floor_bytes``.
    ratio_floor_bytes : int
        Entries smaller than this are not judged by their ratio (a 2 KB JSON entry may compress 10x harmlessly).
    """

    max_total_bytes: int = 2**30
    max_entries: int = 10_000
    max_ratio: float = 100.0
    ratio_floor_bytes: int = _MiB

    def __post_init__(self) -> None:
        if min(self.max_total_bytes, self.max_entries, self.ratio_floor_bytes) < 1 or not self.max_ratio >= 1:
            raise BundleError(f"bundle limits must be positive (and max_ratio >= 1): {self}")


DEFAULT_LIMITS = BundleLimits()


def _ratio(size: int, compressed: int) -> float:
    return size / max(compressed, 1)


def check_file_size(size: int, limits: BundleLimits, where: str) -> None:
    """The file on disk, before it is read into memory."""
    if size > limits.max_total_bytes:
        raise BundleError(f"{where} is {size} bytes, over the bundle size limit {limits.max_total_bytes} "
                          "(BundleLimits.max_total_bytes)")


def check_entries(infos: Sequence[zipfile.ZipInfo], limits: BundleLimits, where: str) -> None:
    """Names (no duplicates; only the manifest, the signature and ``objects/<sha256>.skops``: no paths of another
    shape, so no zip-slip or absolute names), entry count, total declared size and compression ratios."""
    names = [i.filename for i in infos]
    if len(names) > limits.max_entries:
        raise BundleError(f"{where} holds {len(names)} zip entries, over the limit {limits.max_entries} "
                          "(BundleLimits.max_entries)")
    if len(set(names)) != len(names):
        raise TamperedBundleError(f"{where} holds duplicate member names "
                                  f"{sorted({n for n in names if names.count(n) > 1})}")
    odd = sorted(n for n in names if n not in (MANIFEST, SIGNATURE) and not OBJECT_NAME.fullmatch(n))
    if odd:
        raise TamperedBundleError(f"{where} holds entries {odd[:5]} that are not a bundle's (expected only "
                                  f"{MANIFEST}, {SIGNATURE} and objects/<sha256>.skops)")
    total = sum(i.file_size for i in infos)
    if total > limits.max_total_bytes:
        raise BundleError(f"{where} declares {total} bytes uncompressed, over the limit {limits.max_total_bytes} "
                          "(BundleLimits.max_total_bytes)")
    compressed = sum(i.compress_size for i in infos)
    worst = max(((_ratio(i.file_size, i.compress_size), i.filename) for i in infos
                 if i.file_size >= limits.ratio_floor_bytes), default=None)
    if worst is not None and worst[0] > limits.max_ratio:
        raise BundleError(f"{where}: member {worst[1]} expands {worst[0]:.0f}x, over the compression ratio limit "
                          f"{limits.max_ratio:g} (BundleLimits.max_ratio)")
    if total >= limits.ratio_floor_bytes and _ratio(total, compressed) > limits.max_ratio:
        raise BundleError(f"{where} expands {_ratio(total, compressed):.0f}x ({compressed} -> {total} bytes), over "
                          f"the compression ratio limit {limits.max_ratio:g} (BundleLimits.max_ratio)")
