"""Datasets in real Delta tables: the workspace `datasets`/`spectra` tables round trip, and user Delta tables load."""

from __future__ import annotations

import csv

import numpy as np
import pyarrow as pa
import pytest
from deltalake import write_deltalake
from hypothesis import given, settings
from hypothesis import strategies as st

import nirdag
from datafusion_engine import StoreError, Workspace
from datafusion_engine.spectra_store import load_stored_dataset, save_dataset
from nirs_core.data import SpectraDataset, detect_format, load_csv


def _labelled_synthetic() -> SpectraDataset:
    """A small synthetic set with a numeric target (one value not measured), a label target and metadata."""
    base = nirdag.datasets.synthetic(24, 16, seed=7)
    y = base.target("y").copy()
    y[5] = np.nan
    return SpectraDataset(
        name="labelled", sample_ids=base.sample_ids, spectra=base.spectra, wavelengths=base.wavelengths,
        wavelength_unit="nm", partition=base.partition,
        targets={"y": y, "grade": np.where(np.arange(24) % 3 == 0, "high", "low")},
        metadata={"instrument": np.array(["A", "B", "C"] * 8), "temperature": np.linspace(20.0, 23.0, 24),
                  "repetition": np.arange(24) % 2},
    )


def _assert_identical(back: SpectraDataset, original: SpectraDataset) -> None:
    assert back.content_hash == original.content_hash
    assert back.name == original.name
    assert back.spectra.tobytes() == original.spectra.tobytes()
    assert back.wavelengths.tobytes() == original.wavelengths.tobytes()
    assert back.wavelength_unit == original.wavelength_unit
    assert back.sample_ids.tolist() == original.sample_ids.tolist()
    assert back.partition.tolist() == original.partition.tolist()
    assert sorted(back.target_names) == sorted(original.target_names)
    for t in original.target_names:
        assert back.is_label_target(t) == original.is_label_target(t)
        if original.is_label_target(t):
            assert back.target(t).tolist() == original.target(t).tolist()
        else:
            np.testing.assert_array_equal(back.target(t), original.target(t))
    assert back.metadata.column_names == original.metadata.column_names
    for m in original.metadata.column_names:
        assert back.metadata.column(m).to_pylist() == original.metadata.column(m).cast(pa.string()).to_pylist()


@pytest.mark.parametrize("make", [nirdag.datasets.tecator, _labelled_synthetic], ids=["tecator", "labelled"])
def test_saved_dataset_loads_back_identical(tmp_path, make):
    original = make()
    assert save_dataset(Workspace(tmp_path / "ws"), original) is True
    _assert_identical(load_stored_dataset(Workspace(tmp_path / "ws"), original.content_hash), original)


def test_two_datasets_in_one_workspace_each_load_back(tmp_path):
    store = Workspace(tmp_path / "ws")
    first, second = _labelled_synthetic(), nirdag.datasets.synthetic(10, 5, seed=1)
    save_dataset(store, first)
    save_dataset(store, second)
    _assert_identical(load_stored_dataset(Workspace(tmp_path / "ws"), first.content_hash), first)
    _assert_identical(load_stored_dataset(Workspace(tmp_path / "ws"), second.content_hash), second)


def test_saving_the_same_dataset_twice_writes_it_once(tmp_path):
    store = Workspace(tmp_path / "ws")
    ds = _labelled_synthetic()
    assert save_dataset(store, ds) is True
    assert save_dataset(store, ds) is False
    session = Workspace(tmp_path / "ws").session()
    assert session.sql("SELECT count(*) AS n FROM datasets").column("n").to_pylist() == [1]
    assert session.sql("SELECT count(*) AS n FROM spectra").column("n").to_pylist() == [ds.n_samples]


