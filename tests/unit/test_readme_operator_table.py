"""The README's transforms table lists every operator of the registry, once, each with a reference (a publication
year or the library it goes through)."""

from __future__ import annotations

import re
from pathlib import Path

from nirs_core.operators.registry import DEFAULT_OPERATORS

README = Path(__file__).resolve().parents[2] / "README.md"


def _rows() -> dict[str, str]:
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| op | what | params (defaults) |"):]
    table = table[: table.index("\n\n")]
    rows = {}
    for line in table.splitlines()[2:]:
        names, what = line.split(" | ")[0].lstrip("| "), line.split(" | ")[1]
        for name in re.findall(r"`([a-z_0-9]+)`", names):
            assert name not in rows, f"{name} has two rows"
            rows[name] = what
    return rows


def test_every_registered_operator_has_a_row_with_a_reference():
    rows = _rows()
    assert sorted(rows) == sorted(DEFAULT_OPERATORS.names)
    cited = re.compile(r"\b(1[89]|20)\d\d\b|scikit-learn|scipy|pybaselines|PyWavelets|pywt|np\.interp")
    assert [name for name, what in rows.items() if not cited.search(what)] == []
