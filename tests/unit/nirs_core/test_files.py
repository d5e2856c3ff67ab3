"""write_atomic: the one atomic file write every layer uses."""

from pathlib import Path

import pytest

from nirs_core.files import write_atomic


def test_write_atomic_creates_the_folder_and_replaces_the_file(tmp_path: Path):
    target = tmp_path / "a" / "b" / "doc.json"
    assert write_atomic(target, b"one", prefix=".doc.json.") == target
    write_atomic(target, b"two", prefix=".doc.json.", fsync=False)
    assert target.read_bytes() == b"two"
    assert sorted(p.name for p in target.parent.iterdir()) == ["doc.json"]  # no temp file left behind


def test_write_atomic_leaves_the_old_file_and_no_temp_when_the_write_fails(tmp_path: Path):
    target = tmp_path / "doc.json"
    target.write_bytes(b"old")
    with pytest.raises(TypeError):
        write_atomic(target, "not bytes", prefix=".doc.json.")  # type: ignore[arg-type]
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["doc.json"]