def test_run_stores_its_dataset(tmp_path):
    data = nirdag.datasets.synthetic(30, 12, seed=2)
    spec = {"target": "y", "pipeline": [{"split": {"kind": "kfold", "n_splits": 2}},
                                        {"model": {"op": "pls", "n_components": 2}}]}
    result = nirdag.run(spec, data, workspace=tmp_path / "ws", seed=0)
    assert result.dataset_hash == data.content_hash
    head = result.sql("SELECT dataset_hash, name, n_samples, n_wavelengths FROM datasets").to_pylist()
    assert head == [{"dataset_hash": data.content_hash, "name": data.name, "n_samples": 30, "n_wavelengths": 12}]
    rows = result.sql(f"SELECT count(*) AS n, min(row) AS lo, max(row) AS hi FROM spectra "
                      f"WHERE dataset_hash = '{data.content_hash}'").to_pylist()
    assert rows == [{"n": 30, "lo": 0, "hi": 29}]
    _assert_identical(load_stored_dataset(Workspace(tmp_path / "ws"), result.dataset_hash), data)


def test_unknown_dataset_hash_is_a_store_error(tmp_path):
    save_dataset(Workspace(tmp_path / "ws"), nirdag.datasets.synthetic(5, 4, seed=0))
    with pytest.raises(StoreError, match=r"has no dataset 0{64}$"):
        load_stored_dataset(Workspace(tmp_path / "ws"), "0" * 64)


def test_workspace_without_datasets_is_a_store_error(tmp_path):
    (tmp_path / "ws").mkdir()
    with pytest.raises(StoreError, match=r"holds no stored datasets|is not a nirdag workspace"):
        load_stored_dataset(Workspace(tmp_path / "ws"), "0" * 64)


def test_user_delta_table_of_wide_spectra_loads_through_load_dataset(tmp_path):
    source = nirdag.datasets.synthetic(12, 6, seed=4)
    columns = {"sample": pa.array(source.sample_ids.tolist()), "fat": pa.array(source.target("y"))}
    for j, w in enumerate(source.wavelengths):
        columns[repr(float(w))] = pa.array(source.spectra[:, j])
    path = tmp_path / "lab_table"
    write_deltalake(str(path), pa.table(columns))
    assert detect_format(path) == "delta"
    ds = nirdag.load_dataset(path, targets=["fat"], id_column="sample")
    assert (ds.n_samples, ds.n_wavelengths) == (12, 6)
    np.testing.assert_array_equal(ds.wavelengths, source.wavelengths)
    assert ds.wavelength_unit == "nm"
    assert ds.name == "lab_table"
    expected = SpectraDataset(name="x", sample_ids=source.sample_ids, spectra=source.spectra,
                              wavelengths=source.wavelengths, wavelength_unit="nm",
                              targets={"fat": source.target("y")}, partition=["train"] * 12)
    assert ds.content_hash == expected.content_hash


FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)


@st.composite
def csv_tables(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray, list[str], list[float | None], list[str]]:
    n, p = draw(st.integers(1, 6)), draw(st.integers(1, 8))
    spectra = np.asarray(draw(st.lists(st.lists(FINITE, min_size=p, max_size=p), min_size=n, max_size=n)),
                         dtype=np.float64)
    axis = draw(st.floats(100.0, 20000.0)) + np.cumsum(draw(st.lists(st.floats(0.5, 50.0), min_size=p, max_size=p)))
    ids = draw(st.lists(st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=5), min_size=n,
                        max_size=n, unique=True))
    target = draw(st.lists(st.none() | FINITE, min_size=n, max_size=n))  # None: an empty cell (not measured)
    labels = draw(st.lists(st.sampled_from(["low", "high", "mid"]), min_size=n, max_size=n))
    return spectra, axis, ids, target, labels


@settings(max_examples=15, deadline=None)
@given(csv_tables())
def test_csv_to_delta_and_back_keeps_the_hash(tmp_path_factory, table):
    spectra, axis, ids, target, labels = table
    folder = tmp_path_factory.mktemp("prop")
    path = folder / "lab.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "y", "grade", "site", *(repr(float(w)) for w in axis)])
        for i, sid in enumerate(ids):
            writer.writerow([sid, "" if target[i] is None else repr(target[i]), labels[i], f"site {i % 2}",
                             *(repr(float(v)) for v in spectra[i])])
    loaded = load_csv(path, targets=["y", "grade"], id_column="id")
    assert save_dataset(Workspace(folder / "ws"), loaded) is True
    back = load_stored_dataset(Workspace(folder / "ws"), loaded.content_hash)
    _assert_identical(back, loaded)
