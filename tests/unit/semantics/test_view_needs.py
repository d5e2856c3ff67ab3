"""relspec names what each view reads as data; the view specs (semantics owns them) must agree."""

from __future__ import annotations

from relspec.policy import VIEW_NEEDS, ExecutionPolicy
from semantics.catalog import CATALOG
from semantics.compiler import requirements


def test_the_policy_names_exactly_what_each_catalog_view_reads():
    for view in CATALOG:
        tables, functions = requirements(view, ExecutionPolicy())
        named_tables, named_functions = VIEW_NEEDS[view.name]
        assert tables == tuple(sorted(named_tables)), view.name
        assert functions == tuple(sorted(named_functions)), view.name
