"""View compilation on real runs: repetition metadata, join inference, policy wiring, fingerprints, scan metrics."""

from __future__ import annotations

import json

import msgspec
import numpy as np
import pytest

import nirdag
from datafusion_engine import QueryError
from datafusion_engine.scan_metrics import ScanMetrics
from nirs_core.data import SpectraDataset
from relspec.policy import ExecutionPolicy, ScanPolicy
from semantics import JoinInferenceError, ViewPolicyError, compile_view, open_session
from semantics.catalog import V_AGGREGATED_SCORES, V_CHAIN_SCORES
from semantics.kinds import Column, Join, Project, Scan, ViewSpec
from semantics.records import read_view_decisions

SPEC = {"name": "reps", "target": "y", "seed": 0, "pipeline": [
    {"split": {"kind": "group_kfold", "n_splits": 3, "groups": "sample_group"}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 3]}}}]}


def _repetitions(n_physical: int = 30, reps: int = 3) -> SpectraDataset:
    """Each physical sample measured ``reps`` times (small noise), grouped by the `sample_group` metadata."""
    base = nirdag.datasets.synthetic(n_physical, 40, seed=1, test_fraction=0.0)
    rng = np.random.default_rng(2)
    rows = np.repeat(np.arange(n_physical), reps)
    spectra = base.spectra[rows] + rng.normal(0, 1e-3, size=(rows.size, base.n_wavelengths))
    test = rows >= n_physical - 6
    return SpectraDataset(
        name="reps", sample_ids=[f"r{i}" for i in range(rows.size)], spectra=spectra, wavelengths=base.wavelengths,
        wavelength_unit="nm", targets={"y": base.target("y")[rows]}, partition=np.where(test, "test", "train"),
        metadata={"sample_group": [f"g{r}" for r in rows], "instrument": ["A" if i % 2 else "B"
                                                                          for i in range(rows.size)]})


@pytest.fixture(scope="module")
def reps(tmp_path_factory):
    ws = tmp_path_factory.mktemp("views") / "ws"
    dataset = _repetitions()
    first = nirdag.run(SPEC, dataset, workspace=ws)
    second = nirdag.run(SPEC, dataset, workspace=ws, seed=1)
    return first, second, dataset


def test_aggregated_predictions_and_scores_match_numpy_group_means(reps):
    run, _, dataset = reps
    group_of = dict(zip(dataset.sample_ids.tolist(), dataset.metadata["sample_group"].to_pylist(), strict=True))
    chain = run.best["chain_id"]
    t = run.sql(f"SELECT fold_id, sample_id, y_true, y_pred FROM predictions WHERE run_id = '{run.run_id}' "
                f"AND chain_id = '{chain}' AND partition = 'val'")
    fold, sample = np.asarray(t["fold_id"].to_pylist()), t["sample_id"].to_pylist()
    group = np.asarray([group_of[s] for s in sample])
    y, p = t["y_true"].to_numpy(), t["y_pred"].to_numpy()
    where = f"run_id = '{run.run_id}' AND chain_id = '{chain}' AND partition = 'val' AND group_column = 'sample_group'"
    rows = run.sql(f"SELECT * FROM v_aggregated_predictions WHERE {where}").to_pylist()
    assert len(rows) == 24 and all(r["n_samples"] == 3 for r in rows)  # 24 training groups, 3 repetitions each
    for row in rows:
        mine = (fold == row["fold_id"]) & (group == row["group_value"])
        assert row["y_pred"] == pytest.approx(p[mine].mean(), rel=1e-12)
    for row in run.sql(f"SELECT * FROM v_aggregated_scores WHERE {where}").to_pylist():
        gy, gp = [], []
        for g in np.unique(group[fold == row["fold_id"]]):
            mine = (fold == row["fold_id"]) & (group == g)
            gy.append(y[mine].mean())
            gp.append(p[mine].mean())
        e = np.asarray(gp) - np.asarray(gy)
        assert row["n_groups"] == len(gy)
        assert row["rmse"] == pytest.approx(np.sqrt(np.mean(e**2)), rel=1e-9)
        assert row["bias"] == pytest.approx(e.mean(), rel=1e-9)


def test_the_inferred_joins_are_recorded_in_the_run_provenance(reps):
    run, _, _ = reps
    decisions = read_view_decisions(run.handle, run.run_id)
    by_view = {v.view: v for v in decisions.views}
    (predictions_chains, with_spectra) = by_view["v_aggregated_predictions"].joins
    assert predictions_chains.roles == ("run_id", "chain_id")
    assert with_spectra.roles == ("dataset_id", "sample_id")
    assert with_spectra.left_keys == ("dataset_hash", "sample_id") and with_spectra.confidence == "exact"
    assert by_view["v_aggregated_scores"].functions == ("bias", "mae", "r2", "rmse", "rpd", "sep")


def _custom(session, root) -> None:
    compile_view(ViewSpec(name="v_custom", description="test", root=root), session.session)


