"""Unit tests of schema_from_struct: msgspec row annotations -> Arrow field types and nullability."""

from __future__ import annotations

import datetime as dt
from typing import Literal

import msgspec
import pyarrow as pa
import pytest

from datafusion_engine.schemas import TABLE_ROLES, TABLE_SCHEMAS, schema_from_struct


# Module-level structs: schema_from_struct resolves the (string) annotations through the module's globals.
class _Row(msgspec.Struct):
    name: str
    count: int | None
    ids: list[int]
    kind: Literal["a", "b"]
    at: dt.datetime
    value: float
    flag: bool


class _DictRow(msgspec.Struct):
    counts: dict[str, int]


class _SetRow(msgspec.Struct):
    members: set[int]


class _UnionRow(msgspec.Struct):
    either: str | int


@pytest.fixture(scope="module")
def schema() -> pa.Schema:
    return schema_from_struct(_Row)


def test_fields_follow_struct_order(schema: pa.Schema) -> None:
    assert schema.names == ["name", "count", "ids", "kind", "at", "value", "flag"]


def test_str_is_non_null_string(schema: pa.Schema) -> None:
    assert schema.field("name").type == pa.string()
    assert schema.field("name").nullable is False


def test_optional_int_is_nullable_int64(schema: pa.Schema) -> None:
    assert schema.field("count").type == pa.int64()
    assert schema.field("count").nullable is True


def test_list_of_int_is_list_of_int64(schema: pa.Schema) -> None:
    assert schema.field("ids").type == pa.list_(pa.int64())
    assert schema.field("ids").nullable is False


def test_string_literal_is_string(schema: pa.Schema) -> None:
    assert schema.field("kind").type == pa.string()
    assert schema.field("kind").nullable is False


def test_datetime_is_utc_microsecond_timestamp(schema: pa.Schema) -> None:
    assert schema.field("at").type == pa.timestamp("us", tz="UTC")


def test_float_and_bool_map_to_float64_and_bool(schema: pa.Schema) -> None:
    assert schema.field("value").type == pa.float64()
    assert schema.field("flag").type == pa.bool_()


def test_dict_annotation_maps_to_an_arrow_map() -> None:
    assert schema_from_struct(_DictRow).field("counts").type == pa.map_(pa.string(), pa.int64())


def test_unsupported_annotation_raises_type_error() -> None:
    with pytest.raises(TypeError, match="no Arrow type"):
        schema_from_struct(_SetRow)


def test_union_of_two_types_raises_type_error() -> None:
    with pytest.raises(TypeError, match=r"T \| None"):
        schema_from_struct(_UnionRow)


def test_workspace_table_schemas_keep_nullable_only_where_declared() -> None:
    runs = TABLE_SCHEMAS["runs"]
    assert {f.name for f in runs if f.nullable} == {"finished_at", "error"}
    assert runs.field("started_at").type == pa.timestamp("us", tz="UTC")
    assert TABLE_SCHEMAS["chains"].field("branch_path").type == pa.list_(pa.int64())


def test_column_roles_are_declared_on_the_row_structs():
    assert TABLE_ROLES["predictions"] == {"run_id": "run_id", "chain_id": "chain_id", "sample_id": "sample_id",
                                          "target": "target"}
    assert TABLE_ROLES["spectra"] == {"dataset_hash": "dataset_id", "sample_id": "sample_id",
                                      "metadata": "sample_metadata"}
    assert TABLE_ROLES["pipelines"] == {}
