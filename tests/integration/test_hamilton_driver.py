"""The Hamilton Driver a run uses, held directly: stable node names, Hamilton's own API and adapters, read-only
spectra shared between branches (never copied per branch), and hoisted matrices freed once their folds ran."""

from __future__ import annotations

import gc
import weakref
from typing import Any

import numpy as np
import pyarrow as pa
from hamilton.lifecycle import NodeExecutionHook
from hamilton.plugins.h_threadpool import FutureAdapter

import nirdag
from hamilton_pipeline import FINAL_NODES
from hamilton_pipeline.cache import KIND_TAG
from hamilton_pipeline.driver_factory import hoisted_name, refit_sources
from nirs_modelling import compute

SPEC = {"target": "fat", "seed": 3, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
    {"op": "snv"},
    {"branch": {"plain": [], "msc": [{"op": "msc"}], "detrend": [{"op": "detrend"}], "sg": [
        {"op": "savgol", "window_length": 11, "deriv": 1}]}},
    {"model": {"op": "pls", "n_components": [3, 6]}}]}


class _Inputs(NodeExecutionHook):
    """Records every array a node receives, to check sharing and read-only-ness."""

    def __init__(self) -> None:
        self.seen: dict[str, dict[str, Any]] = {}

    def run_before_node_execution(self, *, node_name: str, node_kwargs: dict[str, Any], **_: Any) -> None:
        self.seen[node_name] = dict(node_kwargs)

    def run_after_node_execution(self, **_: Any) -> None:
        pass


# Several hoisted group inputs below a shared hoisted prefix (SNV): what the refit must not keep alive.
HOISTED = {"target": "fat", "seed": 3, "refit": {"top_k": 3}, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
    {"op": "snv"},
    {"branch": {f"sg{w}": [{"op": "savgol", "window_length": w, "deriv": 1}] for w in (7, 11, 15)}
     | {"detrend": [{"op": "detrend"}], "msc": [{"op": "msc"}]}},
    {"model": {"op": "pls", "n_components": [3, 6]}}]}


class _Alive(NodeExecutionHook):
    """Which hoisted matrices are still referenced anywhere when each node starts (weak references only)."""

    def __init__(self) -> None:
        self.hoisted: dict[str, weakref.ref[np.ndarray]] = {}
        self.alive: dict[str, set[str]] = {}

    def run_before_node_execution(self, *, node_name: str, **_: Any) -> None:
        gc.collect()
        self.alive[node_name] = {n for n, ref in self.hoisted.items() if ref() is not None}

    def run_after_node_execution(self, *, node_name: str, node_tags: dict[str, Any], result: Any,
                                 **_: Any) -> None:
        if node_tags.get(KIND_TAG) == "hoisted":
            self.hoisted[node_name] = weakref.ref(result)


def test_the_driver_has_the_documented_final_nodes(tecator):
    dr = nirdag.build_driver(SPEC, tecator)
    names = {v.name for v in dr.list_available_variables()}
    assert {"spectra", "targets", "chain_ranking", "refit_models", *FINAL_NODES} <= names
    assert any(n.startswith("pls_sweep__fold_3__") for n in names)
    assert any(n.startswith("snv__") for n in names)


def test_executing_the_driver_gives_the_tables_a_run_stores(tecator, tmp_path):
    dr = nirdag.build_driver(SPEC, tecator)
    scores = dr.execute(["chain_scores"])["chain_scores"]
    run = nirdag.run(SPEC, tecator, workspace=tmp_path / "ws")
    stored = run.sql("SELECT * FROM scores").drop_columns(["run_id"])
    key = ["chain_id", "fold_id", "partition", "metric"]
    assert isinstance(scores, pa.Table)
    assert scores.sort_by([(k, "ascending") for k in key]).equals(
        stored.select(scores.column_names).sort_by([(k, "ascending") for k in key]))


def test_hamiltons_own_adapters_attach(tecator):
    plan = nirdag.compile(SPEC, tecator)
    sync = nirdag.build_driver(plan, tecator).execute(["oof_predictions"])["oof_predictions"]
    threaded = nirdag.build_driver(plan, tecator, FutureAdapter(max_workers=2)).execute(["oof_predictions"])
    assert threaded["oof_predictions"].equals(sync)


