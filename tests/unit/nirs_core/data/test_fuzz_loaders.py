"""Fuzz guard of the data files (issue 20): hypothesis writes CSV text, NPZ archives, nirs4all folders and JCAMP-DX
text, and ``nirdag.load_dataset`` must either raise one of nirdag's typed errors (a ``NirdagError``) or return a
consistent dataset. Any other exception (ValueError, KeyError, IndexError, EOFError, UnicodeDecodeError...) fails.

A few examples per property by default; a long run:
``NIRDAG_FUZZ_EXAMPLES=5000 .venv/bin/pytest tests/unit/nirs_core/data/test_fuzz_loaders.py -p no:cacheprovider``
"""

from __future__ import annotations

import gzip
import io
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import nirdag
from nirs_core.errors import NirdagError

EXAMPLES = int(os.environ.get("NIRDAG_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _load(path: Path, **options: Any) -> None:
    """Load ``path``; a typed error is a pass, a dataset must be consistent, anything else fails the test."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # warnings (axis from the column index, dropped rows) are allowed
        try:
            ds = nirdag.load_dataset(path, **options)
        except NirdagError as exc:
            assert str(exc).strip(), f"{type(exc).__name__} with an empty message"
            return
    n, p = ds.n_samples, ds.n_wavelengths
    assert ds.spectra.shape == (n, p) and n > 0 and p > 0
    assert ds.wavelengths.shape == (p,)
    assert np.isfinite(ds.spectra).all()
    assert len(set(ds.sample_ids.tolist())) == n == len(ds.sample_ids)
    assert set(ds.partition.tolist()) <= {"train", "test"} and len(ds.partition) == n
    for name in ds.target_names:
        assert ds.target(name).shape == (n,)


# --- CSV ------------------------------------------------------------------------------------------------------

_WORDS = st.sampled_from(["id", "sample_id", "fat", "partition", "set", "site", "", " ", '"', "a,b", "x;y", "ü",
                          "train", "test", "cal", "val", "nan", "inf", "-", "1e400", "\ufeff"])


def _number(decimal: str) -> st.SearchStrategy[str]:
    plain = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False).map(lambda v: f"{v:.6g}")
    return plain.map(lambda s: s.replace(".", decimal))


def _header(decimal: str) -> st.SearchStrategy[str]:
    units = st.sampled_from(["", " nm", "nm", " cm-1", "cm⁻¹", " µm", "um", " Hz", " NM"])
    wavelength = st.tuples(st.integers(1, 20000), units).map(lambda t: f"{t[0]}{t[1]}")
    return st.one_of(wavelength, _WORDS, _number(decimal), st.text(max_size=6))


@st.composite
def csv_files(draw: st.DrawFn) -> tuple[bytes, dict[str, Any]]:
    """A well-formed wide CSV (id, fat, partition, wavelength headers with or without a unit) with a few cells,
    headers or row lengths then mutated, so that both loads and errors are reached."""
    delimiter = draw(st.sampled_from([",", ";", "\t"]))
    decimal = draw(st.sampled_from([".", ","])) if delimiter != "," else "."
    n, p = draw(st.integers(1, 5)), draw(st.integers(1, 5))
    unit = draw(st.sampled_from(["", " nm", "nm", " cm-1", "cm⁻¹", " µm", "um"]))
    start = draw(st.sampled_from([1, 900, 4000]))
    header = ["id", "fat", "partition", *(f"{start + 2 * j}{unit}" for j in range(p))]
    number = _number(decimal)
    rows = [[f"s{i}", draw(number), draw(st.sampled_from(["train", "test", "cal", "val"])),
             *(draw(number) for _ in range(p))] for i in range(n)]
    table = [header, *rows]
    for _ in range(draw(st.integers(0, 3))):  # mutations: a cell, a header, a row's length
        i = draw(st.integers(0, len(table) - 1))
        row = table[i]
        kind = draw(st.sampled_from(["cell", "drop", "add"]))
        if kind == "cell" and row:
            row[draw(st.integers(0, len(row) - 1))] = draw(_header(decimal) if i == 0 else
                                                           st.one_of(_WORDS, st.text(max_size=4), number))
        elif kind == "drop" and row:
            row.pop()
        else:
            row.append(draw(number))
    quote = draw(st.booleans())
    lines = [delimiter.join(f'"{c}"' if quote and c and '"' not in c else c for c in row) for row in table]
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines) + draw(st.sampled_from(["", "\n", "\n\n"]))
    data = text.encode("utf-8")
    if draw(st.booleans()):
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:  # bytes that are not UTF-8
        data = data + draw(st.binary(min_size=1, max_size=8))
    options: dict[str, Any] = {}
    if draw(st.booleans()):
        options["targets"] = draw(st.lists(st.sampled_from(["fat", "site", *header[3:4]]), max_size=2, unique=True))
    if draw(st.booleans()):
        options["delimiter"] = delimiter
    if draw(st.integers(0, 4)) == 0:
        options["wavelength_unit"] = draw(st.sampled_from(["nm", "cm-1"]))
    return data, options


@FUZZ
@given(csv_files())
def test_csv_text_loads_or_raises_a_typed_error(case: tuple[bytes, dict[str, Any]]) -> None:
    data, options = case
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.csv"
        path.write_bytes(data)
        _load(path, **options)


# --- NPZ ------------------------------------------------------------------------------------------------------

_NPZ_NAMES = ["X", "spectra", "y", "wavelengths", "wavelength_unit", "sample_ids", "partition", "target_names",
              "X_train", "X_test", "y_train", "y_test", "other"]
_DTYPES = st.sampled_from([np.float64, np.float32, np.int64, np.bool_, np.complex128, np.dtype("U6"),
                           np.dtype("S6"), np.dtype("M8[s]")])
_ARRAYS = hnp.arrays(_DTYPES, hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=4))
_LABELS = st.sampled_from([np.array(["train", "test", "cal", "val"]), np.array([b"train", b"test", b"x", b"\xff"]),
                           np.array(["900 nm", "902 nm", "904 nm", "906 nm"]), np.array(["nm"]), np.array("cm-1")])


@st.composite
def npz_files(draw: st.DrawFn) -> bytes:
    """Arrays under the names the loader reads (and others), of shapes that mostly agree (n samples, p
    wavelengths) or of any shape and dtype; sometimes the archive is truncated."""
    n, p = (draw(st.integers(0, 4)) if draw(st.integers(0, 4)) == 0 else draw(st.integers(1, 4)) for _ in "np")
    split = draw(st.booleans())
    names = ["X_train", "X_test", "y_train", "y_test"] if split else ["X", "y", "sample_ids", "partition"]
    names = [m for m in names if draw(st.integers(0, 4))] + draw(st.lists(st.sampled_from(_NPZ_NAMES), max_size=2))
    fitting = {"X": (n, p), "spectra": (n, p), "X_train": (n, p), "X_test": (n, p), "wavelengths": (p,),
               "y": (n,), "y_train": (n,), "y_test": (n,), "sample_ids": (n,), "partition": (n,)}
    arrays = {}
    for name in dict.fromkeys(names):
        choice = draw(st.sampled_from([0, 0, 1, 2, 3]))
        if name in fitting and choice < 2:
            dtype = np.float64 if name.startswith(("X", "spectra", "wave")) or choice == 0 else np.dtype("U3")
            arrays[name] = draw(hnp.arrays(dtype, fitting[name], elements=None if dtype != np.float64 else
                                           st.floats(-10, 10)))
            if name == "partition":
                arrays[name] = np.array(draw(st.lists(st.sampled_from(["train", "test", "x"]), min_size=n,
                                                      max_size=n)), dtype="U5")
            if name == "sample_ids":
                arrays[name] = np.array([f"s{i}" for i in range(n)] if choice == 0 else ["s"] * n)
        elif choice == 2:
            arrays[name] = draw(_LABELS)
        else:
            arrays[name] = draw(_ARRAYS)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    data = buffer.getvalue()
    if draw(st.integers(0, 7)) == 0:
        data = data[: draw(st.integers(0, len(data)))]
    return data


@FUZZ
@given(npz_files(), st.sampled_from([{}, {"wavelengths": [1.0, 2.0]}, {"wavelength_unit": "nm"},
                                     {"targets": ["y"]}, {"partition_column": "set"}]))
def test_npz_contents_load_or_raise_a_typed_error(data: bytes, options: dict[str, Any]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.npz"
        path.write_bytes(data)
        _load(path, **options)


# --- nirs4all folders -----------------------------------------------------------------------------------------

_N4A_FILES = ["Xcal.csv", "Ycal.csv", "Mcal.csv", "Xval.csv", "Yval.csv", "Mval.csv", "Xtrain.csv", "Ytest.csv",
              "xCAL.csv", "Xtest.csv.gz"]


@st.composite
def n4a_text(draw: st.DrawFn) -> str:
    delimiter = draw(st.sampled_from([";", ",", "\t"]))
    width, height = draw(st.integers(1, 4)), draw(st.integers(0, 4))
    cell = st.one_of(st.floats(0, 3000, allow_nan=False).map(lambda v: f"{v:.4g}"), st.just(""), _WORDS)
    rows = draw(st.lists(st.lists(cell, min_size=width, max_size=width + draw(st.integers(0, 1))),
                         min_size=height, max_size=height))
    if draw(st.booleans()):
        rows.insert(0, [str(900 + 2 * i) if draw(st.booleans()) else f"ch{i}" for i in range(width)])
    return "\n".join(delimiter.join(row) for row in rows) + "\n"


@st.composite
def n4a_folders(draw: st.DrawFn) -> dict[str, str]:
    """A folder of one naming family (Xcal, Ycal, Mcal, Xval...) whose files agree (rows, widths), with one file
    sometimes replaced by any text or joined by a file of the other family."""
    first, second = draw(st.sampled_from([("cal", "val"), ("train", "test")]))
    splits = [first, second] if draw(st.booleans()) else [first]
    roles = ["X", *(r for r in "YM" if draw(st.booleans()))]
    width, header = draw(st.integers(1, 4)), draw(st.booleans())
    number = st.floats(0, 3, allow_nan=False).map(lambda v: f"{v:.4g}")
    files = {}
    for split in splits:
        n = draw(st.integers(1, 4))
        rows = draw(st.lists(st.lists(number, min_size=width, max_size=width), min_size=n, max_size=n))
        head = ";".join(str(900 + 2 * i) for i in range(width)) + "\n" if header else ""
        files[f"X{split}.csv"] = head + "\n".join(";".join(r) for r in rows) + "\n"
        if "Y" in roles:
            files[f"Y{split}.csv"] = "fat\n" + "\n".join(draw(number) for _ in range(n)) + "\n"
        if "M" in roles:
            files[f"M{split}.csv"] = "site\n" + "\n".join(f"lab{i}" for i in range(n)) + "\n"
    if draw(st.integers(0, 3)) == 0:
        files[draw(st.sampled_from(sorted(files)))] = draw(n4a_text())
    if draw(st.integers(0, 5)) == 0:
        files[draw(st.sampled_from(_N4A_FILES))] = draw(n4a_text())
    return files


@FUZZ
@given(st.one_of(n4a_folders(), st.dictionaries(st.sampled_from(_N4A_FILES), n4a_text(), min_size=1, max_size=5)),
       st.booleans())
def test_nirs4all_folders_load_or_raise_a_typed_error(files: dict[str, str], bom: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        for name, text in files.items():
            data = (b"\xef\xbb\xbf" if bom else b"") + text.encode("utf-8")
            if name.endswith(".gz"):
                data = gzip.compress(data)
            (Path(folder) / name).write_bytes(data)
        _load(Path(folder), format="nirs4all")


# --- JCAMP-DX -------------------------------------------------------------------------------------------------

_JCAMP = ("##TITLE=s1\n##JCAMP-DX=5.01\n##DATA TYPE=NEAR INFRARED SPECTRUM\n##XUNITS={xunits}\n##YUNITS=ABSORBANCE\n"
          "##XFACTOR={xfactor}\n##YFACTOR=1\n##FIRSTX=1000\n##LASTX=1006\n##NPOINTS={npoints}\n{table}\n{data}\n"
          "##END=\n")
_XYDATA = ["1000 1 2 3 4", "1000A1B2C3D4", "1000 1J2%K", "1004 3 4", "1000@A1S3", "1000 1,2,3,4", "1000 1 2 3 4 5"]


@st.composite
def jcamp_text(draw: st.DrawFn) -> str:
    table = draw(st.sampled_from(["##XYDATA=(X++(Y..Y))", "##XYPOINTS=(XY..XY)", "##XYDATA=(XY..XY)",
                                  "##PEAK TABLE=(XY..XY)"]))
    data = "\n".join(draw(st.lists(st.one_of(st.sampled_from(_XYDATA), st.text(max_size=12)), max_size=3))
                     if draw(st.booleans()) else ["1000 1 2 3 4" if "++" in table else "1000 1 1002 2 1004 3 1006 4"])
    text = _JCAMP.format(xunits=draw(st.sampled_from(["NANOMETERS", "1/CM", "MICROMETERS", "ARB", ""])),
                         xfactor=draw(st.sampled_from(["1", "2", "0", "x", "1e400"])),
                         npoints=draw(st.sampled_from(["4", "4", "0", "-1", "8", "4.5"])), table=table, data=data)
    if draw(st.integers(0, 2)) == 0:  # cut or splice the text somewhere
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.text(max_size=10)) + text[at + draw(st.integers(0, 20)):]
    return text


@FUZZ
@given(jcamp_text(), st.booleans())
def test_jcamp_text_loads_or_raises_a_typed_error(text: str, latin: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "fuzz.jdx"
        path.write_bytes(text.encode("latin-1", "replace") if latin else text.encode("utf-8"))
        _load(path)


@pytest.mark.parametrize("suffix", [".csv", ".npz", ".jdx", ".xlsx", ".mat", ".spc", ".0", ".parquet"])
@FUZZ
@given(data=st.binary(max_size=64))
def test_arbitrary_bytes_under_any_suffix_raise_a_typed_error(suffix: str, data: bytes) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        _load(path)


# --- found by the fuzz guard ----------------------------------------------------------------------------------


def test_a_csv_whose_second_line_is_not_utf8_is_a_spectra_file_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes(b"id,fat,partition,1\ns0,0,train,0\xc2")  # used to escape as a bare UnicodeDecodeError
    with pytest.raises(NirdagError, match=r"bad.csv: not a readable UTF-8 text file"):
        nirdag.load_dataset(path)


def test_a_duplicate_id_header_is_named_before_columns_are_detected(tmp_path: Path) -> None:
    path = tmp_path / "twice.csv"
    path.write_bytes(b"id,id,partition,1\ns0,0,train,0\n")  # used to escape as a bare KeyError of pyarrow
    with pytest.raises(NirdagError, match=r"twice.csv: duplicate column names in the header: \['id'\]"):
        nirdag.load_dataset(path)
