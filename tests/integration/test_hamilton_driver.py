"""The Hamilton Driver a run uses, held directly: stable node names, Hamilton's own API and adapters, and
read-only spectra shared between branches (never copied per branch)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from hamilton.lifecycle import NodeExecutionHook
from hamilton.plugins.h_threadpool import FutureAdapter

import nirdag
from hamilton_pipeline import FINAL_NODES

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
