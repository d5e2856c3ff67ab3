"""Fuzz guard over bundle bytes: whatever is done to a real exported bundle — its file's bytes flipped, cut or
grown, its zip members dropped, added, renamed, swapped or edited, its manifest's fields replaced (re-hashed and
re-signed, as an exporter with the key or a forger without one could) — `read_bundle` and `nirdag.predict` raise
only nirdag's typed errors (NirdagError), or load and predict a table of the right shape.

40 examples per property by default (derandomized, so CI is repeatable); the long run, random each time:

    NIRDAG_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/integration/bundles/test_bundle_fuzz.py -q -p no:cacheprovider
"""

from __future__ import annotations

import io
import json
import os
import warnings
import zipfile
from pathlib import Path

import msgspec
import numpy as np
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from tests.integration.bundles.helpers import members, sealed

import nirdag
from nirdag.bundle import BundleError, TamperedBundleError, read_bundle
from nirdag.bundle.signing import KEY_ENV
from nirs_core.errors import NirdagError

EXAMPLES = int(os.environ.get("NIRDAG_FUZZ_EXAMPLES", "40"))
KEY = "f" * 32
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=EXAMPLES <= 100,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
JSON = st.recursive(st.none() | st.booleans() | st.integers(-5, 10**6) | st.floats(allow_nan=True)
                    | st.text(max_size=8), lambda inner: st.lists(inner, max_size=3)
                    | st.dictionaries(st.text(max_size=6), inner, max_size=2), max_leaves=4)
NAMES = st.sampled_from([f"objects/{'e' * 64}.skops", "../evil.skops", "/abs.skops", "objects/x.skops",
                         "manifest.json", "objects\\..\\a.skops"])


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)


def _zip(content: list[tuple[str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names are one of the edits
        with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
            for name, data in content:
                zf.writestr(name, data)
    return buffer.getvalue()


def _only_typed_errors(path: Path, rows, key: str | None = None) -> None:
    """read_bundle and predict either raise a NirdagError or give one row per spectrum and target."""
    try:
        loaded = read_bundle(path, key=key)
        table = nirdag.predict(loaded, rows)
    except NirdagError as exc:
        event(f"refused: {type(exc).__name__}")
        return
    event("predicted")
    assert table.num_rows == rows.spectra.shape[0] * len(loaded.chain.targets)


@FUZZ
@given(data=st.data())
def test_mutated_bundle_bytes_raise_only_typed_errors(bundle_file, test_rows, tmp_path, data):
    raw = bytearray(bundle_file.read_bytes())
    for _ in range(data.draw(st.integers(1, 3))):
        kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "zero_run"]))
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[at] ^= data.draw(st.integers(1, 255))
        elif kind == "truncate":
            del raw[at:]
        elif kind == "insert":
            raw[at:at] = data.draw(st.binary(min_size=1, max_size=64))
        else:
            raw[at:at + 64] = bytes(len(raw[at:at + 64]))
    path = tmp_path / "fuzz.nirdag"
    path.write_bytes(bytes(raw))
    _only_typed_errors(path, test_rows)


def _paths(node, prefix=()):
    """Every path into the manifest's JSON (dict keys, list indices), leaves and inner nodes."""
    yield prefix
    items = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, value in items:
        yield from _paths(value, (*prefix, key))


def _set(manifest, path, value) -> None:
    node = manifest
    for key in path[:-1]:
        node = node[key]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value


_DELETE = object()


def _manifest_edit(content: dict[str, bytes], data, key: str | None) -> dict[str, bytes]:
    manifest = msgspec.json.decode(content["manifest.json"])
    path = data.draw(st.sampled_from([p for p in _paths(manifest) if p]))
    value = data.draw(st.one_of(JSON, st.just(_DELETE), st.sampled_from(sorted(content))))
    return sealed(content, lambda m, _: _set(m, path, value), key)


def _object_state_edit(skops: bytes, data) -> bytes:
    """A fitted object's skops file with its state edited and its zip rebuilt (CRCs valid): one value of its
    schema.json replaced, or a byte of one of its arrays flipped."""
    with zipfile.ZipFile(io.BytesIO(skops)) as inner:
        files = {n: inner.read(n) for n in inner.namelist()}
    name = data.draw(st.sampled_from(sorted(files)))
    if name == "schema.json":
        schema = json.loads(files[name])
        path = data.draw(st.sampled_from([p for p in _paths(schema) if p]))
        _set(schema, path, data.draw(st.one_of(JSON, st.just(_DELETE))))
        files[name] = json.dumps(schema).encode()
    elif files[name]:
        raw = bytearray(files[name])
        raw[data.draw(st.integers(0, len(raw) - 1))] ^= data.draw(st.integers(1, 255))
        files[name] = bytes(raw)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as out:
        for n, d in files.items():
            out.writestr(n, d)
    return buffer.getvalue()


