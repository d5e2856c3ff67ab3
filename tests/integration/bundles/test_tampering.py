"""Bad bundles and bad spectra, tried on purpose: each is refused with a typed error saying what failed."""

from __future__ import annotations

import hashlib
import io
import pickle
import zipfile

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import BaseEstimator, TransformerMixin
from tests.integration.bundles.helpers import members, resealed, rezip

import nirdag
from nirdag.bundle import (
    BundleError,
    SpectraMismatchError,
    TamperedBundleError,
    UntrustedTypeError,
    read_bundle,
    serialize,
)
from nirdag.bundle.signing import KEY_ENV
from nirs_core import operators as ops

KEY = "k" * 32


class Foreign(TransformerMixin, BaseEstimator):
    def fit(self, X, y=None):
        return self

    def transform(self, X):
        return X


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def test_the_untouched_bundle_loads(bundle_file):
    assert read_bundle(bundle_file).signature_verified is False


def test_a_flipped_byte_in_any_member_is_refused_naming_it(bundle_file, tmp_path):
    content = members(bundle_file)
    assert len(content) > 4
    for name, data in content.items():
        flipped = bytearray(data)
        flipped[len(flipped) // 2] ^= 0x01
        bad = rezip(tmp_path / "bad.nirdag", {**content, name: bytes(flipped)})
        with pytest.raises(BundleError) as info:
            read_bundle(bad)
        assert name in str(info.value), (name, str(info.value))


def test_an_added_or_removed_member_is_refused(bundle_file, tmp_path):
    content = members(bundle_file)
    extra = f"objects/{'e' * 64}.skops"
    added = rezip(tmp_path / "added.nirdag", {**content, extra: b"x"})
    with pytest.raises(TamperedBundleError, match=f"does not list: \\['{extra}'\\]"):
        read_bundle(added)
    victim = next(n for n in content if n.startswith("objects/"))
    removed = rezip(tmp_path / "removed.nirdag", {n: d for n, d in content.items() if n != victim})
    with pytest.raises(TamperedBundleError, match=f"lacks members the manifest lists: \\['{victim}'\\]"):
        read_bundle(removed)


def test_an_edited_manifest_is_refused(bundle_file, tmp_path):
    content = members(bundle_file)
    edited = content["manifest.json"].replace(b'"target_names":["fat"]', b'"target_names":["protein"]')
    assert edited != content["manifest.json"]
    with pytest.raises(TamperedBundleError, match=r"manifest\.json was changed"):
        read_bundle(rezip(tmp_path / "edited.nirdag", {**content, "manifest.json": edited}))


def test_with_a_key_only_bundles_signed_with_it_load(bundle_run, tmp_path, test_rows, monkeypatch):
    signed = bundle_run.export(tmp_path / "signed.nirdag", key=KEY)
    assert read_bundle(signed, key=KEY).signature_verified
    monkeypatch.setenv(KEY_ENV, KEY)
    assert read_bundle(signed).signature_verified
    assert nirdag.predict(signed, test_rows).num_rows == 43
    with pytest.raises(TamperedBundleError, match="signature mismatch"):
        read_bundle(signed, key="another key of 32 bytes........")
    unsigned = bundle_run.export(tmp_path / "unsigned.nirdag", key=None)  # the key comes from the environment
    assert read_bundle(unsigned).signature_verified
    monkeypatch.delenv(KEY_ENV)
    plain = bundle_run.export(tmp_path / "plain.nirdag")
    with pytest.raises(TamperedBundleError, match="is not signed, but a signing key is configured"):
        read_bundle(plain, key=KEY)
    # a manifest edited by someone without the key, digest recomputed: the digest passes, the HMAC does not
    forged = resealed(members(signed), lambda m, _: m.update(target_names=["protein"]))
    forged["signature.json"] = msgspec.json.encode({**msgspec.json.decode(forged["signature.json"]),
                                                    "hmac_sha256": "0" * 64})
    with pytest.raises(TamperedBundleError, match="signature mismatch"):
        read_bundle(rezip(tmp_path / "forged.nirdag", forged), key=KEY)


def test_a_short_key_is_refused(bundle_run, tmp_path):
    with pytest.raises(BundleError, match="at least 16"):
        bundle_run.export(tmp_path / "m.nirdag", key="short")


def _swap_model(content: dict[str, bytes], data: bytes) -> dict[str, bytes]:
    name = f"objects/{hashlib.sha256(data).hexdigest()}.skops"

    def edit(manifest, _):
        old = manifest["folds"][0]["model"]
        manifest["folds"][0]["model"] = name
        manifest["members"][name] = hashlib.sha256(data).hexdigest()
        if all(f["model"] != old and old not in f["steps"] for f in manifest["folds"]):
            del manifest["members"][old]
            content.pop(old)

    out = resealed(content, edit)
    return {**{k: v for k, v in out.items() if k in content or k in ("manifest.json", "signature.json")}, name: data}


def test_a_pickled_member_is_refused_even_when_the_hashes_are_consistent(bundle_file, tmp_path):
    content = _swap_model(members(bundle_file), pickle.dumps(ops.PLSSweep(2)))
    with pytest.raises(UntrustedTypeError, match="pickle stream; pickled objects are refused"):
        read_bundle(rezip(tmp_path / "pickle.nirdag", content))


def test_a_member_of_an_untrusted_type_is_refused_with_the_type_list(bundle_file, tmp_path):
    content = _swap_model(members(bundle_file), serialize.dumps(Foreign()))
    with pytest.raises(UntrustedTypeError, match=r"untrusted types \['.*test_tampering\.Foreign'\]"):
        read_bundle(rezip(tmp_path / "foreign.nirdag", content))


def test_a_newer_schema_version_is_refused(bundle_file, tmp_path):
    content = resealed(members(bundle_file), lambda m, _: m.update(schema_version=99))
    with pytest.raises(BundleError, match="schema_version 99 is newer than this nirdag reads"):
        read_bundle(rezip(tmp_path / "new.nirdag", content))


def test_truncated_empty_and_non_zip_files_are_refused(bundle_file, tmp_path):
    data = bundle_file.read_bytes()
    for name, raw in (("truncated", data[: len(data) // 2]), ("empty", b""), ("text", b"id,850\n1,0.5\n")):
        path = tmp_path / f"{name}.nirdag"
        path.write_bytes(raw)
        with pytest.raises(BundleError, match=f"bundle {path}"):
            read_bundle(path)
    with pytest.raises(BundleError, match="cannot be read"):
        read_bundle(tmp_path / "missing.nirdag")


def test_spectra_of_the_wrong_width_or_with_nan_are_refused(bundle_file, test_rows):
    X = np.array(test_rows.spectra)
    with pytest.raises(SpectraMismatchError, match="99 wavelengths per spectrum, the chain was trained on 100"):
        nirdag.predict(bundle_file, X[:, :99])
    X[3, 10] = np.nan
    with pytest.raises(SpectraMismatchError, match=r"1 spectra contain NaN or inf \(rows \[4\]\)"):
        nirdag.predict(bundle_file, X)


def test_a_different_axis_is_refused_unless_resampling_is_asked(bundle_file, test_rows):
    axis = np.asarray(test_rows.wavelengths)
    fine = np.linspace(axis[0], axis[-1], 2 * axis.size - 1)  # holds every training wavelength
    X = np.array([np.interp(fine, axis, row) for row in test_rows.spectra])
    data = nirdag.datasets.tecator()  # a dataset on another axis: same ids, finer grid
    shifted = type(data)(name="fine", sample_ids=test_rows.sample_ids, spectra=X, wavelengths=fine,
                         wavelength_unit=test_rows.wavelength_unit, targets={}, partition=test_rows.partition)
    with pytest.raises(SpectraMismatchError, match=r"differs from training .* pass resample=True"):
        nirdag.predict(bundle_file, shifted)
    got = nirdag.predict(bundle_file, shifted, resample=True)
    want = nirdag.predict(bundle_file, test_rows)
    np.testing.assert_allclose(got.column("y_pred").to_numpy(), want.column("y_pred").to_numpy(), atol=1e-9)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_mutated_bundles_raise_only_bundle_errors(bundle_file, test_rows, tmp_path, data):
    raw = bytearray(bundle_file.read_bytes())
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "zero_run"]))
    at = data.draw(st.integers(0, len(raw) - 1))
    if kind == "flip":
        raw[at] ^= data.draw(st.integers(1, 255))
    elif kind == "truncate":
        del raw[at:]
    elif kind == "insert":
        raw[at:at] = data.draw(st.binary(min_size=1, max_size=16))
    else:
        raw[at:at + 64] = bytes(len(raw[at:at + 64]))
    path = tmp_path / "fuzz.nirdag"
    path.write_bytes(bytes(raw))
    try:
        loaded = read_bundle(path)
    except BundleError:
        return
    # it loaded: the mutation missed everything verified (e.g. zip padding), so the chain is intact
    expected = nirdag.predict(bundle_file, test_rows)
    assert nirdag.predict(loaded, test_rows).equals(expected)


def test_duplicate_member_names_are_refused(bundle_file, tmp_path):
    content = members(bundle_file)
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buf, "w") as zf:
        for name, data in content.items():
            zf.writestr(name, data)
        zf.writestr("manifest.json", b"{}")  # a duplicate name
    path = tmp_path / "dup.nirdag"
    path.write_bytes(buf.getvalue())
    with pytest.raises(TamperedBundleError, match="duplicate member names"):
        read_bundle(path)


def test_an_axis_written_with_fewer_digits_is_the_training_axis(bundle_file, test_rows):
    """CSV headers and instrument exports round wavelengths (852.0202 -> 852.02): still the same axis."""
    rounded = np.round(np.asarray(test_rows.wavelengths), 2)
    exact = nirdag.predict(bundle_file, test_rows.spectra)
    got = nirdag.predict(bundle_file, _on_axis(test_rows, rounded))
    assert got.column("y_pred").to_pylist() == exact.column("y_pred").to_pylist()
    shifted = np.asarray(test_rows.wavelengths) + 0.5  # a quarter of the 2 nm sampling interval: another axis
    with pytest.raises(SpectraMismatchError, match=r"by up to 0\.2\d* sampling intervals"):
        nirdag.predict(bundle_file, _on_axis(test_rows, shifted))


def _on_axis(rows, axis):
    """The same spectra, declared on another wavelength axis."""
    return type(rows)(name="axis", sample_ids=rows.sample_ids, spectra=np.array(rows.spectra), wavelengths=axis,
                      wavelength_unit=rows.wavelength_unit, targets={}, partition=rows.partition)
