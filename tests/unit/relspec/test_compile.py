"""Unit tests of compile_plan on the tecator example: sweep groups, hoisting, folds and identities."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from nirs_core.data import DatasetSchema, tecator
from relspec import FOLD_FINAL, CompiledPlan, CompileError, SpecError, compile_plan, decode_spec, load_spec

EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "tecator_pls.yaml"
HEX64 = re.compile(r"[0-9a-f]{64}")


@pytest.fixture(scope="module")
def schema() -> DatasetSchema:
    return tecator().schema()


@pytest.fixture(scope="module")
def plan(schema: DatasetSchema) -> CompiledPlan:
    return compile_plan(load_spec(EXAMPLE), schema)


@pytest.fixture
def raw() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(EXAMPLE.read_text(encoding="utf-8")))


def _spec(split: bool = True, steps: list[dict] | None = None, model: dict | None = None, **header: Any) -> Any:
    """A linear (branch-free) spec: split, the given transform steps, then a PLS model."""
    pipeline: list[dict] = [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}] if split else []
    pipeline += steps or []
    pipeline.append({"model": model or {"op": "pls", "n_components": {"_range_": [1, 5]}}})
    return decode_spec({"target": "fat", **header, "pipeline": pipeline})


# --- shape of the example plan ------------------------------------------------------------------------------


def test_example_has_4_sweep_groups_of_15_components(plan: CompiledPlan) -> None:
    assert len(plan.groups) == 4
    assert all(g.component_values == tuple(range(1, 16)) for g in plan.groups)
    assert all(g.model.params == {"n_components": 15, "scale": False} for g in plan.groups)


def test_example_has_60_chains_15_per_group(plan: CompiledPlan) -> None:
    assert len(plan.chains) == 60
    for group in plan.groups:
        assert [c.n_components for c in plan.chains_of(group.group_id)] == list(range(1, 16))


def test_chains_carry_their_branch_names(plan: CompiledPlan) -> None:
    names = {(c.branch_path, c.branch_name) for c in plan.chains}
    assert names == {((0,), "raw"), ((1,), "snv"), ((2,), "sg1"), ((3,), "snv_sg1")}
    raw_chain = next(c for c in plan.chains if c.branch_name == "raw")
    assert raw_chain.preprocessing == "raw"


def test_example_hoists_3_nodes_with_snv_shared(plan: CompiledPlan) -> None:
    assert len(plan.hoisted) == 3
    snv_nodes = [h for h in plan.hoisted if h.step.op == "snv"]
    assert len(snv_nodes) == 1
    (snv,) = snv_nodes
    assert snv.parent is None
    # The snv_sg1 branch continues from the shared snv node; the sg1 branch starts from the raw spectra.
    savgol_parents = sorted((h.parent for h in plan.hoisted if h.step.op == "savgol"), key=str)
    assert savgol_parents == sorted([None, snv.node_id], key=str)


def test_all_example_steps_are_hoisted_so_no_group_fits_a_transform(plan: CompiledPlan) -> None:
    assert all(g.fitted_steps == () for g in plan.groups)
    hoisted_ids = {h.node_id for h in plan.hoisted}
    inputs = [g.input_node for g in plan.groups]
    assert inputs.count(None) == 1  # the raw branch
    assert {i for i in inputs if i is not None} == hoisted_ids


# --- folds --------------------------------------------------------------------------------------------------


def test_fold_ids_are_fold_0_to_fold_4(plan: CompiledPlan) -> None:
    assert [f.fold_id for f in plan.folds] == [f"fold_{i}" for i in range(5)]


def test_fold_val_rows_partition_the_train_rows(plan: CompiledPlan, schema: DatasetSchema) -> None:
    all_val = [r for f in plan.folds for r in f.val_rows]
    assert len(all_val) == len(set(all_val)) == 172
    assert sorted(all_val) == list(schema.train_rows)
    for fold in plan.folds:
        assert set(fold.train_rows).isdisjoint(fold.val_rows)
        assert sorted((*fold.train_rows, *fold.val_rows)) == list(schema.train_rows)


def test_test_rows_are_never_in_a_fold(plan: CompiledPlan, schema: DatasetSchema) -> None:
    used = {r for f in plan.folds for r in (*f.train_rows, *f.val_rows)}
    assert used.isdisjoint(schema.test_rows)
    assert plan.test_rows == schema.test_rows


def test_final_fold_trains_on_all_train_rows(plan: CompiledPlan, schema: DatasetSchema) -> None:
    assert plan.final_fold.fold_id == FOLD_FINAL == "fold_final"
    assert plan.final_fold.train_rows == schema.train_rows
    assert len(plan.final_fold.train_rows) == 172
    assert plan.final_fold.val_rows == ()


def test_a_different_seed_changes_the_folds(raw: dict[str, Any], schema: DatasetSchema, plan: CompiledPlan) -> None:
    raw["seed"] = 1
    other = compile_plan(decode_spec(raw), schema)
    assert [f.val_rows for f in other.folds] != [f.val_rows for f in plan.folds]
    assert other.plan_hash != plan.plan_hash


# --- identities ---------------------------------------------------------------------------------------------


def test_chain_ids_are_unique_full_sha256_hex(plan: CompiledPlan) -> None:
    ids = [c.chain_id for c in plan.chains]
    assert len(set(ids)) == 60
    assert all(HEX64.fullmatch(i) for i in ids)


def test_compiling_twice_gives_the_same_plan_hash(plan: CompiledPlan, schema: DatasetSchema) -> None:
    again = compile_plan(load_spec(EXAMPLE), schema)
    assert again.plan_hash == plan.plan_hash
    assert HEX64.fullmatch(plan.plan_hash)
    assert again == plan


def test_pipeline_hash_differs_from_dataset_hash(plan: CompiledPlan, schema: DatasetSchema) -> None:
    assert plan.dataset_hash == schema.dataset_hash
    assert HEX64.fullmatch(plan.pipeline_hash)
    assert plan.pipeline_hash != plan.dataset_hash


def test_changing_savgol_window_changes_pipeline_hash_and_every_chain_id(
    raw: dict[str, Any], schema: DatasetSchema, plan: CompiledPlan
) -> None:
    for branch in ("sg1", "snv_sg1"):
        raw["pipeline"][1]["branch"][branch][-1]["window_length"] = 11
    other = compile_plan(decode_spec(raw), schema)
    assert other.pipeline_hash != plan.pipeline_hash
    # chain_id = sha256("chain", pipeline_hash, branch path, step hashes): it is an identity *within* a pipeline,
    # so a change anywhere in the pipeline renames every chain, including those of the untouched raw/snv branches.
    assert {c.chain_id for c in other.chains}.isdisjoint(c.chain_id for c in plan.chains)
    # What does stay stable for the untouched branches is the content identity of their computation:
    # the shared snv node and the raw/snv sweep groups (and their per-chain step hashes).
    snv_node = next(h.node_id for h in plan.hoisted if h.step.op == "snv")
    assert snv_node in {h.node_id for h in other.hoisted}
    for name in ("raw", "snv"):
        before = [(c.group_id, c.step_hashes) for c in plan.chains if c.branch_name == name]
        after = [(c.group_id, c.step_hashes) for c in other.chains if c.branch_name == name]
        assert before == after
    for name in ("sg1", "snv_sg1"):
        before_groups = {c.group_id for c in plan.chains if c.branch_name == name}
        after_groups = {c.group_id for c in other.chains if c.branch_name == name}
        assert before_groups.isdisjoint(after_groups)


# --- hoisting stops at fitted steps -------------------------------------------------------------------------


def test_msc_is_fitted_per_fold_while_a_preceding_snv_is_hoisted(schema: DatasetSchema) -> None:
    plan = compile_plan(_spec(steps=[{"op": "snv"}, {"op": "msc"}, {"op": "detrend"}]), schema)
    assert [h.step.op for h in plan.hoisted] == ["snv"]
    assert plan.hoisted[0].parent is None
    (group,) = plan.groups
    assert group.input_node == plan.hoisted[0].node_id
    # MSC is fitted on each fold's training rows; everything after it must be too, even a stateless step.
    assert [s.op for s in group.fitted_steps] == ["msc", "detrend"]
    assert group.fitted_steps[0].row_wise_stateless is False


def test_pipeline_without_branch_has_one_main_group(schema: DatasetSchema) -> None:
    plan = compile_plan(_spec(), schema)
    assert len(plan.groups) == 1
    assert plan.hoisted == ()
    assert {c.branch_name for c in plan.chains} == {"main"}
    assert [c.n_components for c in plan.chains] == [1, 2, 3, 4, 5]


# --- errors -------------------------------------------------------------------------------------------------


def test_target_not_in_dataset_raises_compile_error(schema: DatasetSchema) -> None:
    with pytest.raises(CompileError) as info:
        compile_plan(_spec(target="ash"), schema)
    message = str(info.value)
    assert "'ash'" in message
    assert "`$.target`" in message


def test_too_many_components_raise_compile_error_naming_n_components(
    raw: dict[str, Any], schema: DatasetSchema
) -> None:
    raw["pipeline"][2]["model"]["n_components"] = {"_range_": [1, 200]}
    with pytest.raises(CompileError) as info:
        compile_plan(decode_spec(raw), schema)
    message = str(info.value)
    assert "`$.pipeline[2].model.n_components`" in message
    assert "at most 100" in message  # the 100 wavelengths bind before the 137 rows of the smallest fold


def test_missing_split_step_raises_spec_error(schema: DatasetSchema) -> None:
    with pytest.raises(SpecError, match=r"no `split` step.*`\$\.pipeline\[0\]`"):
        compile_plan(_spec(split=False), schema)


def test_model_not_last_raises_spec_error(raw: dict[str, Any], schema: DatasetSchema) -> None:
    raw["pipeline"].append({"op": "snv"})
    with pytest.raises(SpecError, match=r"must be the last step.*`\$\.pipeline\[2\]`"):
        compile_plan(decode_spec(raw), schema)


def test_pipeline_without_model_raises_spec_error(raw: dict[str, Any], schema: DatasetSchema) -> None:
    raw["pipeline"].pop()
    with pytest.raises(SpecError, match="no `model` step"):
        compile_plan(decode_spec(raw), schema)


def test_second_split_raises_spec_error(raw: dict[str, Any], schema: DatasetSchema) -> None:
    raw["pipeline"].insert(1, {"split": {"kind": "kfold"}})
    with pytest.raises(SpecError, match=r"second `split`.*`\$\.pipeline\[1\]`"):
        compile_plan(decode_spec(raw), schema)
