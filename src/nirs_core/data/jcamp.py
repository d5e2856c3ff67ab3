"""Strict reader for single-block JCAMP-DX 4.24/5.x spectra files (AFFN and ASDF-compressed XYDATA, XYPOINTS)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nirs_core.data.errors import SpectraFileError
from nirs_core.data.file_series import check_unique_ids, files_in, shared_axis
from nirs_core.data.parts import SpectraParts

JCAMP_SUFFIXES = (".jdx", ".dx", ".jcamp")
_REQUIRED = ("TITLE", "JCAMPDX", "XUNITS", "YUNITS", "FIRSTX", "LASTX", "NPOINTS", "XFACTOR", "YFACTOR")
_DISPLAY = {"JCAMPDX": "JCAMP-DX"}  # the spec spelling, for messages
_TABLES = {"XYDATA": "(X++(Y..Y))", "XYPOINTS": "(XY..XY)"}
# Records that describe more than one spectrum (or a spectrum as several pages); we read one spectrum per file.
_REFUSED = {"BLOCKS": "multi-block files (##BLOCKS)", "NTUPLES": "##NTUPLES data", "DATATABLE": "##DATA TABLE data"}
_X_UNITS = {"NANOMETERS": "nm", "NM": "nm", "1/CM": "cm-1", "CM-1": "cm-1", "CM^-1": "cm-1",
            "MICROMETERS": "um", "UM": "um", "MICRONS": "um"}
_LABEL_NOISE = re.compile(r"[\s\-/_]")
# AFFN exponents need an explicit sign (spec 5.3), which is what keeps "100E5" readable as X=100, SQZ 55.
_AFFN = r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]\d{1,3})?"
# Header values are single numbers, so an unsigned exponent ("1.0E0") is unambiguous there.
_HEADER_NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[Ee][+-]?\d+)?")
_TOKEN = re.compile(
    rf"(?P<sep>[\s,;]+)|(?P<affn>{_AFFN})|(?P<sqz>[@A-Ia-i]\d*\.?\d*)|(?P<dif>[%J-Rj-r]\d*\.?\d*)"
    r"|(?P<dup>[S-Zs]\d*)|(?P<bad>.)"
)
_SQZ = {c: (i, 1) for i, c in enumerate("@ABCDEFGHI")} | {c: (i, -1) for i, c in enumerate("abcdefghi", 1)}
_DIF = {c: (i, 1) for i, c in enumerate("%JKLMNOPQR")} | {c: (i, -1) for i, c in enumerate("jklmnopqr", 1)}
_DUP = {c: i for i, c in enumerate("STUVWXYZs", 1)}


@dataclass(frozen=True, eq=False)  # eq=False: field-wise == on arrays is ambiguous
class JcampSpectrum:
    """One spectrum read from a JCAMP-DX file.

    Attributes
    ----------
    source : str
        The file read.
    title : str
        Value of ``##TITLE``.
    x, y : numpy.ndarray
        (n,) float64 abscissa and ordinate, XFACTOR/YFACTOR applied, in the order stored in the file.
    x_unit : {"nm", "cm-1", "um"} or None
        ``##XUNITS`` normalised; None for any other unit (kept verbatim in ``headers["XUNITS"]``).
    y_unit : str
        ``##YUNITS`` as written.
    headers : dict[str, str]
        Every non-data record; keys are normalised labels (upper case, no spaces/dashes/slashes/underscores).
    """

    source: str
    title: str
    x: np.ndarray
    y: np.ndarray
    x_unit: str | None
    y_unit: str
    headers: dict[str, str]


@dataclass(frozen=True)
class _Record:
    label: str  # normalised
    line: int  # 1-based line of the ``##LABEL=`` line
    value: str  # text after '=' on the label line
    body: tuple[tuple[int, str], ...]  # continuation lines (line number, text), comments stripped


def _normalise_label(raw: str) -> str:
    return _LABEL_NOISE.sub("", raw).upper()


def _read_lines(path: Path) -> list[str]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise SpectraFileError(f"{path}: file not found") from None
    except IsADirectoryError:
        raise SpectraFileError(f"{path}: is a directory, expected a JCAMP-DX file") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        # The spec says ASCII, but instrument software writes Latin-1 (degree and micro signs) in free text;
        # Latin-1 maps every byte, and data records are pure ASCII either way.
        text = raw.decode("latin-1")
    return text.splitlines()


def _split_records(path: Path, lines: list[str]) -> tuple[list[_Record], int | None]:
    """Group lines into labelled data records, stripping ``$$`` comments, up to the first ``##END=``.

    Also returns the line of a record found after ``##END=`` (a second block), or None.
    """
    records: list[_Record] = []
    current: tuple[str, int, str] | None = None
    body: list[tuple[int, str]] = []
    ended = False
    for number, line in enumerate(lines, 1):
        text = line.split("$$", 1)[0].strip()
        if ended:
            if text.startswith("##"):
                return records, number
            continue
        if not text.startswith("##"):
            if text and current is None:
                raise SpectraFileError(f"{path}: line {number}: expected a ##LABEL=value record, got {text[:40]!r}")
            if text:
                body.append((number, text))
            continue
        if "=" not in text:
            raise SpectraFileError(f"{path}: line {number}: expected ##LABEL=value, got {text[:40]!r}")
        if current is not None:
            records.append(_Record(*current, tuple(body)))
        raw_label, value = text[2:].split("=", 1)
        current, body = (_normalise_label(raw_label), number, value.strip()), []
        if current[0] == "END":
            ended, current = True, None
    if current is not None:
        records.append(_Record(*current, tuple(body)))
    return records, None


def _index_records(path: Path, records: list[_Record]) -> dict[str, _Record]:
    """Map label -> record, refusing what this reader does not support and duplicated key records."""
    by_label: dict[str, _Record] = {}
    for rec in records:
        if rec.label in _REFUSED:
            raise SpectraFileError(f"{path}: line {rec.line}: {_REFUSED[rec.label]} not supported; "
                                   "expected one spectrum as ##XYDATA or ##XYPOINTS")
        if rec.label == "DATATYPE" and rec.value.upper().startswith("LINK"):
            raise SpectraFileError(f"{path}: line {rec.line}: LINK blocks (multi-block files) are not supported")
        previous = by_label.get(rec.label)
        if previous is None:
            by_label[rec.label] = rec
        elif rec.label in _REQUIRED or rec.label in _TABLES:
            raise SpectraFileError(f"{path}: line {rec.line}: ##{_DISPLAY.get(rec.label, rec.label)} appears "
                                   f"twice (first at line {previous.line}); expected one spectrum per file")
        else:  # free-text records such as ##$VENDOR or ##COMMENTS may legitimately repeat: keep all of them
            merged = "\n".join([previous.value, *(t for _, t in previous.body), rec.value, *(t for _, t in rec.body)])
            by_label[rec.label] = _Record(rec.label, previous.line, merged, ())
    return by_label


def _header_text(rec: _Record) -> str:
    return "\n".join([rec.value, *(t for _, t in rec.body)]).strip()


def _number(path: Path, rec: _Record) -> float:
    text = _header_text(rec)
    if not _HEADER_NUMBER.fullmatch(text):
        raise SpectraFileError(f"{path}: line {rec.line}: ##{rec.label}: expected a number, got {text!r}")
    return float(text)


def _npoints(path: Path, rec: _Record) -> int:
    value = _number(path, rec)
    if value < 1 or value != int(value):
        raise SpectraFileError(f"{path}: line {rec.line}: ##NPOINTS: expected a positive integer, got {rec.value!r}")
    return int(value)


def _tokens(path: Path, number: int, text: str, table: str) -> list[tuple[str, float]]:
    """Split one data line into (kind, value) tokens; kind is affn, sqz, dif or dup."""
    out: list[tuple[str, float]] = []
    for m in _TOKEN.finditer(text):
        kind, token = m.lastgroup, m.group()
        if kind == "sep":
            continue
        if kind == "bad":
            raise SpectraFileError(f"{path}: line {number}: invalid ASDF character {token!r} in {table}")
        if kind == "affn":
            out.append((kind, float(token)))
        elif kind == "dup":
            out.append((kind, float(f"{_DUP[token[0]]}{token[1:]}")))
        else:
            digit, sign = (_SQZ if kind == "sqz" else _DIF)[token[0]]
            out.append((kind, sign * float(f"{digit}{token[1:]}")))
    return out


def _expand_line(path: Path, number: int, tokens: list[tuple[str, float]]) -> tuple[list[float], bool]:
    """Decode the Y tokens of one XYDATA line; also return whether the line ended in DIF form."""
    ys: list[float] = []
    last_kind = ""
    step: float | None = None  # the last DIF while the line is in DIF form: DUP then repeats the difference
    for kind, value in tokens:
        if kind == "dup":
            if not ys or last_kind == "dup":
                raise SpectraFileError(f"{path}: line {number}: DUP count without a value to repeat in XYDATA")
            for _ in range(int(value) - 1):
                ys.append(ys[-1] + (step or 0.0))
        elif kind == "dif":
            if not ys:
                raise SpectraFileError(f"{path}: line {number}: DIF value without a preceding Y value in XYDATA; "
                                       "expected the line to start with an absolute (SQZ or AFFN) value")
            ys.append(ys[-1] + value)
            step = value
        else:
            ys.append(value)
            step = None
        last_kind = kind
    return ys, step is not None


def _decode_xydata(path: Path, rec: _Record) -> np.ndarray:
    """Decode ``(X++(Y..Y))`` lines into raw Y values (before YFACTOR), applying the DIF Y-value check."""
    values: list[float] = []
    check: tuple[int, float] | None = None  # (line, last Y) when the previous line ended in DIF form
    for number, text in rec.body:
        tokens = _tokens(path, number, text, "XYDATA")
        if not tokens or tokens[0][0] not in ("affn", "sqz"):
            raise SpectraFileError(f"{path}: line {number}: expected the line to start with an X value in XYDATA")
        # The check value stays in the line while decoding: the DIFs after it are relative to it.
        ys, ends_in_dif = _expand_line(path, number, tokens[1:])
        if check is not None:
            if not ys or tokens[1][0] not in ("affn", "sqz"):
                raise SpectraFileError(f"{path}: line {number}: expected a Y-check value repeating the last Y "
                                       f"of line {check[0]} ({check[1]:.12g}) after a line in DIF form")
            if abs(ys[0] - check[1]) > 1e-9 * max(1.0, abs(check[1])):
                raise SpectraFileError(f"{path}: line {number}: Y-check value {ys[0]:.12g} does not match the "
                                       f"last Y value {check[1]:.12g} of line {check[0]}")
            ys = ys[1:]
        values.extend(ys)
        # Only a line ending in DIF form is followed by a check value (the spec's "Y-value check").
        check = (number, values[-1]) if ends_in_dif else None
    return np.asarray(values, dtype=np.float64)


def _decode_xypoints(path: Path, rec: _Record) -> tuple[np.ndarray, np.ndarray]:
    """Decode ``(XY..XY)`` AFFN pairs into raw X and Y values (before the factors)."""
    values: list[float] = []
    for number, text in rec.body:
        for kind, value in _tokens(path, number, text, "XYPOINTS"):
            if kind != "affn":
                raise SpectraFileError(f"{path}: line {number}: expected plain (AFFN) numbers in XYPOINTS, "
                                       "found a compressed (ASDF) value")
            values.append(value)
    if len(values) % 2:
        raise SpectraFileError(f"{path}: line {rec.line}: XYPOINTS holds {len(values)} numbers; expected X,Y pairs")
    pairs = np.asarray(values, dtype=np.float64).reshape(-1, 2)
    return pairs[:, 0], pairs[:, 1]


def _data_table(path: Path, records: dict[str, _Record]) -> _Record:
    tables = [records[label] for label in _TABLES if label in records]
    if len(tables) != 1:
        found = "both ##XYDATA and ##XYPOINTS" if tables else "neither ##XYDATA nor ##XYPOINTS"
        if "PEAKTABLE" in records and not tables:
            found = "only a ##PEAK TABLE (peak tables are not supported)"
        raise SpectraFileError(f"{path}: {found} found; expected exactly one data table")
    table = tables[0]
    form = re.sub(r"\s", "", table.value).upper()
    if form != _TABLES[table.label]:
        raise SpectraFileError(f"{path}: line {table.line}: unsupported ##{table.label} variable list "
                               f"{table.value!r}; expected {_TABLES[table.label]}")
    return table


def _check_version(path: Path, rec: _Record) -> None:
    match = re.match(r"(\d+)(?:\.\d+)?\b", rec.value)
    if match is None or match.group(1) not in ("4", "5"):
        raise SpectraFileError(f"{path}: line {rec.line}: unsupported ##JCAMP-DX version {rec.value!r}; "
                               "expected 4.x or 5.x")


def read_jcamp(path: str | Path) -> JcampSpectrum:
    """Read one single-block JCAMP-DX 4.24/5.x spectrum.

    The data are either ``##XYDATA=(X++(Y..Y))`` in AFFN or ASDF (SQZ, DIF, DUP) form, whose x axis is
    ``FIRSTX..LASTX`` in ``NPOINTS`` equal steps, or ``##XYPOINTS=(XY..XY)`` AFFN pairs. YFACTOR (and XFACTOR
    for XYPOINTS) is applied. Labels are matched ignoring case, spaces, dashes, slashes and underscores.
    The X value opening each XYDATA line is parsed but not compared with the computed axis.

    Parameters
    ----------
    path : str or pathlib.Path
        The ``.jdx``/``.dx``/``.jcamp`` file.

    Returns
    -------
    JcampSpectrum
        Axis and values in the order stored in the file.

    Raises
    ------
    SpectraFileError
        Malformed or unsupported content (multi-block, NTUPLES, peak tables), a missing required label, a failed
        DIF Y-value check or a point count different from ``##NPOINTS``; the message names file and line.
    """
    path = Path(path)
    found, second_block = _split_records(path, _read_lines(path))
    records = _index_records(path, found)  # refuses ##BLOCKS and LINK with their own, clearer, message
    if second_block is not None:
        raise SpectraFileError(f"{path}: line {second_block}: a second block starts after ##END=; "
                               "multi-block files are not supported")
    for label in _REQUIRED:
        if label not in records:
            raise SpectraFileError(f"{path}: missing required label ##{_DISPLAY.get(label, label)}")
    _check_version(path, records["JCAMPDX"])
    table = _data_table(path, records)
    first, last, xfactor, yfactor = (_number(path, records[k]) for k in ("FIRSTX", "LASTX", "XFACTOR", "YFACTOR"))
    npoints_rec = records["NPOINTS"]
    npoints = _npoints(path, npoints_rec)
    if table.label == "XYDATA":
        raw_y = _decode_xydata(path, table)
        x = np.linspace(first, last, npoints)
    else:
        raw_x, raw_y = _decode_xypoints(path, table)
        x = raw_x * xfactor
    if raw_y.size != npoints:
        raise SpectraFileError(f"{path}: line {table.line}: ##{table.label} holds {raw_y.size} points; "
                               f"expected ##NPOINTS={npoints} (line {npoints_rec.line})")
    y = raw_y * yfactor
    x.setflags(write=False)
    y.setflags(write=False)
    headers = {label: _header_text(rec) for label, rec in records.items() if label not in (*_TABLES, "PEAKTABLE")}
    unit_key = re.sub(r"\s", "", headers["XUNITS"]).upper()
    return JcampSpectrum(source=str(path), title=headers["TITLE"], x=x, y=y, x_unit=_X_UNITS.get(unit_key),
                         y_unit=headers["YUNITS"], headers=headers)


def _axis(spectrum: JcampSpectrum) -> tuple[np.ndarray, str | None]:
    # Micrometres are converted so the dataset only ever sees the units it knows (nm, cm-1).
    if spectrum.x_unit == "um":
        return spectrum.x * 1000.0, "nm"
    return spectrum.x, spectrum.x_unit


def read_jcamp_parts(path: str | Path) -> SpectraParts:
    """Read a JCAMP-DX file, or a folder of them, as one sample per file.

    A folder contributes every ``*.jdx``, ``*.dx`` and ``*.jcamp`` file directly in it (not recursively), in
    name order. Sample ids are the file stems and ``metadata["title"]`` holds each ``##TITLE``. Targets are
    empty. A micrometre axis is converted to nanometres.

    Parameters
    ----------
    path : str or pathlib.Path
        One JCAMP-DX file or a folder of them.

    Returns
    -------
    SpectraParts
        (n_files, n_points) spectra on the shared axis, in the order stored in the files.

    Raises
    ------
    EmptyDatasetError
        The folder holds no JCAMP-DX file.
    DataError
        Two files share a stem, or a file's axis (unit, length or values within 1e-9 relative) differs from the
        first file's; the message names that file.
    SpectraFileError
        A file is malformed (see ``read_jcamp``).
    """
    path = Path(path)
    if path.is_dir():
        files = files_in(path, lambda p: p.suffix.lower() in JCAMP_SUFFIXES,
                         f"JCAMP-DX files (*{', *'.join(JCAMP_SUFFIXES)})")
        check_unique_ids(files, [f.stem for f in files])
    else:
        files = [path]
    spectra = [read_jcamp(file) for file in files]
    ref, ref_unit = shared_axis(files, [_axis(s) for s in spectra])
    matrix = np.vstack([s.y for s in spectra])
    matrix.setflags(write=False)  # handed to SpectraDataset without a copy
    return SpectraParts(
        source=str(path), spectra=matrix, wavelengths=ref, wavelength_unit=ref_unit,
        sample_ids=np.asarray([f.stem for f in files], dtype=str),
        metadata={"title": np.asarray([s.title for s in spectra], dtype=str)},
    )