def test_branches_share_one_read_only_matrix(tecator):
    """The four branches read the one hoisted SNV matrix: the same buffer, never a copy, never writeable."""
    hook = _Inputs()
    dr = nirdag.build_driver(SPEC, tecator, hook)
    out = dr.execute(["chain_scores", "spectra"])
    assert np.shares_memory(out["spectra"], tecator.spectra)  # the dataset's own buffer, not a copy
    snv = [n for n in hook.seen if n.startswith("snv__")]
    assert len(snv) == 1
    folds = [kw[snv[0]] for name, kw in hook.seen.items() if snv[0] in kw and name.startswith("pls_sweep__")]
    assert len(folds) == 8  # 4 folds of the `plain` and of the `msc` group (detrend and savgol are hoisted)
    consumers = [kw[snv[0]] for kw in hook.seen.values() if snv[0] in kw]
    first = consumers[0]
    assert all(x is first or np.shares_memory(x, first) for x in consumers)
    for kwargs in hook.seen.values():
        for value in kwargs.values():
            if isinstance(value, np.ndarray):
                assert not value.flags.writeable


def test_hoisted_matrices_are_freed_once_their_folds_ran(tecator):
    """One branch's hoisted matrix at a time (besides the shared SNV prefix): peak memory flat in branches."""
    plan = nirdag.compile(HOISTED, tecator)
    hook = _Alive()
    nirdag.build_driver(plan, tecator, hook).execute([*FINAL_NODES])
    snv = hoisted_name(plan, plan.hoisted[0].node_id)
    leaves = {hoisted_name(plan, g.input_node) for g in plan.groups} - {snv}
    assert len(leaves) == 4 and set(hook.hoisted) == leaves | {snv}  # sg7, sg11, sg15, detrend
    assert max(len(alive & leaves) for alive in hook.alive.values()) == 1
    # The refit holds none of the leaves (it rebuilds what it refits). The SNV prefix may stay: Hamilton frees a
    # result only while every node that read it is still held, and its first freed child no longer is.
    assert hook.alive["refit_models"] <= {snv}
    refit = {r.group_id for r in nirdag.build_driver(plan, tecator).execute(["chain_ranking"])["chain_ranking"][:3]}
    assert {g.input_node for g in plan.groups if g.group_id in refit} - {plan.hoisted[0].node_id}  # rebuilt ones


def test_the_refit_rebuilds_hoisted_inputs_bit_for_bit(tecator):
    plan = nirdag.compile(HOISTED, tecator)
    assert refit_sources(plan) == {None: "spectra"}
    names = {g.input_node: hoisted_name(plan, g.input_node) for g in plan.groups}
    out = nirdag.build_driver(plan, tecator).execute(list(names.values()))
    for group in plan.groups:
        node = out[names[group.input_node]]
        for sources in ({None: tecator.spectra}, {None: tecator.spectra, plan.hoisted[0].node_id: out[names[
                plan.hoisted[0].node_id]]}):
            rebuilt = compute.group_input(plan, group, sources)
            assert rebuilt.dtype == node.dtype and rebuilt.tobytes() == node.tobytes()
            assert not rebuilt.flags.writeable


def test_a_single_hoisted_input_is_read_by_the_refit_not_rebuilt(tecator):
    """Nothing to free with one hoisted input: the refit reads that matrix (its steps are not computed twice)."""
    spec = {**SPEC, "pipeline": [*SPEC["pipeline"][:2], {"branch": {"plain": [], "msc": [{"op": "msc"}]}},
                                 SPEC["pipeline"][-1]]}
    hook = _Inputs()
    nirdag.build_driver(spec, tecator, hook).execute(["refit_models"])
    (snv,) = [n for n in hook.seen if n.startswith("snv__")]
    cvs = {n for n in hook.seen if n.startswith("cv__")}  # the groups' CV records carry the kept fold fits
    assert len(cvs) == 2
    assert set(hook.seen["refit_models"]) == {"chain_ranking", "refit_choice", snv, "targets", *cvs}
