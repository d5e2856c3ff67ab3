"""The on-disk node cache: verified entries of named arrays, atomic writes, LRU eviction, no pickle."""

from __future__ import annotations

import hashlib
import os
import time

import numpy as np
import pytest

from datafusion_engine.cache_store import STALE_TEMP_SECONDS, TEMP_PREFIX, CacheStore
from datafusion_engine.errors import CacheError
from hamilton_pipeline.cache import NodeCache, _join, _split
from nirs_modelling.results import FoldSweep, GroupCV


def key_of(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def put_array(store: CacheStore, key: str, array: np.ndarray) -> int:
    return store.put("hoisted", key, node="n", value_type="ndarray", scalars={}, arrays={"value": array})


def test_an_entry_comes_back_bit_identical_and_read_only(tmp_path):
    store = CacheStore(tmp_path)
    values = np.random.default_rng(0).normal(size=(7, 5))
    put_array(store, key_of("a"), values)
    entry = store.get("hoisted", key_of("a"))
    assert entry is not None
    got = entry.arrays["value"]
    assert got.dtype == values.dtype and got.shape == values.shape
    assert got.tobytes() == values.tobytes()
    assert not got.flags.writeable


def test_a_fold_sweep_record_round_trips_through_the_codec(tmp_path):
    sweep = FoldSweep(fold_id="fold_3", val_rows=np.arange(4, dtype=np.int64),
                      val_pred=np.ones((2, 4)), test_pred=np.empty((2, 0)))
    value_type, scalars, arrays = _split(sweep, "n")
    store = CacheStore(tmp_path)
    store.put("fold_fit", key_of("f"), node="n", value_type=value_type, scalars=scalars, arrays=arrays)
    back = _join(store.get("fold_fit", key_of("f")))
    assert isinstance(back, FoldSweep) and back.fold_id == "fold_3"
    for name in ("val_rows", "val_pred", "test_pred"):
        assert np.array_equal(getattr(back, name), getattr(sweep, name))
        assert getattr(back, name).shape == getattr(sweep, name).shape


def test_values_the_codec_does_not_know_are_refused_not_pickled():
    cv = GroupCV(group_id="g", folds=(), oof_rows=np.arange(2), oof_pred=np.ones((1, 2)))
    with pytest.raises(CacheError, match="cannot store"):
        _split(cv, "cv__x")
    with pytest.raises(CacheError, match="cannot store"):
        _split({"a": 1}, "n")


def test_object_arrays_are_refused(tmp_path):
    with pytest.raises(CacheError, match="numeric"):
        put_array(CacheStore(tmp_path), key_of("o"), np.array([{"x": 1}], dtype=object))


@pytest.mark.parametrize("damage", ["truncate", "flip_payload", "flip_header", "empty", "other_key"])
def test_a_damaged_entry_is_a_miss_and_is_removed(tmp_path, damage):
    store = CacheStore(tmp_path)
    key = key_of("d")
    put_array(store, key, np.arange(100, dtype=np.float64))
    path = store.path_of("hoisted", key)
    data = bytearray(path.read_bytes())
    if damage == "truncate":
        data = data[: len(data) - 9]
    elif damage == "flip_payload":
        data[-3] ^= 0xFF
    elif damage == "flip_header":
        data[20] ^= 0xFF
    elif damage == "empty":
        data = bytearray()
    else:  # a whole entry of another key copied under this key's name
        put_array(store, key_of("other"), np.arange(100, dtype=np.float64))
        data = bytearray(store.path_of("hoisted", key_of("other")).read_bytes())
    path.write_bytes(bytes(data))
    assert store.get("hoisted", key) is None
    assert not path.exists()


def test_a_temp_file_left_by_a_killed_writer_is_never_read_and_is_pruned_when_stale(tmp_path):
    store = CacheStore(tmp_path)
    key = key_of("t")
    put_array(store, key, np.zeros(3))
    entry_path = store.path_of("hoisted", key)
    temp = entry_path.parent / f"{TEMP_PREFIX}{key}-999999-abcd"
    temp.write_bytes(entry_path.read_bytes())  # a whole, valid entry under a temp name
    entry_path.unlink()
    assert store.get("hoisted", key) is None
    assert store.stats().temp_files == 1
    old = time.time() - STALE_TEMP_SECONDS - 10
    os.utime(temp, (old, old))
    store.prune()
    assert not temp.exists()


def test_eviction_removes_the_least_recently_used_entries_first(tmp_path):
    store = CacheStore(tmp_path, max_bytes=10**9)
    keys = [key_of(str(i)) for i in range(5)]
    for i, key in enumerate(keys):
        put_array(store, key, np.full(1000, float(i)))
        path = store.path_of("hoisted", key)
        os.utime(path, (1_000_000 + i, 1_000_000 + i))
    store.get("hoisted", keys[0])  # a hit makes the oldest entry the most recently used
    size = store.path_of("hoisted", keys[0]).stat().st_size
    store.max_bytes = 3 * size
    assert store.prune() == 2
    assert [store.get("hoisted", k) is not None for k in keys] == [True, False, False, True, True]
    assert store.stats().bytes <= store.max_bytes


def test_writes_past_the_cap_evict_so_the_folder_stays_under_it(tmp_path):
    probe = CacheStore(tmp_path / "probe")
    size = put_array(probe, key_of("p"), np.zeros(1000))
    store = CacheStore(tmp_path / "c", max_bytes=int(2.5 * size))
    for i in range(6):
        put_array(store, key_of(f"w{i}"), np.full(1000, float(i)))
        assert store.stats().bytes <= store.max_bytes
    assert store.stats().entries == 2
    assert put_array(CacheStore(tmp_path / "tiny", max_bytes=10), key_of("x"), np.zeros(10)) == 0


def test_keys_and_kinds_are_validated(tmp_path):
    store = CacheStore(tmp_path)
    with pytest.raises(CacheError, match="sha256"):
        store.path_of("hoisted", "../../etc")
    with pytest.raises(CacheError, match="identifier"):
        store.path_of("../x", key_of("k"))
    with pytest.raises(CacheError, match=">= 0"):
        CacheStore(tmp_path, max_bytes=-1)


def test_clear_removes_everything_and_reports_it(tmp_path):
    store = CacheStore(tmp_path)
    for i in range(3):
        put_array(store, key_of(str(i)), np.zeros(10))
    before = store.clear()
    assert before.entries == 3 and before.by_kind["hoisted"][0] == 3
    assert store.stats().entries == 0


def test_nodes_without_cache_tags_always_run(tmp_path):
    cache = NodeCache(CacheStore(tmp_path), ("hoisted", "fold_fit"))
    calls = []
    for _ in range(2):
        cache.run_to_execute_node(node_name="chain_scores", node_tags={}, node_callable=lambda: calls.append(1),
                                  node_kwargs={}, task_id=None, is_expand=False, is_collect=False)
    assert len(calls) == 2 and cache.outcome("chain_scores") is None


def test_every_single_byte_flip_and_every_truncation_is_a_miss(tmp_path):
    store = CacheStore(tmp_path)
    key = key_of("every-byte")
    values = np.arange(6, dtype=np.float64).reshape(2, 3)
    put_array(store, key, values)
    path = store.path_of("hoisted", key)
    good = path.read_bytes()
    for i in range(len(good)):
        for data in (good[:i], good[:i] + bytes([good[i] ^ 0x5A]) + good[i + 1:]):
            path.write_bytes(data)
            assert store.get("hoisted", key) is None, i
    path.write_bytes(good)
    assert store.get("hoisted", key).arrays["value"].tobytes() == values.tobytes()
