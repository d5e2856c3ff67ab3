"""Helpers of the bundle tests: stored predictions of a run, table columns as arrays, a bundle's zip members
read, edited and written back."""

from __future__ import annotations

import hashlib
import hmac
import zipfile
from pathlib import Path

import msgspec
import numpy as np

from nirdag.api import RunResult


def stored(run: RunResult, chain_id: str, fold_id: str, partition: str = "test") -> dict[str, float]:
    rows = run.sql(f"SELECT sample_id, y_pred FROM predictions WHERE run_id = '{run.run_id}' AND chain_id = "
                   f"'{chain_id}' AND fold_id = '{fold_id}' AND partition = '{partition}'").to_pylist()
    return {r["sample_id"]: r["y_pred"] for r in rows}


def column(table, name: str) -> np.ndarray:
    return np.asarray(table.column(name).to_pylist(), dtype=np.float64)


def members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {n: zf.read(n) for n in zf.namelist()}


def rezip(path: Path, content: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    return path


def resealed(content: dict[str, bytes], edit) -> dict[str, bytes]:
    """Edit the manifest (as builtins) and recompute its digest, as someone without the key could."""
    manifest = msgspec.json.decode(content["manifest.json"])
    edit(manifest, content)
    data = msgspec.json.encode(manifest, order="sorted")
    signature = {"manifest_sha256": hashlib.sha256(data).hexdigest(), "hmac_sha256": None}
    return {**content, "manifest.json": data, "signature.json": msgspec.json.encode(signature)}


def sealed(content: dict[str, bytes], edit=None, key: str | None = None) -> dict[str, bytes]:
    """Edit the manifest (as builtins), re-hash every member it lists that is present, and sign it again with
    ``key`` (None: unsigned) — what an exporter with that key, or a forger without one, could write."""
    manifest = msgspec.json.decode(content["manifest.json"])
    if edit is not None:
        edit(manifest, content)
    if isinstance(manifest.get("members"), dict):  # a fuzzed manifest may hold anything there
        manifest["members"] = {n: hashlib.sha256(content[n]).hexdigest() if n in content else h
                               for n, h in manifest["members"].items()}
    data = msgspec.json.encode(manifest, order="sorted")
    mac = None if key is None else hmac.new(key.encode(), data, hashlib.sha256).hexdigest()
    signature = {"manifest_sha256": hashlib.sha256(data).hexdigest(), "hmac_sha256": mac}
    return {**content, "manifest.json": data, "signature.json": msgspec.json.encode(signature)}


def object_name(data: bytes) -> str:
    return f"objects/{hashlib.sha256(data).hexdigest()}.skops"
