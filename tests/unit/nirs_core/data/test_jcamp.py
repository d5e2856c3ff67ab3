"""Unit tests of the JCAMP-DX reader: AFFN and ASDF decoding, header rules, error messages, folders of files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nirs_core.data.errors import DataError, EmptyDatasetError, SpectraFileError
from nirs_core.data.jcamp import read_jcamp, read_jcamp_parts

# One hand-checked spectrum: raw ordinates 10 12 15 15 15 11 -3 0 at 1000..1014 nm, YFACTOR 0.5.
EXPECTED_X = np.array([1000.0, 1002, 1004, 1006, 1008, 1010, 1012, 1014])
EXPECTED_Y = np.array([5.0, 6.0, 7.5, 7.5, 7.5, 5.5, -1.5, 0.0])
AFFN = "1000 10 12 15 15\n1008 15 11 -3 0"
PAC = "1000 10+12+15+15\n1008+15+11-3+0"  # AFFN with signs as the only separators
SQZ = "1000 A0A2A5A5\n1008 A5A1c@"  # A=+1, c=-3, @=0 as leading digits
SQZDUP = "1000 A0A2A5U\n1010 A1c@"  # U: the value appears 3 times
DIF = "1000A0KL%%\n1008A5mj4L"  # line 2 repeats 15 (Y-check) then steps -4, -14, +3
DIFDUP = "1000A0KL%T\n1008A5mj4L"  # %T: a zero difference appearing twice

HEADER = """##TITLE={title}
##JCAMP-DX=4.24
##DATA TYPE=INFRARED SPECTRUM
##XUNITS={xunits}
##YUNITS=ABSORBANCE
##XFACTOR={xfactor}
##YFACTOR={yfactor}
##FIRSTX={firstx}
##LASTX={lastx}
##NPOINTS={npoints}
"""


def _jdx(data: str, *, table: str = "##XYDATA=(X++(Y..Y))", title: str = "sample", xunits: str = "NANOMETERS",
         xfactor: float = 1, yfactor: float | str = 0.5, firstx: float = 1000, lastx: float = 1014,
         npoints: int = 8) -> str:
    header = HEADER.format(title=title, xunits=xunits, xfactor=xfactor, yfactor=yfactor, firstx=firstx,
                           lastx=lastx, npoints=npoints)
    return f"{header}{table}\n{data}\n##END=\n"


def _write(folder: Path, text: str, name: str = "a.jdx") -> Path:
    path = folder / name
    path.write_text(text, encoding="ascii")
    return path


def test_affn_xydata_gives_the_hand_computed_spectrum(tmp_path: Path) -> None:
    spectrum = read_jcamp(_write(tmp_path, _jdx(AFFN)))
    np.testing.assert_array_equal(spectrum.x, EXPECTED_X)
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)
    assert spectrum.title == "sample"
    assert spectrum.x_unit == "nm"
    assert spectrum.y_unit == "ABSORBANCE"
    assert spectrum.headers["DATATYPE"] == "INFRARED SPECTRUM"
    assert spectrum.source == str(tmp_path / "a.jdx")


@pytest.mark.parametrize("data", [PAC, SQZ, SQZDUP, DIF, DIFDUP], ids=["pac", "sqz", "sqzdup", "dif", "difdup"])
def test_compressed_forms_decode_to_the_affn_values(tmp_path: Path, data: str) -> None:
    spectrum = read_jcamp(_write(tmp_path, _jdx(data)))
    np.testing.assert_array_equal(spectrum.x, EXPECTED_X)
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)


def test_multi_digit_asdf_values_and_dup_counts(tmp_path: Path) -> None:
    # The pseudo-digit replaces the leading digit: A23 = 123, J0 = +10, S2 = 12 appearances of +10, i12 = -912.
    data = "1 A23J0S2 i12"
    spectrum = read_jcamp(_write(tmp_path, _jdx(data, yfactor=1, firstx=1, lastx=14, npoints=14)))
    np.testing.assert_array_equal(spectrum.y, [*(123 + 10 * k for k in range(13)), -912])


def test_affn_exponents_need_a_sign_so_e_without_sign_is_sqz(tmp_path: Path) -> None:
    spectrum = read_jcamp(_write(tmp_path, _jdx("1 1.5E+01 2.5e-01 E2", yfactor=1, firstx=1, lastx=3, npoints=3)))
    np.testing.assert_array_equal(spectrum.y, [15.0, 0.25, 52.0])


def test_xypoints_pairs_with_xfactor_and_yfactor(tmp_path: Path) -> None:
    data = "2000, 10; 2004, 12\n2010,15"
    spectrum = read_jcamp(_write(tmp_path, _jdx(data, table="##XYPOINTS=(XY..XY)", xfactor=0.5, yfactor=2,
                                                lastx=1005, npoints=3)))
    np.testing.assert_array_equal(spectrum.x, [1000.0, 1002.0, 1005.0])
    np.testing.assert_array_equal(spectrum.y, [20.0, 24.0, 30.0])


def test_yfactor_scales_xydata_and_firstx_lastx_are_already_scaled(tmp_path: Path) -> None:
    # XFACTOR scales the X written on data lines; FIRSTX/LASTX are actual values, so the axis ignores it.
    spectrum = read_jcamp(_write(tmp_path, _jdx("100000 10 12 15 15\n100800 15 11 -3 0", xfactor=0.01,
                                                yfactor=0.001)))
    np.testing.assert_array_equal(spectrum.x, EXPECTED_X)
    np.testing.assert_allclose(spectrum.y, EXPECTED_Y / 500, rtol=1e-15)


def test_descending_axis_is_kept_in_file_order(tmp_path: Path) -> None:
    spectrum = read_jcamp(_write(tmp_path, _jdx("1014 10 12 15 15\n1006 15 11 -3 0", firstx=1014, lastx=1000)))
    np.testing.assert_array_equal(spectrum.x, EXPECTED_X[::-1])
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)


def test_labels_ignore_case_spaces_dashes_slashes_and_underscores(tmp_path: Path) -> None:
    text = _jdx(AFFN).replace("##XUNITS=", "##X UNITS=").replace("##YUNITS=", "##y_units=")
    text = text.replace("##JCAMP-DX=", "##JCAMPDX=").replace("##NPOINTS=", "##N-Points=")
    text = text.replace("##XYDATA=", "##XY/DATA=")
    spectrum = read_jcamp(_write(tmp_path, text))
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)
    assert spectrum.headers["XUNITS"] == "NANOMETERS"


@pytest.mark.parametrize(("unit", "expected"), [("1/CM", "cm-1"), ("cm-1", "cm-1"), ("CM^-1", "cm-1"),
                                                ("nm", "nm"), ("MICROMETERS", "um"), ("HZ", None)])
def test_x_units_are_normalised(tmp_path: Path, unit: str, expected: str | None) -> None:
    assert read_jcamp(_write(tmp_path, _jdx(AFFN, xunits=unit))).x_unit == expected


def test_comments_are_stripped_from_headers_and_data(tmp_path: Path) -> None:
    text = _jdx("1000 10 12 15 15 $$ first line\n$$ a whole comment line\n1008 15 11 -3 0")
    text = text.replace("##TITLE=sample", "##TITLE=sample $$ made by hand")
    spectrum = read_jcamp(_write(tmp_path, text))
    assert spectrum.title == "sample"
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)


def test_crlf_latin1_file_with_unsigned_header_exponents_reads(tmp_path: Path) -> None:
    text = _jdx(AFFN, title="leaf \xb5-sample", yfactor="5.0E-1").replace("\n", "\r\n")
    path = tmp_path / "a.jdx"
    path.write_bytes(text.encode("latin-1"))
    spectrum = read_jcamp(path)
    assert spectrum.title == "leaf \xb5-sample"
    np.testing.assert_array_equal(spectrum.y, EXPECTED_Y)


def test_unsupported_variable_list_and_peak_tables_are_refused(tmp_path: Path) -> None:
    with pytest.raises(SpectraFileError, match=r"line 11: unsupported ##XYDATA variable list '\(X\+\+\(R\.\.R\)\)'"):
        read_jcamp(_write(tmp_path, _jdx(AFFN, table="##XYDATA=(X++(R..R))")))
    with pytest.raises(SpectraFileError, match=r"only a ##PEAK TABLE \(peak tables are not supported\)"):
        read_jcamp(_write(tmp_path, _jdx("1000, 10", table="##PEAK TABLE=(XY..XY)"), "peaks.jdx"))


def test_npoints_mismatch_names_both_counts(tmp_path: Path) -> None:
    path = _write(tmp_path, _jdx(AFFN, npoints=9))
    with pytest.raises(SpectraFileError, match=r"line 11: ##XYDATA holds 8 points; expected ##NPOINTS=9 \(line 10\)"):
        read_jcamp(path)


def test_bad_asdf_character_names_file_line_and_character(tmp_path: Path) -> None:
    path = _write(tmp_path, _jdx("1000 A0A2A5A5\n1008 A5A1t@"))
    with pytest.raises(SpectraFileError) as info:
        read_jcamp(path)
    assert str(info.value) == f"{path}: line 13: invalid ASDF character 't' in XYDATA"


def test_dif_y_check_mismatch_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _jdx("1000A0KL%%\n1008A6mj4L"))
    with pytest.raises(SpectraFileError, match=r"line 13: Y-check value 16 does not match the last Y value 15 "
                                               r"of line 12"):
        read_jcamp(path)


def test_dif_line_without_a_y_check_value_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, _jdx("1000A0KL%%\n1008Lmj4L"))
    with pytest.raises(SpectraFileError, match=r"line 13: .*DIF"):
        read_jcamp(path)


@pytest.mark.parametrize(("label", "shown"), [("NPOINTS", "NPOINTS"), ("JCAMP-DX", "JCAMP-DX"), ("TITLE", "TITLE"),
                                              ("YFACTOR", "YFACTOR")])
def test_missing_required_label_is_named(tmp_path: Path, label: str, shown: str) -> None:
    lines = [line for line in _jdx(AFFN).splitlines() if not line.startswith(f"##{label}=")]
    path = _write(tmp_path, "\n".join(lines))
    with pytest.raises(SpectraFileError) as info:
        read_jcamp(path)
    assert str(info.value) == f"{path}: missing required label ##{shown}"


def test_multi_block_files_are_refused(tmp_path: Path) -> None:
    linked = "##TITLE=compound file\n##JCAMP-DX=5.01\n##DATA TYPE=LINK\n##BLOCKS=2\n##END=\n" + _jdx(AFFN)
    with pytest.raises(SpectraFileError, match=r"line 3: LINK blocks \(multi-block files\) are not supported"):
        read_jcamp(_write(tmp_path, linked))
    with pytest.raises(SpectraFileError, match="a second block starts after ##END="):
        read_jcamp(_write(tmp_path, _jdx(AFFN) + _jdx(AFFN), name="two.jdx"))


def test_ntuples_are_refused(tmp_path: Path) -> None:
    text = _jdx(AFFN).replace("##XYDATA=", "##NTUPLES=NMR SPECTRUM\n##XYDATA=")
    with pytest.raises(SpectraFileError, match="##NTUPLES data not supported"):
        read_jcamp(_write(tmp_path, text))


def test_folder_of_files_gives_one_sample_per_file(tmp_path: Path) -> None:
    _write(tmp_path, _jdx(AFFN, title="third"), "c.jcamp")
    _write(tmp_path, _jdx(DIFDUP, title="first"), "a.jdx")
    _write(tmp_path, _jdx(SQZ, title="second", yfactor=1), "b.DX")
    (tmp_path / "notes.txt").write_text("not a spectrum", encoding="ascii")
    parts = read_jcamp_parts(tmp_path)
    assert parts.spectra.shape == (3, 8)
    assert parts.sample_ids.tolist() == ["a", "b", "c"]
    assert parts.metadata["title"].tolist() == ["first", "second", "third"]
    np.testing.assert_array_equal(parts.spectra, [EXPECTED_Y, EXPECTED_Y * 2, EXPECTED_Y])
    np.testing.assert_array_equal(parts.wavelengths, EXPECTED_X)
    assert parts.wavelength_unit == "nm"
    assert parts.targets == {}
    assert parts.source == str(tmp_path)


def test_single_file_gives_one_sample(tmp_path: Path) -> None:
    parts = read_jcamp_parts(_write(tmp_path, _jdx(AFFN), "only.jdx"))
    assert parts.spectra.shape == (1, 8)
    assert parts.sample_ids.tolist() == ["only"]


def test_folder_with_a_different_axis_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, _jdx(AFFN), "a.jdx")
    _write(tmp_path, _jdx(AFFN), "b.jdx")
    odd = _write(tmp_path, _jdx(AFFN, lastx=1021), "c.jdx")
    with pytest.raises(DataError, match=rf"^{odd}: x axis differs from that of .*a\.jdx: x\[1\] = 1003\.0"):
        read_jcamp_parts(tmp_path)


def test_folder_with_a_different_length_names_the_file(tmp_path: Path) -> None:
    _write(tmp_path, _jdx(AFFN), "a.jdx")
    odd = _write(tmp_path, _jdx("1000 10 12 15", npoints=3, lastx=1004), "b.jdx")
    with pytest.raises(DataError, match=rf"^{odd}: .*3 points differ from 8"):
        read_jcamp_parts(tmp_path)


def test_two_files_with_the_same_stem_are_refused(tmp_path: Path) -> None:
    _write(tmp_path, _jdx(AFFN), "a.dx")
    second = _write(tmp_path, _jdx(AFFN), "a.jdx")
    with pytest.raises(DataError, match=rf"^{second}: sample id 'a' is also that of .*a\.dx"):
        read_jcamp_parts(tmp_path)


def test_empty_folder_is_an_empty_dataset(tmp_path: Path) -> None:
    with pytest.raises(EmptyDatasetError, match=rf"^{tmp_path}: no JCAMP-DX files"):
        read_jcamp_parts(tmp_path)


def test_micrometre_axis_is_converted_to_nanometres(tmp_path: Path) -> None:
    _write(tmp_path, _jdx(AFFN, xunits="MICROMETERS", firstx=1.0, lastx=1.014), "a.jdx")
    _write(tmp_path, _jdx(AFFN), "b.jdx")  # already in nm: the same axis once converted
    parts = read_jcamp_parts(tmp_path)
    assert parts.wavelength_unit == "nm"
    np.testing.assert_allclose(parts.wavelengths, EXPECTED_X, rtol=1e-12)


# --- round trip through an encoder written here, from the spec's rules ---------------------------------------

def _asdf(value: int, positive: str, negative: str) -> str:
    """Leading digit replaced by a pseudo-digit carrying the sign; ``positive[0]`` is the zero character."""
    digits = str(abs(value))
    table = positive if value >= 0 else " " + negative
    return table[int(digits[0])] + digits[1:]


def _dup(count: int) -> str:
    digits = str(count)
    return " STUVWXYZs"[int(digits[0])] + digits[1:]


def _encode_affn(ys: list[int], per_line: int, packed: bool) -> str:
    lines = []
    for start in range(0, len(ys), per_line):
        chunk = ys[start:start + per_line]
        body = "".join(f"{v:+d}" for v in chunk) if packed else " " + " ".join(str(v) for v in chunk)
        lines.append(f"{start + 1}{body}")
    return "\n".join(lines)


def _encode_difdup(ys: list[int], per_line: int) -> str:
    lines: list[str] = []
    check: int | None = None
    for start in range(0, len(ys), per_line):
        seq = ys[start:start + per_line]
        x = start + 1
        if check is not None:  # repeat the last value of a line that ended in DIF form
            seq, x = [check, *seq], start
        text = _asdf(seq[0], "@ABCDEFGHI", "abcdefghi")
        diffs = np.diff(seq).tolist()
        i = 0
        while i < len(diffs):
            run = 1
            while i + run < len(diffs) and diffs[i + run] == diffs[i]:
                run += 1
            text += _asdf(diffs[i], "%JKLMNOPQR", "jklmnopqr") + (_dup(run) if run > 1 else "")
            i += run
        lines.append(f"{x} {text}")
        check = seq[-1] if len(seq) > 1 else None
    return "\n".join(lines)


@st.composite
def _ordinates(draw: st.DrawFn) -> list[int]:
    """Either independent values or piecewise ramps (runs of equal differences, which DUP compresses)."""
    if draw(st.booleans()):
        return draw(st.lists(st.integers(-5000, 5000), min_size=1, max_size=200))
    ys = [draw(st.integers(-1000, 1000))]
    for step, run in draw(st.lists(st.tuples(st.integers(-20, 20), st.integers(1, 6)), max_size=30)):
        ys.extend(ys[-1] + step * k for k in range(1, run + 1))
    return ys


@settings(max_examples=200, deadline=None)
@given(ys=_ordinates(),
       per_line=st.integers(1, 15), form=st.sampled_from(["affn", "pac", "difdup"]))
def test_encoded_integers_round_trip_exactly(tmp_path_factory: pytest.TempPathFactory, ys: list[int],
                                             per_line: int, form: str) -> None:
    data = _encode_difdup(ys, per_line) if form == "difdup" else _encode_affn(ys, per_line, packed=form == "pac")
    text = _jdx(data, yfactor=1, firstx=1, lastx=len(ys), npoints=len(ys))
    spectrum = read_jcamp(_write(tmp_path_factory.mktemp("rt"), text))
    np.testing.assert_array_equal(spectrum.y, np.asarray(ys, dtype=np.float64))
    np.testing.assert_array_equal(spectrum.x, np.linspace(1, len(ys), len(ys)))
