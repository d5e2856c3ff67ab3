"""Rank once: the engine's ranking is stored in `chains` (rank, cv_loss) and the views read it.

Runs of each kind: single-target regression (the Tecator example), classification (PLS-DA by balanced accuracy),
several targets (ranked by mean_nrmse, and by one target's RMSECV) and a stack (`merge: predictions`).
"""

from __future__ import annotations

import shutil

import numpy as np
import pyarrow as pa
import pytest
from deltalake import DeltaTable, write_deltalake

import nirdag
from datafusion_engine import Workspace
from datafusion_engine.schemas import TABLE_SCHEMAS, ChainRow
from hamilton_pipeline.driver_factory import TARGETS, cv_name, stack_name
from nirdag.bundle import BundleError
from nirs_modelling.compute import rank_chains
from relspec import ALL_TARGETS
from semantics import open_session

SPLIT = {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}}
MULTI = {"target": ["fat", "moisture", "protein"], "seed": 3, "pipeline": [
    SPLIT, {"branch": {"raw": [], "snv": [{"op": "snv"}]}}, {"model": {"op": "pls", "n_components": [2, 6, 10]}}]}
SPECS = {
    "classification": {"target": "grade", "seed": 0, "refit": {"top_k": 2}, "pipeline": [
        SPLIT, {"branch": {"raw": [], "snv": [{"op": "snv"}]}}, {"model": {"op": "plsda", "n_components": [2, 5, 9]}}]},
    "multi_target": MULTI,
    "multi_target_on_fat": {**MULTI, "refit": {"target": "fat"}},
    "stacked": {"target": "fat", "seed": 1, "pipeline": [
        SPLIT, {"branch": {"snv": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 9}}],
                           "msc": [{"op": "msc"}, {"model": {"op": "pls", "n_components": 7}}]}},
        {"merge": "predictions"}, {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.Ridge"}}]},
}
KINDS = ("regression", *SPECS)


@pytest.fixture(scope="module")
def runs(tecator_run, tecator, labelled, tmp_path_factory) -> dict:
    workspace = tmp_path_factory.mktemp("rank_once") / "ws"
    return {"regression": tecator_run,
            **{kind: nirdag.run(spec, labelled if kind == "classification" else tecator, workspace=workspace)
               for kind, spec in SPECS.items()}}


def _chains(run) -> list[dict]:
    return run.sql("SELECT chain_id, branch_name, n_components, rank, cv_loss, rank_metric, rank_target FROM chains "
                   f"WHERE run_id = '{run.run_id}' ORDER BY rank").to_pylist()


def _engine_ranking(run) -> list:
    """nirs_modelling's rank_chains on the run's pooled CV predictions, computed again by the run's own nodes."""
    plan = run.plan
    groups = [cv_name(g) for g in plan.groups] + [stack_name(s) for s in plan.stacks]
    out = nirdag.build_driver(plan, run.dataset).execute([*groups, TARGETS])
    return list(rank_chains(plan, [out[n] for n in groups], out[TARGETS]))


def _pooled(run, metric: str, target: str) -> dict[str, float]:
    rows = run.sql(f"SELECT chain_id, value FROM scores WHERE run_id = '{run.run_id}' AND fold_id = 'cv' AND "
                   f"partition = 'val' AND metric = '{metric}' AND target = '{target}'").to_pylist()
    return {r["chain_id"]: r["value"] for r in rows}


@pytest.mark.parametrize("kind", KINDS)
def test_chains_hold_rank_1_to_n_in_the_order_of_top_and_of_rank_chains(runs, kind):
    run = runs[kind]
    chains = _chains(run)
    assert [c["rank"] for c in chains] == list(range(1, len(run.plan.chains) + 1))
    ranking = _engine_ranking(run)
    assert [c["chain_id"] for c in chains] == [r.chain_id for r in ranking]
    assert [c["cv_loss"] for c in chains] == [r.cv_loss for r in ranking]
    top = run.top(len(chains)).to_pylist()
    assert [t["chain_id"] for t in top] == [c["chain_id"] for c in chains]
    if kind == "stacked":
        assert "stack" in {c["branch_name"] for c in chains}


@pytest.mark.parametrize("kind", KINDS)
def test_cv_loss_is_the_stored_pooled_score_of_the_rank_metric(runs, kind):
    run = runs[kind]
    chains = _chains(run)
    metric, target = run.plan.rank_metric, chains[0]["rank_target"]
    assert {(c["rank_metric"], c["rank_target"]) for c in chains} == {(metric, target)}
    stored = _pooled(run, metric, target)
    sign = {"regression": 1.0, "classification": -1.0}.get(run.plan.task)
    expected = {"regression": ("rmse", "fat"), "classification": ("balanced_accuracy", "grade"),
                "multi_target": ("mean_nrmse", ALL_TARGETS), "multi_target_on_fat": ("rmse", "fat"),
                "stacked": ("rmse", "fat")}[kind]
    assert (metric, target) == expected
    for c in chains:
        assert c["cv_loss"] == pytest.approx(sign * stored[c["chain_id"]], rel=1e-12, abs=1e-15)
    if kind == "multi_target":  # mean_nrmse recomputed: the mean over targets of RMSECV / SD of the train values
        train = np.asarray(run.plan.final_fold.train_rows)
        rmsecv = {t: _pooled(run, "rmse", t) for t in run.plan.targets}
        sd = {t: run.dataset.target(t)[train].std(ddof=1) for t in run.plan.targets}
        for c in chains:
            recomputed = np.mean([rmsecv[t][c["chain_id"]] / sd[t] for t in run.plan.targets])
            assert c["cv_loss"] == pytest.approx(recomputed, rel=1e-12)


