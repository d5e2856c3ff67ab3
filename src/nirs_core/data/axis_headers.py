"""Wavelengths written as text: a number optionally followed by its unit (``900``, ``900 nm``, ``4000cm-1``,
``1.1 µm``), as wide tables write their spectral headers and some archives their ``wavelengths``.

Units: ``nm``; ``cm-1``, ``cm^-1``, ``cm⁻¹``, ``1/cm`` (wavenumbers); ``µm``, ``um``, ``μm`` (micrometres,
converted to nm: the dataset knows nm and cm-1 only, as the JCAMP loader also converts). Spaces are optional,
case is ignored; a decimal comma is read when the table writes one.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from nirs_core.data.errors import DataError, SpectraFileError

# unit as written (lower case, no spaces) -> (dataset unit, factor to that unit)
_UNITS: dict[str, tuple[str, float]] = {
    "nm": ("nm", 1.0), "cm-1": ("cm-1", 1.0), "cm^-1": ("cm-1", 1.0), "cm⁻¹": ("cm-1", 1.0),
    "1/cm": ("cm-1", 1.0), "µm": ("nm", 1000.0), "μm": ("nm", 1000.0), "um": ("nm", 1000.0),
}
_NUMBER_UNIT = re.compile(r"^\s*(?P<number>[+-]?(?:\d+(?:[.,]\d*)?|[.,]\d+)(?:[eE][+-]?\d+)?)\s*"
                          r"(?P<unit>\S.*?)?\s*$")


def header_wavelength(text: str, decimal: str = ".") -> tuple[float, str | None] | None:
    """``(value, unit)`` of a header such as ``900 nm`` (unit None for a bare number, value converted to nm for
    micrometres), or None when the text is not a number with a known unit."""
    match = _NUMBER_UNIT.match(text)
    if match is None:
        return None
    number = match["number"]
    if "," in number and decimal != ",":
        return None
    try:
        value = float(number.replace(",", "."))
    except ValueError:
        return None
    unit = match["unit"]
    if unit is None:
        return (value, None) if np.isfinite(value) else None
    known = _UNITS.get(re.sub(r"\s", "", unit).lower())
    if known is None or not np.isfinite(value):
        return None
    return value * known[1], known[0]


def is_header_number(text: str, decimal: str = ".") -> bool:
    """True when ``text`` is a wavelength header (see :func:`header_wavelength`) or any number Python reads
    (``nan`` and ``inf`` included, as headers have always been read)."""
    if header_wavelength(text, decimal) is not None:
        return True
    try:
        float(text.replace(",", ".") if decimal == "," else text)
    except ValueError:
        return False
    return True


def axis_from_headers(source: str, headers: Sequence[str], decimal: str = ".", *, what: str = "column"
                      ) -> tuple[np.ndarray, str | None]:
    """The axis and its unit written by ``headers`` (every one a wavelength header); one unit for all of them, or
    none for all: a mix is a SpectraFileError naming two headers that differ."""
    values, units = [], []
    for text in headers:
        read = header_wavelength(text, decimal)
        if read is None:  # nan, inf: numbers Python reads that are no wavelength
            raise SpectraFileError(f"{source}: {what} {text!r} is not a wavelength (a number with an optional "
                                   "unit nm, cm-1 or µm)")
        values.append(read[0])
        units.append(read[1])
    first = units[0]
    other = next((i for i, u in enumerate(units) if u != first), None)
    if other is not None:
        raise SpectraFileError(f"{source}: spectral {what}s mix units: {headers[0]!r} ({first or 'no unit'}) and "
                               f"{headers[other]!r} ({units[other] or 'no unit'}); write one unit for all")
    return np.asarray(values, dtype=np.float64), first


def check_unit(source: str, given: str | None, found: str | None) -> str | None:
    """The unit of the axis: the one the caller gave, which must agree with the one the headers state."""
    if given is not None and found is not None and given != found:
        raise DataError(f"{source}: wavelength_unit={given!r} but the headers say {found!r}")
    return given or found