def test_join_on_a_role_carried_by_two_columns_is_refused_with_the_candidates(reps):
    session = open_session(reps[0].handle)
    # a column copied under a new name keeps its role: two columns now carry `sample_id`
    twice = Project(input=Scan(table="predictions"),
                    columns=(Column(name="sample_id"), Column(name="sample_copy", expr="sample_id")))
    ambiguous = Join(left=twice, on=("sample_id",),
                     right=Project(input=Scan(table="spectra"), columns=(Column(name="sample_id"), Column(name="row"))))
    with pytest.raises(JoinInferenceError, match="ambiguous on the left side: candidates sample_copy, sample_id"):
        _custom(session, ambiguous)


def test_join_on_a_role_no_column_carries_is_refused(reps):
    session = open_session(reps[0].handle)
    impossible = Join(left=Scan(table="scores"), right=Scan(table="spectra"), on=("sample_id",))
    with pytest.raises(JoinInferenceError, match="no column with role 'sample_id' on the left side"):
        _custom(session, impossible)


def test_policy_without_a_udf_a_view_needs_fails_clearly(reps):
    policy = ExecutionPolicy(udf_requirements=("rmse", "bias", "sep", "mae", "rpd"))  # no r2
    with pytest.raises(ViewPolicyError, match=r"v_aggregated_scores.*needs the SQL function\(s\) r2"):
        open_session(reps[0].handle, policy=policy)


def test_session_registers_exactly_the_policy_udfs_and_views(reps):
    policy = ExecutionPolicy(udf_requirements=("rmse",), views=("v_ranked_chains", "v_chain_scores"))
    session = open_session(reps[0].handle, policy=policy)
    assert sorted(session.views) == ["v_chain_scores", "v_ranked_chains"]
    assert session.sql("SELECT count(*) AS n FROM v_chain_scores")["n"][0].as_py() == 6
    session.sql("SELECT rmse(y_true, y_pred) FROM predictions")
    with pytest.raises(QueryError, match="r2"):
        session.sql("SELECT r2(y_true, y_pred) FROM predictions")
    with pytest.raises(QueryError, match="v_top_chains"):
        session.sql("SELECT * FROM v_top_chains")


def test_policy_scan_tables_and_completed_runs_gate(reps):
    no_spectra = ExecutionPolicy(scan=ScanPolicy(tables=("runs", "chains", "scores", "predictions", "datasets")))
    with pytest.raises(ViewPolicyError, match="scans table\\(s\\) spectra"):
        open_session(reps[0].handle, policy=no_spectra)
    everything = ExecutionPolicy(views=("v_chain_scores",), scan=ScanPolicy(completed_runs_only=False))
    assert "runs" not in open_session(reps[0].handle, policy=everything).views["v_chain_scores"].tables


def test_join_strategy_reaches_the_physical_plan(reps):
    for strategy, operator in (("hash", "HashJoinExec"), ("sort_merge", "SortMergeJoin")):
        policy = ExecutionPolicy(views=("v_ranked_chains",), join_strategy=strategy)
        view = open_session(reps[0].handle, policy=policy).views["v_ranked_chains"]
        assert operator in view.dataframe.execution_plan().display_indent()


def test_fingerprint_is_stable_and_follows_table_versions(reps):
    first, second, _ = reps
    a = open_session(first.handle).views[V_CHAIN_SCORES.name]
    b = open_session(first.handle).views[V_CHAIN_SCORES.name]
    assert a.fingerprint == b.fingerprint and len(a.fingerprint) == 64
    between = first.sql(f"SELECT started_at FROM runs WHERE run_id = '{second.run_id}'")["started_at"][0].as_py()
    older = open_session(first.handle, as_of=between).views[V_CHAIN_SCORES.name]  # before the second run
    assert older.versions != a.versions and older.fingerprint != a.fingerprint
    assert older.plan == a.plan  # same plan text: only the versions read differ
    assert V_AGGREGATED_SCORES.name in open_session(first.handle).views


def test_scan_metrics_of_a_run_filter(reps):
    first = reps[0]
    query = f"SELECT count(*) AS n FROM predictions WHERE run_id = '{first.run_id}'"
    gated, gated_metrics = nirdag.Workspace(first.workspace).sql_with_metrics(query)
    assert [t.table for t in gated_metrics.tables] == ["predictions", "runs"]  # completed runs only: runs is read
    table, metrics = nirdag.Workspace(first.workspace).sql_with_metrics(query, all_runs=True)
    assert table == gated
    total = first.sql("SELECT count(*) AS n FROM predictions")["n"][0].as_py()
    assert table["n"][0].as_py() * 2 == total  # two runs of the same spec: same row count each
    (predictions,) = metrics.tables
    assert predictions.table == "predictions" and predictions.files >= 2
    assert metrics.files_scanned + metrics.files_pruned == metrics.files_total == predictions.files
    assert metrics.files_scanned == predictions.files  # one partition per file: opened files are files
    assert metrics.rows_read == metrics.rows_total == predictions.rows == total and metrics.rows_out == 1
    # deltalake 1.6.6's DataFusion provider takes no filters (docs/plans/semantic-views.md): nothing is pruned.
    assert predictions.filters_pushed is False and metrics.files_pruned == 0
    path = first.workspace / "provenance" / "scans" / f"{metrics.fingerprint}.json"
    assert msgspec.json.decode(path.read_bytes(), type=ScanMetrics) == metrics
    assert json.loads(path.read_text())["query"] == query