@pytest.mark.parametrize("kind", KINDS)
def test_v_runs_best_chain_is_the_rank_1_chain(runs, kind):
    run = runs[kind]
    (summary,) = run.sql(f"SELECT * FROM v_runs WHERE run_id = '{run.run_id}'").to_pylist()
    best = _chains(run)[0]
    assert best["rank"] == 1
    assert summary["best_chain_id"] == best["chain_id"] == run.best["chain_id"]
    assert summary["rank_metric"] == run.plan.rank_metric
    stored = _pooled(run, run.plan.rank_metric, best["rank_target"])
    assert summary["best_cv_value"] == stored[best["chain_id"]]


@pytest.mark.parametrize("kind", KINDS)
def test_ranking_views_read_chains_rank_where_the_run_ranks(runs, kind):
    run = runs[kind]
    stored = {c["chain_id"]: c["rank"] for c in _chains(run)}
    if kind == "classification":
        view = run.sql(f"SELECT chain_id, rank FROM v_ranked_classifiers WHERE run_id = '{run.run_id}'").to_pylist()
        assert {r["chain_id"]: r["rank"] for r in view} == stored
        return
    rows = run.sql(f"SELECT chain_id, target, rmsecv, rank FROM v_ranked_chains WHERE run_id = '{run.run_id}'")
    by_target: dict[str, dict[str, int]] = {}
    for r in rows.to_pylist():
        by_target.setdefault(r["target"], {})[r["chain_id"]] = r["rank"]
    assert sorted(by_target) == sorted(run.plan.targets)
    for target, ranks in by_target.items():  # every target is ranked 1..n by its own RMSECV
        rmsecv = _pooled(run, "rmse", target)
        assert sorted(ranks, key=ranks.get) == sorted(rmsecv, key=lambda c: (rmsecv[c], c))
    ranked_on = run.plan.refit.target
    if ranked_on is not None:  # the run ranked by this target's RMSECV: its ranking is the stored one
        assert by_target[ranked_on] == stored


def test_rank_is_in_the_chains_schema_nullable():
    chains = TABLE_SCHEMAS["chains"]
    assert (chains.field("rank").type, chains.field("cv_loss").type) == (pa.int64(), pa.float64())
    assert chains.field("rank").nullable and chains.field("cv_loss").nullable
    assert chains.names[-3:] == ["rank", "cv_loss", "rank_level"]  # appended after them: what the ranking scored


def test_a_chains_table_of_an_older_version_upgrades_with_null_ranks(tecator_run, tmp_path):
    """A chains table written before `rank` and `cv_loss` existed gains them (null in its rows) on the next write."""
    store = Workspace(tmp_path / "ws").store
    stored = tecator_run.sql(f"SELECT * FROM chains WHERE run_id = '{tecator_run.run_id}' ORDER BY rank")
    stored = stored.cast(TABLE_SCHEMAS["chains"])
    older = pa.schema([f for f in TABLE_SCHEMAS["chains"] if f.name not in ("rank", "cv_loss", "rank_level")])
    write_deltalake(store.layout.table("chains"), stored.slice(0, 3).select(older.names).cast(older))
    store.write("chains", stored.slice(3, 2))
    got = DeltaTable(store.layout.table("chains")).to_pyarrow_table().sort_by("chain_id")
    assert got.schema.names == list(ChainRow.__struct_fields__)
    rank = dict(zip(got.column("chain_id").to_pylist(), got.column("rank").to_pylist(), strict=True))
    ids = stored.column("chain_id").to_pylist()[:5]
    assert [rank[c] for c in ids] == [None, None, None, 4, 5]
    assert set(got.column("rank_level").to_pylist()) == {"spectrum"}  # older rankings were all over spectra


def test_views_of_a_run_written_without_ranks(tecator_run, tmp_path):
    """Rows of older runs have null ranks: v_runs names no best chain, v_ranked_chains falls back to its per-target
    window (the same ranks for this run)."""
    root = tmp_path / "ws"
    shutil.copytree(tecator_run.workspace, root)
    before = open_session(Workspace(root)).sql(f"SELECT chain_id, rank FROM v_ranked_chains WHERE run_id = "
                                    f"'{tecator_run.run_id}' ORDER BY rank").to_pylist()
    DeltaTable(root / "tables" / "chains").update(updates={"rank": "CAST(NULL AS BIGINT)",
                                                           "cv_loss": "CAST(NULL AS DOUBLE)"})
    session = open_session(Workspace(root))
    after = session.sql(f"SELECT chain_id, rank FROM v_ranked_chains WHERE run_id = '{tecator_run.run_id}' "
                        "ORDER BY rank").to_pylist()
    assert after == before
    (summary,) = session.sql(f"SELECT * FROM v_runs WHERE run_id = '{tecator_run.run_id}'").to_pylist()
    assert summary["best_chain_id"] is None and summary["n_chains"] == len(before)


def test_best_of_a_run_without_stored_ranks_is_refused_not_guessed(tecator_run, tmp_path):
    """With null ranks 'best' is unknown: export says so instead of picking any refit chain."""
    root = tmp_path / "ws"
    shutil.copytree(tecator_run.workspace, root)
    DeltaTable(root / "tables" / "chains").update(updates={"rank": "CAST(NULL AS BIGINT)"})
    with pytest.raises(BundleError, match="before nirdag stored its ranking"):
        nirdag.export(root, tecator_run.run_id, tmp_path / "m.nirdag")
    chain = tecator_run.best["chain_id"]
    assert nirdag.export(root, tecator_run.run_id, tmp_path / "m.nirdag", chain=chain).is_file()
