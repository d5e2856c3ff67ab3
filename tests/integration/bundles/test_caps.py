"""Hostile bundles built from a real export: size and ratio caps and names that are not a bundle's — each refused
with a typed error before it costs memory."""

from __future__ import annotations

import hashlib
import tracemalloc
import zipfile
from pathlib import Path

import msgspec
import pytest
from tests.integration.bundles.helpers import members, rezip, sealed

from nirdag.bundle import BundleError, TamperedBundleError, read_bundle
from nirdag.bundle.limits import BundleLimits
from nirdag.bundle.signing import KEY_ENV

_CHUNK = 2**22


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def _zeros_digest(size: int) -> str:
    h, block = hashlib.sha256(), bytes(_CHUNK)
    for start in range(0, size, _CHUNK):
        h.update(block[: min(_CHUNK, size - start)])
    return h.hexdigest()


def _with_bombs(path: Path, content: dict[str, bytes], bombs: dict[str, int]) -> Path:
    """``content`` plus members of ``size`` zero bytes each, deflated (written in chunks: ~1 MB per GB on disk)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            zf.writestr(name, data)
        for name, size in bombs.items():
            with zf.open(name, "w", force_zip64=True) as out:
                block = bytes(_CHUNK)
                for start in range(0, size, _CHUNK):
                    out.write(block[: min(_CHUNK, size - start)])
    return path


def _models_replaced(content: dict[str, bytes], bombs: dict[str, int]) -> dict[str, bytes]:
    """The manifest re-sealed with fold i's model replaced by bomb i (listed with its true sha256)."""
    names = list(bombs)

    def edit(manifest, _):
        for fold, name in zip(manifest["folds"], names, strict=False):
            fold["model"] = name
        used = {n for f in manifest["folds"] for n in (*f["steps"], f["model"])}
        manifest["members"] = {n: h for n, h in manifest["members"].items() if n in used}
        manifest["members"].update({n: _zeros_digest(bombs[n]) for n in names})

    out = sealed(content, edit)
    listed = set(_manifest(out)["members"])
    return {n: d for n, d in out.items() if n in listed or not n.startswith("objects/")}


def _manifest(content: dict[str, bytes]) -> dict:
    return msgspec.json.decode(content["manifest.json"])


def test_a_small_bundle_declaring_more_than_a_gib_is_refused_before_any_member_is_read(bundle_file, tmp_path):
    """Issue 20: a 4 MB unsigned bundle made predict use 5.4 GB (the cap was 1 GiB per member)."""
    bombs = {f"objects/{c * 64}.skops": 600 * 2**20 for c in "ab"}
    path = _with_bombs(tmp_path / "bomb.nirdag", _models_replaced(members(bundle_file), bombs), bombs)
    assert path.stat().st_size < 4 * 2**20
    tracemalloc.start()
    try:
        with pytest.raises(BundleError, match=r"declares \d+ bytes uncompressed, over the limit 1073741824"):
            read_bundle(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 64 * 2**20, peak


def test_a_member_that_expands_a_thousandfold_is_refused_by_the_ratio_cap(bundle_file, tmp_path):
    bombs = {f"objects/{'c' * 64}.skops": 40 * 2**20}
    path = _with_bombs(tmp_path / "ratio.nirdag", _models_replaced(members(bundle_file), bombs), bombs)
    with pytest.raises(BundleError, match=r"member objects/c{64}\.skops expands \d+x, over the compression ratio "
                                          r"limit 100"):
        read_bundle(path)


def test_the_caps_can_be_tightened_and_a_real_bundle_passes_the_defaults_with_a_wide_margin(bundle_file):
    with zipfile.ZipFile(bundle_file) as zf:
        infos = zf.infolist()
    total = sum(i.file_size for i in infos)
    assert total * 1000 < BundleLimits().max_total_bytes
    assert total / sum(i.compress_size for i in infos) * 20 < BundleLimits().max_ratio
    with pytest.raises(BundleError, match=r"over the bundle size limit 1000 \(BundleLimits.max_total_bytes\)"):
        read_bundle(bundle_file, limits=BundleLimits(max_total_bytes=1000))
    with pytest.raises(BundleError, match=r"holds \d+ zip entries, over the limit 3"):
        read_bundle(bundle_file, limits=BundleLimits(max_entries=3))
    with pytest.raises(BundleError, match=r"over the compression ratio limit 1\.01"):
        read_bundle(bundle_file, limits=BundleLimits(max_ratio=1.01, ratio_floor_bytes=1))
    with pytest.raises(BundleError, match="bundle limits must be positive"):
        BundleLimits(max_entries=0)


@pytest.mark.parametrize("name", ["../evil.skops", "/etc/evil.skops", "objects/../../evil.skops",
                                  "objects\\..\\evil.skops", f"objects/{'a' * 64}.pkl", "objects/x.skops"])
@pytest.mark.parametrize("listed", [False, True], ids=["unlisted", "listed"])
def test_entries_that_are_not_a_bundles_names_are_refused(bundle_file, tmp_path, name, listed):
    content = {**members(bundle_file), name: b"payload"}
    if listed:
        content = sealed(content, lambda m, _: m["members"].update({name: ""}))
    path = rezip(tmp_path / "slip.nirdag", content)
    with zipfile.ZipFile(path) as zf:
        assert name in zf.namelist()
    with pytest.raises(TamperedBundleError, match="that are not a bundle's"):
        read_bundle(path)
