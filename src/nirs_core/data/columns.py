"""Conventional column names and partition labels: what a wide table's id and partition columns are when the
caller names none, and the partition labels every loader accepts (train/test, cal/val and their long forms)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

import numpy as np

# Accepted partition labels (any case, surrounding spaces ignored) -> the dataset's partition.
PARTITION_LABELS: dict[str, str] = {
    "train": "train", "training": "train", "cal": "train", "calibration": "train",
    "test": "test", "testing": "test", "val": "test", "valid": "test", "validation": "test",
}
ID_NAMES: tuple[str, ...] = ("sample_id", "id", "sample")
PARTITION_NAMES: tuple[str, ...] = ("partition", "set", "split")


def normalise_partition(labels: np.ndarray) -> tuple[np.ndarray, list[str]]:
    """``train``/``test`` for each accepted label (any case); returns them and the distinct labels not accepted."""
    cleaned = np.char.lower(np.char.strip(np.asarray(labels).astype(str)))
    unknown = sorted({str(v) for v in np.unique(cleaned) if str(v) not in PARTITION_LABELS})
    mapped = np.asarray([PARTITION_LABELS.get(str(v), str(v)) for v in cleaned], dtype=object).astype(str)
    return mapped, unknown


def is_partition_column(values: Sequence[str | None]) -> bool:
    """True when every non-empty value is an accepted partition label (and there is one)."""
    cells = {str(v).strip().lower() for v in values if v is not None and str(v).strip()}
    return bool(cells) and cells <= set(PARTITION_LABELS)


def conventional(header: Sequence[str], names: Sequence[str], taken: Sequence[str]) -> list[str]:
    """The header's columns named like one of ``names`` (any case), in ``names`` order, not in ``taken``."""
    by_lower = {c.strip().lower(): c for c in header if c not in taken}
    return [by_lower[n] for n in names if n in by_lower]


def describe_columns(header: Sequence[str], spectral: Sequence[str]) -> str:
    """The columns of a table for an error message: the non-spectral ones by name, then the spectral ones as a
    count and range (``and 700 spectral columns 1100..2498``)."""
    others = [c for c in header if c not in set(spectral)]
    shown = ", ".join(others[:20]) + (f" ... ({len(others)} in all)" if len(others) > 20 else "")
    if spectral:
        tail = f"{len(spectral)} spectral columns {spectral[0]}..{spectral[-1]}"
        return f"{shown} and {tail}" if others else tail
    return shown or "(none)"


def did_you_mean(name: str, header: Sequence[str]) -> str:
    """`` (did you mean 'oil'?)`` for the closest header name (case-insensitive), or ''."""
    lower = {c.lower(): c for c in header}
    close = difflib.get_close_matches(name.lower(), list(lower), n=1, cutoff=0.6)
    return f" (did you mean {lower[close[0]]!r}?)" if close else ""
