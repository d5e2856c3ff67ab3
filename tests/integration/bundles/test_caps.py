"""Hostile bundles built from a real export: size and ratio caps, members no chain uses, objects of another class,
and names that are not a bundle's — each refused with a typed error before it costs memory or reaches predict."""

from __future__ import annotations

import hashlib
import pickle
import tracemalloc
import zipfile
from pathlib import Path

import msgspec
import pytest
from sklearn.svm import SVR
from tests.integration.bundles.helpers import members, object_name, rezip, sealed

import nirdag
from nirdag.bundle import BundleError, TamperedBundleError, read_bundle, serialize
from nirdag.bundle.limits import BundleLimits
from nirdag.bundle.signing import KEY_ENV
from nirs_core import operators as ops

KEY = "k" * 32
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


def _listed_extra(content: dict[str, bytes], data: bytes, key: str | None = None) -> dict[str, bytes]:
    """``data`` added as a member the manifest lists (hash and signature consistent) but no fold uses."""
    name = object_name(data)
    return sealed({**content, name: data}, lambda m, _: m["members"].update({name: ""}), key)


@pytest.mark.parametrize("key", [None, KEY], ids=["unsigned", "signed"])
def test_a_listed_pickle_that_no_chain_uses_is_refused(bundle_file, tmp_path, key):
    content = _listed_extra(members(bundle_file), pickle.dumps(ops.PLSSweep(2)), key)
    name = next(n for n in content if n not in members(bundle_file) and n.startswith("objects/"))
    with pytest.raises(TamperedBundleError, match=f"lists members \\['{name}'\\] that no fold, step or base chain "
                                                  "uses"):
        read_bundle(rezip(tmp_path / "extra.nirdag", content), key=key)


def test_an_unused_member_is_refused_before_it_is_decompressed(bundle_file, tmp_path):
    """Its deflate stream is broken: reading it would fail as damaged; the member-set check fires first."""
    data = serialize.dumps(ops.SNV().fit([[1.0, 2.0]]))
    path = rezip(tmp_path / "unused.nirdag", _listed_extra(members(bundle_file), data))
    raw = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo(object_name(data))
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    raw[start: start + 16] = b"\xff" * 16
    path.write_bytes(bytes(raw))
    with pytest.raises(TamperedBundleError, match="that no fold, step or base chain uses"):
        read_bundle(path)


def _swapped(content: dict[str, bytes], old: str, data: bytes, key: str | None = None) -> dict[str, bytes]:
    """Every use of member ``old`` replaced by ``data`` (hashes and signature consistent; class paths unchanged)."""
    name = object_name(data)

    def edit(manifest, _):
        for fold in manifest["folds"]:
            fold["steps"] = [name if s == old else s for s in fold["steps"]]
            fold["model"] = name if fold["model"] == old else fold["model"]
        del manifest["members"][old]
        manifest["members"][name] = ""

    out = sealed({**content, name: data}, edit, key)
    del out[old]
    return out


@pytest.mark.parametrize("which", ["bundle_file", "v1_bundle"])
def test_an_svr_in_place_of_the_pls_model_is_refused_naming_member_and_classes(which, request, tecator_ds, tmp_path,
                                                                              test_rows):
    """Issue 20: it got through to a bare AttributeError (a bundle without domain: schema_version 1)."""
    content = members(request.getfixturevalue(which))
    train = tecator_ds.select("train", copy=True)
    svr = serialize.dumps(SVR().fit(train.spectra, train.targets["fat"]))
    content = _swapped(content, _manifest(content)["folds"][0]["model"], svr, KEY)
    path = rezip(tmp_path / "svr.nirdag", content)
    pattern = (f"member {object_name(svr)} is a sklearn.svm._classes.SVR, but the manifest's step says "
               "nirs_core.operators.pls.PLSSweep")
    with pytest.raises(BundleError, match=pattern):
        read_bundle(path, key=KEY)
    with pytest.raises(BundleError, match=pattern):
        nirdag.predict(path, test_rows, key=KEY)


def test_a_transformer_swapped_for_another_allowed_class_is_refused(bundle_file, tecator_ds, tmp_path, test_rows):
    """A Detrend where the chain's Savitzky-Golay step was: same width, so today it predicts wrong numbers."""
    content = members(bundle_file)
    manifest = _manifest(content)
    steps = manifest["chain"]["steps"]
    at = next(i for i, s in enumerate(steps) if s["class_path"].endswith("SavitzkyGolay"))
    old = manifest["folds"][0]["steps"][at]
    detrend = serialize.dumps(ops.Detrend().fit(tecator_ds.select("train", copy=True).spectra))
    path = rezip(tmp_path / "swapped.nirdag", _swapped(content, old, detrend))
    with pytest.raises(BundleError, match=f"member {object_name(detrend)} is a nirs_core.operators.*Detrend, but the "
                                          "manifest's step says nirs_core.operators.derivative.SavitzkyGolay"):
        nirdag.predict(path, test_rows)


def test_a_fold_whose_members_disagree_with_the_chains_steps_is_refused(bundle_file, tmp_path):
    def edit(manifest, _):
        manifest["folds"][1]["steps"] = manifest["folds"][1]["steps"][:-1]

    path = rezip(tmp_path / "short.nirdag", sealed(members(bundle_file), edit))
    with pytest.raises(BundleError, match=r"fold 'fold_0' of chain .* holds 1 transformers, but the chain's steps list "
                                          "2 transformers"):
        read_bundle(path)


def test_a_member_the_folds_use_but_the_manifest_does_not_list_is_refused(bundle_file, tmp_path):
    name = f"objects/{'d' * 64}.skops"

    def edit(manifest, _):
        manifest["folds"][0]["model"] = name

    path = rezip(tmp_path / "unlisted.nirdag", sealed(members(bundle_file), edit))
    with pytest.raises(BundleError, match=f"the manifest's folds use members \\['{name}'\\], which it does not list"):
        read_bundle(path)


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
