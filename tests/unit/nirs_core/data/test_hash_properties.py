"""Property tests of the dataset content hash: stable, sensitive to any one value, row order and axis; CSV-stable."""

from __future__ import annotations

import csv
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from nirs_core.data import SpectraDataset, load_csv
from nirs_core.data.from_parts import guess_unit

PROPERTY = settings(max_examples=50, deadline=None)
FINITE = st.floats(allow_nan=False, allow_infinity=False, width=64)
# Ids a lab could write in a CSV cell: printable text with delimiters, quotes and non-ASCII, but no line breaks.
ID_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=6)


@dataclass(frozen=True)
class Content:
    spectra: np.ndarray
    axis: np.ndarray
    ids: list[str]
    target: np.ndarray
    labels: list[str]
    partition: list[str]

    def dataset(self, *, name: str = "prop", unit: str = "nm") -> SpectraDataset:
        return SpectraDataset(
            name=name, sample_ids=self.ids, spectra=self.spectra, wavelengths=self.axis, wavelength_unit=unit,
            targets={"y": self.target, "grade": np.asarray(self.labels, dtype=str)}, partition=self.partition,
        )


@st.composite
def contents(draw: st.DrawFn) -> Content:
    n = draw(st.integers(1, 8))
    p = draw(st.integers(1, 12))
    spectra = np.asarray(draw(st.lists(st.lists(FINITE, min_size=p, max_size=p), min_size=n, max_size=n)),
                         dtype=np.float64)
    start = draw(st.floats(-1e4, 1e4, allow_nan=False))
    steps = draw(st.lists(st.floats(0.5, 100.0), min_size=p, max_size=p))
    axis = start + np.cumsum(steps)
    assume(np.all(np.diff(axis) > 0))
    ids = draw(st.lists(ID_TEXT, min_size=n, max_size=n, unique=True))
    target = np.asarray(draw(st.lists(FINITE, min_size=n, max_size=n)), dtype=np.float64)
    labels = draw(st.lists(st.sampled_from(["low", "mid", "high", ""]), min_size=n, max_size=n))
    partition = draw(st.lists(st.sampled_from(["train", "test"]), min_size=n, max_size=n))
    return Content(spectra, axis, ids, target, labels, partition)


@PROPERTY
@given(contents())
def test_two_constructions_of_the_same_content_have_the_same_hash(c: Content) -> None:
    twin = Content(c.spectra.copy(), c.axis.copy(), list(c.ids), c.target.copy(), list(c.labels), list(c.partition))
    assert c.dataset().content_hash == twin.dataset(name="another name").content_hash


@PROPERTY
@given(contents(), st.data())
def test_changing_one_spectral_value_changes_the_hash(c: Content, data: st.DataObject) -> None:
    i = data.draw(st.integers(0, c.spectra.shape[0] - 1))
    j = data.draw(st.integers(0, c.spectra.shape[1] - 1))
    value = data.draw(FINITE.filter(lambda v: v != c.spectra[i, j]))
    changed = c.spectra.copy()
    changed[i, j] = value
    other = Content(changed, c.axis, c.ids, c.target, c.labels, c.partition)
    assert other.dataset().content_hash != c.dataset().content_hash


@PROPERTY
@given(contents().filter(lambda c: len(c.ids) >= 2), st.data())
def test_swapping_two_rows_changes_the_hash(c: Content, data: st.DataObject) -> None:
    n = len(c.ids)
    i = data.draw(st.integers(0, n - 1))
    j = data.draw(st.integers(0, n - 1).filter(lambda k: k != i))
    order = np.arange(n)
    order[[i, j]] = order[[j, i]]
    swapped = Content(c.spectra[order], c.axis, [c.ids[k] for k in order], c.target[order],
                      [c.labels[k] for k in order], [c.partition[k] for k in order])
    assert swapped.dataset().content_hash != c.dataset().content_hash


@PROPERTY
@given(contents(), st.data())
def test_changing_one_axis_value_changes_the_hash(c: Content, data: st.DataObject) -> None:
    k = data.draw(st.integers(0, c.axis.size - 1))
    axis = c.axis.copy()
    axis[k] = (axis[k - 1] + axis[k]) / 2 if k > 0 else axis[0] - 1.0  # still strictly increasing
    assume(axis[k] != c.axis[k])
    other = Content(c.spectra, axis, c.ids, c.target, c.labels, c.partition)
    assert other.dataset().content_hash != c.dataset().content_hash


@PROPERTY
@given(contents())
def test_csv_written_with_repr_floats_loads_back_with_the_same_hash(c: Content) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "prop.csv"
        with path.open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "y", *(repr(float(w)) for w in c.axis)])
            for i, sid in enumerate(c.ids):
                writer.writerow([sid, repr(float(c.target[i])), *(repr(float(v)) for v in c.spectra[i])])
        loaded = load_csv(path, targets=["y"], id_column="id")
    axis = np.asarray([float(repr(float(w))) for w in c.axis])
    expected = SpectraDataset(name="expected", sample_ids=c.ids, spectra=c.spectra, wavelengths=axis,
                              wavelength_unit=guess_unit(axis), targets={"y": c.target},
                              partition=["train"] * len(c.ids))
    assert loaded.sample_ids.tolist() == c.ids
    assert loaded.spectra.tobytes() == c.spectra.tobytes()
    assert loaded.content_hash == expected.content_hash