def _member_edit(content: dict[str, bytes], data, key: str | None) -> list[tuple[str, bytes]]:
    names = sorted(content)
    kind = data.draw(st.sampled_from(["drop", "duplicate", "add", "rename", "replace", "flip", "truncate",
                                      "manifest", "object_state"]))
    name = data.draw(st.sampled_from(names))
    items = list(content.items())
    if kind == "drop":
        return [(n, d) for n, d in items if n != name]
    if kind == "duplicate":
        return [*items, (name, data.draw(st.sampled_from([content[name], b"x"])))]
    if kind == "add":
        return [*items, (data.draw(NAMES), data.draw(st.binary(max_size=64)))]
    if kind == "rename":
        return [(data.draw(NAMES) if n == name else n, d) for n, d in items]
    if kind == "manifest":
        return list(_manifest_edit(content, data, key).items())
    edited = dict(content)
    if kind == "object_state":  # what a forger without the key can do: consistent hashes, edited state
        name = data.draw(st.sampled_from([n for n in names if n.startswith("objects/")]))
        return list(sealed({**content, name: _object_state_edit(content[name], data)}, key=key).items())
    if kind == "replace":
        edited[name] = content[data.draw(st.sampled_from(names))]
    else:
        raw = bytearray(content[name])
        at = data.draw(st.integers(0, max(len(raw) - 1, 0)))
        if kind == "flip" and raw:
            raw[at] ^= data.draw(st.integers(1, 255))
        else:
            del raw[at:]
        edited[name] = bytes(raw)
    if name.startswith("objects/") and data.draw(st.booleans()):  # re-hashed: the forger's case
        edited = sealed(edited, key=key)
    return list(edited.items())


@FUZZ
@given(data=st.data())
def test_edited_bundle_members_raise_only_typed_errors(bundle_file, test_rows, tmp_path, data):
    key = data.draw(st.sampled_from([None, KEY]))  # re-signed with the key the reader holds, or unsigned
    content = sealed(members(bundle_file), key=key)
    path = tmp_path / "edited.nirdag"
    path.write_bytes(_zip(_member_edit(content, data, key)))
    _only_typed_errors(path, test_rows, key=key)


def test_the_untouched_bundle_passes_the_fuzz_check(bundle_file, test_rows):
    """The property's other branch: an intact bundle loads and predicts every test spectrum."""
    table = nirdag.predict(bundle_file, test_rows)
    assert table.num_rows == test_rows.spectra.shape[0] and np.isfinite(table.column("y_pred").to_numpy()).all()


# What the fuzz guard found, kept as plain regression tests (each escaped as a bare error before).

def test_a_signature_that_is_not_utf8_is_a_tampered_bundle(bundle_file, tmp_path):
    content = members(bundle_file)
    signature = bytearray(content["signature.json"])
    signature[2] ^= 0x80  # inside the first key's string: invalid UTF-8
    path = tmp_path / "sig.nirdag"
    path.write_bytes(_zip([*{**content, "signature.json": bytes(signature)}.items()]))
    with pytest.raises(TamperedBundleError, match=r"signature\.json is not valid"):  # was UnicodeDecodeError
        read_bundle(path)


@pytest.mark.parametrize(("field", "value", "message"), [
    ("wavelengths", [], "wavelength axis must be finite and non-empty"),  # was IndexError in predict
    ("wavelengths", [900.0, 900.0], "strictly monotonic"),
    ("target_names", ["fat", "fat"], "distinct targets"),
])
def test_a_resealed_manifest_with_unusable_facts_is_refused_before_loading(bundle_file, tmp_path, field, value,
                                                                          message):
    path = tmp_path / "facts.nirdag"
    path.write_bytes(_zip([*sealed(members(bundle_file), lambda m, _: m.update({field: value})).items()]))
    with pytest.raises(BundleError, match=f"manifest.json is not a valid manifest: .*{message}"):
        read_bundle(path)


def test_n_components_below_one_is_refused(bundle_file, tmp_path):
    """0 would have picked the largest count silently (``predict_all(X)[-1]``)."""
    path = tmp_path / "k0.nirdag"
    path.write_bytes(_zip([*sealed(members(bundle_file), lambda m, _: m["chain"].update(n_components=0)).items()]))
    with pytest.raises(BundleError, match=r"n_components must be >= 1 \(or null\), got \[0\]"):
        read_bundle(path)


def test_a_forged_object_missing_an_attribute_fails_as_a_bundle_error(bundle_file, test_rows, tmp_path):
    """A Savitzky-Golay step without its ``deriv`` (skops state edited, hashes recomputed): was AttributeError."""
    content = members(bundle_file)
    manifest = msgspec.json.decode(content["manifest.json"])
    at = next(i for i, s in enumerate(manifest["chain"]["steps"]) if s["class_path"].endswith("SavitzkyGolay"))
    name = manifest["folds"][0]["steps"][at]
    with zipfile.ZipFile(io.BytesIO(content[name])) as inner:
        files = {n: inner.read(n) for n in inner.namelist()}
    schema = json.loads(files["schema.json"])
    del schema["content"]["content"]["deriv"]
    files["schema.json"] = json.dumps(schema).encode()
    path = tmp_path / "forged.nirdag"
    path.write_bytes(_zip([*sealed({**content, name: _zip([*files.items()])}).items()]))
    with pytest.raises(BundleError, match=r"its fitted objects do not fit together \(AttributeError: "):
        nirdag.predict(path, test_rows)
