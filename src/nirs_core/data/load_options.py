"""Which loading options each format reads: an option given for a format that does not read it is refused
(``UnusedOptionError`` naming the option and the format), never ignored.

Options every format reads (``targets``, ``label_targets``, ``name``, ``on_nonfinite``) and ``not_spectral`` (it
names columns to keep out of the spectra *if the table has them*, so a format without columns has nothing to act
on) are not listed. ``join_on`` and ``targets_key`` go with ``targets_file``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from nirs_core.data.errors import UnusedOptionError

_COLUMNS = frozenset({"id_column", "partition_column", "metadata_columns", "detect_columns"})
_AXIS = frozenset({"wavelengths", "wavelength_unit"})
_JOIN = frozenset({"targets_file"})
# format -> the options of load_dataset / load_parts it reads
OPTIONS_READ: dict[str, frozenset[str]] = {
    "csv": _COLUMNS | _AXIS | _JOIN | {"delimiter", "decimal"},
    "parquet": _COLUMNS | _AXIS | _JOIN,
    "delta": _COLUMNS | _AXIS,
    "xlsx": _COLUMNS | _AXIS | _JOIN | {"sheet"},
    "npz": _AXIS | _JOIN,
    "mat": _AXIS | _JOIN,
    "nirs4all": _AXIS | _JOIN | {"delimiter", "header"},
    "jcamp": _JOIN,
    "opus": _JOIN,
    "spc": _JOIN,
}
# option -> its value when not given
DEFAULTS: dict[str, Any] = {
    "id_column": None, "partition_column": None, "metadata_columns": (), "detect_columns": True,
    "wavelengths": None, "wavelength_unit": None, "delimiter": None, "decimal": None, "header": None,
    "sheet": None, "targets_file": None, "join_on": "title", "targets_key": None,
}
_WHY: dict[str, str] = {
    "npz": "its arrays are named; the partition is the 'partition' array or X_train/X_test",
    "mat": "its variables are named; the partition is the 'partition' variable or X_train/X_test",
    "nirs4all": "its files are named X/Y/M per split",
    "jcamp": "each file states its axis and unit", "opus": "each file states its axis and unit",
    "spc": "each file states its axis and unit", "delta": "a Delta table holds its targets as columns",
}


def _given(value: Any, default: Any) -> bool:
    if default is None:
        return value is not None
    if isinstance(default, tuple):  # a sequence option (an array of wavelengths too): given when not empty
        return len(value) > 0
    return bool(value != default)


def check_options(source: str, fmt: str, options: Mapping[str, Any]) -> None:
    """Refuse each option of ``options`` given (not at its default) that ``fmt`` does not read."""
    given = [k for k, v in options.items() if k in DEFAULTS and _given(v, DEFAULTS[k])]
    read = OPTIONS_READ[fmt]
    unused = [k for k in given if k not in read and k not in ("join_on", "targets_key")]
    if unused:
        why = f" ({_WHY[fmt]})" if fmt in _WHY else ""
        shown = ", ".join(f"{k}={options[k]!r}" for k in unused)
        raise UnusedOptionError(f"{source}: {shown}: not read by format {fmt!r}{why}; options it reads: "
                                f"{', '.join(sorted(read)) or 'none'}")
    paired = [k for k in given if k in ("join_on", "targets_key")]
    if paired and "targets_file" not in given:
        raise UnusedOptionError(f"{source}: {', '.join(f'{k}={options[k]!r}' for k in paired)} go(es) with "
                                "targets_file (a CSV of reference values), which was not given")
