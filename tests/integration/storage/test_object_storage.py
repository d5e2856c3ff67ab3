"""nirs_core.storage against a real S3-compatible server (moto) and a folder: the same operations, the same answers;
bad locations are one-line errors within bounded time."""

from __future__ import annotations

import time

import pytest
from tests.integration.storage.moto_server import SECRET_KEY

from nirs_core.storage import (
    ObjectStorage,
    StorageError,
    StorageNotFound,
    open_storage,
    parse_options,
    read_file,
    split_location,
    write_file,
)


@pytest.fixture(params=["folder", "s3"])
def storage(request, tmp_path, moto_s3):
    if request.param == "folder":
        return open_storage(tmp_path / "ws")
    name = moto_s3.create_bucket(f"nirdag-store-{time.monotonic_ns() % 10**9}")
    return open_storage(f"s3://{name}/lab/ws", moto_s3.options)


def test_put_get_list_delete_answer_alike_on_a_folder_and_on_s3(storage):
    storage.put("a/b/one.bin", b"1")
    storage.put("a/two.bin", b"22")
    storage.put("c.bin", b"333")
    assert storage.get("a/b/one.bin") == b"1"
    assert storage.exists("a/two.bin") and not storage.exists("a/none.bin")
    assert storage.size("c.bin") == 3
    assert sorted((o.key, o.size) for o in storage.list("a")) == [("a/b/one.bin", 1), ("a/two.bin", 2)]
    assert storage.has_prefix("a") and not storage.has_prefix("zzz")
    assert storage.delete("a/two.bin") and not storage.delete("a/two.bin")
    storage.delete_prefix("a")
    assert [o.key for o in storage.list("")] == ["c.bin"]
    with pytest.raises(StorageNotFound):
        storage.get("a/b/one.bin")


def test_put_if_absent_stores_only_the_first_writer(storage):
    assert storage.put_if_absent("log/00.json", b"first") is True
    assert storage.put_if_absent("log/00.json", b"second") is False
    assert storage.get("log/00.json") == b"first"


def test_a_put_replaces_whole(storage):
    storage.put("doc.json", b"old" * 1000)
    storage.put("doc.json", b"new")
    assert storage.get("doc.json") == b"new"


def test_files_by_location_round_trip(moto_s3, bucket, tmp_path):
    uri = f"s3://{bucket}/bundles/m.nirdag"
    assert write_file(uri, b"zip", moto_s3.options) == uri
    assert read_file(uri, moto_s3.options) == b"zip"
    with pytest.raises(StorageError, match="over the limit 2"):
        read_file(uri, moto_s3.options, max_bytes=2)
    assert split_location(uri) == (f"s3://{bucket}/bundles", "m.nirdag")
    assert read_file(write_file(tmp_path / "x" / "f.bin", b"local")) == b"local"


def test_repr_and_messages_never_show_the_secret(moto_s3, bucket):
    store = ObjectStorage(f"s3://{bucket}/ws", moto_s3.options)
    assert SECRET_KEY not in repr(store) and SECRET_KEY not in str(store)
    with pytest.raises(StorageNotFound) as missing:
        store.get("nothing")
    assert SECRET_KEY not in str(missing.value)


def test_missing_credentials_are_refused_before_any_request(moto_s3, monkeypatch):
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    start = time.monotonic()
    with pytest.raises(StorageError, match=r"^s3://lab/ws: no credentials; set AWS_ACCESS_KEY_ID"):
        ObjectStorage("s3://lab/ws", {"AWS_ENDPOINT_URL": moto_s3.endpoint, "AWS_ALLOW_HTTP": "true"})
    assert time.monotonic() - start < 1.0


def test_an_unreachable_endpoint_fails_in_bounded_time_with_one_line(moto_s3):
    options = {**moto_s3.options, "AWS_ENDPOINT_URL": "http://127.0.0.1:9"}  # nothing listens on port 9
    store = ObjectStorage("s3://lab/ws", options)
    start = time.monotonic()
    with pytest.raises(StorageError, match="cannot reach the object store") as failed:
        store.check()
    assert time.monotonic() - start < 15.0
    assert "\n" not in str(failed.value)


def test_a_missing_bucket_is_named(moto_s3):
    store = ObjectStorage("s3://no-such-bucket-here/ws", moto_s3.options)
    with pytest.raises(StorageError, match="bucket 'no-such-bucket-here' does not exist"):
        store.check()


def test_bad_uris_and_options_are_refused():
    with pytest.raises(StorageError, match="scheme 'gs' is not supported"):
        open_storage("gs://bucket/x", {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
    with pytest.raises(StorageError, match="bucket name of 3"):
        open_storage("s3://ab/x", {"AWS_ACCESS_KEY_ID": "a", "AWS_SECRET_ACCESS_KEY": "b"})
    with pytest.raises(StorageError, match="unknown storage option 'AWS_SECRET'"):
        parse_options(["AWS_SECRET=x"])
    with pytest.raises(StorageError, match="expected KEY=VALUE"):
        parse_options(["AWS_REGION"])
    assert parse_options(["aws_region=eu-west-1"]) == {"AWS_REGION": "eu-west-1"}
    with pytest.raises(StorageError, match="apply to s3:// locations only"):
        open_storage("folder", {"AWS_REGION": "x"})
