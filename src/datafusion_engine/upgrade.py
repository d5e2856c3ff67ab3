"""Tables written by an older nirdag, brought to the current schema: the one place that knows what their rows mean.

Columns only ever get added, nullable. A table lacking some is given them (old rows hold null), and where a null
in an old row has a known meaning it is written as that value, so no reader has to interpret nulls (the column
names in the update predicates are this module's constants; no value enters SQL text). The store runs
this before it merges new rows into a table, and the session before it reads a table at its newest version.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pyarrow as pa
from deltalake import DeltaTable, Schema

from datafusion_engine.errors import StoreError
from datafusion_engine.schemas import TABLE_SCHEMAS

if TYPE_CHECKING:
    from datafusion_engine.layout import WorkspaceLayout

# What a null means in a row written before its column existed: every chain written before classification was
# ranked by rmse, and every chain written before multi-target runs on its pipeline's one target. Columns not listed
# stay null in old rows (events.cache: not recorded then; chains.rank and cv_loss: the ranking was not stored).
# Every score and ranking written before replicates was over spectra.
OLD_ROW_VALUES: dict[str, dict[str, str]] = {"chains": {"rank_metric": "rmse", "rank_level": "spectrum"},
                                             "scores": {"level": "spectrum"}}
# column -> (table, key column, its column holding the value) for old rows whose value another table records
OLD_ROW_LOOKUPS: dict[str, dict[str, tuple[str, str, str]]] = {
    "chains": {"rank_target": ("pipelines", "pipeline_hash", "target")}}


def missing_columns(name: str, table: DeltaTable) -> list[pa.Field]:
    present = {f.name for f in table.schema().fields}
    return [f for f in TABLE_SCHEMAS[name] if f.name not in present]


def upgrade_table(name: str, table: DeltaTable, layout: WorkspaceLayout) -> bool:
    """Give table ``name`` (of the workspace ``layout``) the columns added since it was written and the values its
    old rows mean; True when it changed (a new Delta version)."""
    missing = missing_columns(name, table)
    if not missing:
        return False
    if any(not f.nullable for f in missing):
        raise StoreError(f"table {name!r} lacks the non-nullable column(s) "
                         f"{[f.name for f in missing if not f.nullable]}; it cannot be upgraded in place")
    table.alter.add_columns(Schema.from_arrow(pa.schema(missing)).fields)
    for column, value in OLD_ROW_VALUES.get(name, {}).items():  # also nulls left by an earlier upgrade
        table.update(new_values={column: value}, predicate=f"{column} IS NULL")
    for column, (source, key, value) in OLD_ROW_LOOKUPS.get(name, {}).items():
        if layout.has_table(source):
            rows = DeltaTable(layout.table(source), storage_options=layout.delta_options).to_pyarrow_table(
                columns=[key, value])
            (table.merge(rows, predicate=f"t.{key} = s.{key}", source_alias="s", target_alias="t")
                .when_matched_update({column: f"s.{value}"}, predicate=f"t.{column} IS NULL").execute())
    return True
