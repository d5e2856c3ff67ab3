"""Multi-target regression: several numeric targets predicted together (PLS2, multi-output models), end to end.

Reference: scikit-learn on the 3-column target matrix of Tecator (fat, moisture, protein). scikit-learn's
PLSRegression fits PLS2 by NIPALS iterations that stop at ``tol=1e-6`` by default (predictions then differ from the
exact PLS2 in the 7th digit); with ``tol=1e-15`` it converges to the exact fit our IKPLS backend computes, up to
the rounding NIPALS' deflations accumulate (~2e-9 relative at 14 components), hence rtol=1e-8 for PLS2 here.
"""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import yaml
from sklearn.compose import TransformedTargetRegressor
from sklearn.cross_decomposition import PLSRegression
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import cross_val_predict
from sklearn.preprocessing import StandardScaler

import nirdag
from nirdag.bundle import wide_predictions
from nirs_core.data import SpectraDataset
from nirs_core.operators import SNV, SavitzkyGolay
from relspec import ALL_TARGETS, CompileError, SpecError

TARGETS = ["fat", "moisture", "protein"]
SPLIT = {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}
SPEC = {"target": TARGETS, "seed": 3, "refit": {"top_k": 2}, "pipeline": [
    SPLIT, {"branch": {"raw": [], "snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
    {"model": {"op": "pls", "n_components": [2, 6, 10, 14]}}]}


def _pls(k: int) -> PLSRegression:
    return PLSRegression(k, scale=False, tol=1e-15, max_iter=100_000)


@pytest.fixture(scope="module")
def run(tecator, tmp_path_factory):
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("multi") / "ws")


def _train_test(run, data):
    train = np.asarray(run.plan.final_fold.train_rows)
    test = np.asarray(run.plan.test_rows)
    Y = np.column_stack([data.target(t) for t in TARGETS])
    folds = [(np.searchsorted(train, f.train_rows), np.searchsorted(train, f.val_rows)) for f in run.plan.folds]
    return train, test, Y, folds


def _scores(run, where: str) -> dict[tuple[str, int, str], float]:
    rows = run.sql("SELECT c.branch_name, c.n_components, s.target, s.value FROM scores s JOIN chains c "
                   f"USING (run_id, chain_id) WHERE s.run_id = '{run.run_id}' AND {where}").to_pylist()
    return {(r["branch_name"], r["n_components"], r["target"]): r["value"] for r in rows}


def _inputs(name: str, X: np.ndarray, fit_rows: np.ndarray) -> np.ndarray:
    """The preprocessed spectra of a branch: SNV row-wise, MSC on the mean spectrum of ``fit_rows`` (as the engine
    fits it at refit)."""
    if name == "raw":
        return X
    if name == "snv":
        return SNV().fit_transform(X)
    reference = X[fit_rows].mean(axis=0)
    fits = np.array([np.polyfit(reference, row, 1) for row in X])  # row = intercept + slope * reference
    return (X - fits[:, 1:2]) / fits[:, :1]


def test_pooled_rmsecv_of_every_target_equals_sklearn_pls2(run, tecator):
    train, _, Y, folds = _train_test(run, tecator)
    stored = _scores(run, "s.fold_id = 'cv' AND s.metric = 'rmse'")
    assert {t for (_, _, t) in stored} == set(TARGETS)
    X = tecator.spectra[train]
    for name in ("raw", "snv"):
        Xb = _inputs(name, X, np.arange(X.shape[0]))
        for k in (2, 6, 10, 14):
            pred = cross_val_predict(_pls(k), Xb, Y[train], cv=folds)
            expected = np.sqrt(((pred - Y[train]) ** 2).mean(axis=0))
            got = [stored[(name, k, t)] for t in TARGETS]
            np.testing.assert_allclose(got, expected, rtol=1e-8)


def test_ranking_is_the_mean_of_rmsecv_over_each_targets_sd_and_sql_reproduces_it(run, tecator):
    train, _, Y, _ = _train_test(run, tecator)
    assert run.plan.rank_metric == "mean_nrmse" and run.plan.refit.target is None
    sd = Y[train].std(axis=0, ddof=1)
    rmsecv = _scores(run, "s.fold_id = 'cv' AND s.metric = 'rmse'")
    stored = _scores(run, f"s.fold_id = 'cv' AND s.target = '{ALL_TARGETS}' AND s.metric = 'mean_nrmse'")
    chains = {(b, k) for (b, k, _) in rmsecv}
    assert {(b, k) for (b, k, _) in stored} == chains
    for b, k in chains:
        expected = np.mean([rmsecv[(b, k, t)] / s for t, s in zip(TARGETS, sd, strict=True)])
        assert stored[(b, k, ALL_TARGETS)] == pytest.approx(expected, rel=1e-12)
    top = run.top(20).to_pylist()
    assert [r["mean_nrmse"] for r in top] == sorted(stored[(b, k, ALL_TARGETS)] for b, k in chains)
    assert [r["refit"] for r in top[:3]] == [True, True, False]
    best = run.best
    assert set(best) >= {f"rmsecv_{t}" for t in TARGETS} | {f"rmsep_{t}" for t in TARGETS}
    assert best["rmsecv_fat"] == pytest.approx(rmsecv[(best["branch_name"], best["n_components"], "fat")])
    (summary,) = run.sql(f"SELECT * FROM v_runs WHERE run_id = '{run.run_id}'").to_pylist()
    assert (summary["best_chain_id"], summary["rank_metric"]) == (best["chain_id"], "mean_nrmse")
    assert summary["best_cv_value"] == best["mean_nrmse"] and summary["best_rmsecv"] is None
    (shown,) = nirdag.Workspace(run.workspace).run_summary(run.run_id).to_pylist()
    assert (shown["best_rmsecv"], shown["best_cv_value"]) == (None, best["mean_nrmse"])
    # '*' is no target: per-target views leave it out (runs with other target sets would not compare)
    for view in ("v_top_chains", "v_chain_scores"):
        targets = run.sql(f"SELECT DISTINCT target FROM {view} WHERE run_id = '{run.run_id}'").column(0).to_pylist()
        assert sorted(targets) == sorted(TARGETS), view
    ranking = run.provenance.get("ranking")
    assert ranking.summary == "12 chains ranked by pooled CV mean_nrmse over targets fat, moisture, protein"


def test_refit_rmsep_of_every_target_equals_sklearn(run, tecator):
    train, test, Y, _ = _train_test(run, tecator)
    rmsep = _scores(run, "s.fold_id = 'fold_final' AND s.partition = 'test' AND s.metric = 'rmse'")
    refit = {(b, k) for (b, k, _) in rmsep}
    assert len(refit) == 2
    for name, k in refit:
        Xall = _inputs(name, tecator.spectra, train)
        pred = _pls(k).fit(Xall[train], Y[train]).predict(Xall[test])
        expected = np.sqrt(((pred - Y[test]) ** 2).mean(axis=0))
        np.testing.assert_allclose([rmsep[(name, k, t)] for t in TARGETS], expected, rtol=1e-8)


def test_predictions_table_has_one_row_per_sample_and_target(run):
    rows = run.sql(f"SELECT target, count(*) AS n FROM predictions WHERE run_id = '{run.run_id}' AND fold_id = "
                   "'fold_final' AND partition = 'test' GROUP BY target ORDER BY target").to_pylist()
    assert [r["target"] for r in rows] == sorted(TARGETS)
    assert len({r["n"] for r in rows}) == 1
    per_target = run.sql("SELECT target, rank FROM v_ranked_chains WHERE rank = 1 ORDER BY target").to_pylist()
    assert [r["target"] for r in per_target] == sorted(TARGETS)


def test_bundle_predicts_every_target_as_the_run_stored_it(run, tecator, tmp_path):
    path = run.export(path=tmp_path / "multi.nirdag")
    out = nirdag.predict(path, tecator, fold_mean=True).to_pylist()
    assert len(out) == tecator.n_samples * len(TARGETS)
    assert [r["target"] for r in out[:: tecator.n_samples]] == TARGETS
    got = {(r["sample_id"], r["target"]): r["y_pred"] for r in out}
    stored = run.sql(f"SELECT p.sample_id, p.target, p.y_pred FROM predictions p JOIN chains c USING (run_id, "
                     f"chain_id) WHERE p.run_id = '{run.run_id}' AND p.chain_id = '{run.best['chain_id']}' AND "
                     "p.fold_id = 'fold_final' AND p.partition = 'test'").to_pylist()
    assert len(stored) == len(run.plan.test_rows) * len(TARGETS)
    assert max(abs(got[(s["sample_id"], s["target"])] - s["y_pred"]) for s in stored) == 0.0
    assert all(np.isfinite(r["y_pred_fold_mean"]) for r in out)
    wide = wide_predictions(nirdag.predict(path, tecator, fold_mean=True))
    assert wide.column_names == ["sample_id", *(f"{t}{s}" for t in TARGETS for s in ("", "_fold_mean"))]
    assert wide.column("sample_id").to_pylist() == tecator.sample_ids.tolist()
    for row in wide.to_pylist():
        for t in TARGETS:
            assert got[(row["sample_id"], t)] == row[t]


def test_refit_target_ranks_on_that_targets_rmsecv(tecator, tmp_path):
    spec = {**SPEC, "refit": {"target": "fat"}}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    assert (run.plan.rank_metric, run.plan.refit.target) == ("rmse", "fat")
    fat = _scores(run, "s.fold_id = 'cv' AND s.metric = 'rmse' AND s.target = 'fat'")
    best = min(fat.items(), key=lambda kv: kv[1])
    assert (run.best["branch_name"], run.best["n_components"]) == best[0][:2]
    assert run.best["rmse"] == best[1]
    (summary,) = run.sql(f"SELECT * FROM v_runs WHERE run_id = '{run.run_id}'").to_pylist()
    assert (summary["best_chain_id"], summary["best_rmsecv"]) == (run.best["chain_id"], best[1])
    assert run.provenance.get("ranking").summary.endswith("ranked by pooled CV rmse of target 'fat'")
    chosen = run.sql("SELECT branch_name, n_components FROM chains WHERE refit").to_pylist()
    assert [(c["branch_name"], c["n_components"]) for c in chosen] == [best[0][:2]]


def test_y_processing_equals_transformed_target_regressor_on_the_target_matrix(tecator, tmp_path):
    spec = {"target": TARGETS, "pipeline": [SPLIT, {"y_processing": {"op": "standard"}},
                                            {"model": {"op": "pls", "n_components": [4, 8]}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    train, _, Y, folds = _train_test(run, tecator)
    by_count = {(k, t): v for (_, k, t), v in _scores(run, "s.fold_id = 'cv' AND s.metric = 'rmse'").items()}
    for k in (4, 8):
        model = TransformedTargetRegressor(_pls(k), transformer=StandardScaler())
        pred = cross_val_predict(model, tecator.spectra[train], Y[train], cv=folds)
        expected = np.sqrt(((pred - Y[train]) ** 2).mean(axis=0))
        np.testing.assert_allclose([by_count[(k, t)] for t in TARGETS], expected, rtol=1e-8)


def test_a_multi_output_sklearn_regressor_and_a_stack_over_targets(tecator, tmp_path):
    ridge = {"op": "sklearn", "estimator": "sklearn.linear_model.Ridge", "params": {"alpha": 1e-6}}
    spec = {"target": TARGETS, "pipeline": [
        SPLIT, {"branch": {"pls": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 10}}],
                           "ridge": [{"op": "savgol", "window_length": 11, "deriv": 1}, {"model": ridge}]}},
        {"merge": "predictions"}, {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LinearRegression"}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    train, test, Y, folds = _train_test(run, tecator)
    stored = _scores(run, "s.fold_id = 'cv' AND s.metric = 'rmse'")
    Xsg = SavitzkyGolay(window_length=11, deriv=1).fit_transform(tecator.spectra)
    pred = cross_val_predict(Ridge(alpha=1e-6), Xsg[train], Y[train], cv=folds)
    expected = np.sqrt(((pred - Y[train]) ** 2).mean(axis=0))
    np.testing.assert_allclose([stored[("ridge", None, t)] for t in TARGETS], expected, rtol=1e-7)
    # the stack's meta-model sees every base's out-of-fold prediction of every target (6 columns, base by base):
    # rebuilt from the stored out-of-fold predictions, applied to the refit bases' stored test predictions
    ids = tecator.sample_ids

    def columns(branch: str, fold: str, partition: str, rows: np.ndarray) -> np.ndarray:
        got = run.sql("SELECT p.sample_id, p.target, p.y_pred FROM predictions p JOIN chains c USING (run_id, "
                      f"chain_id) WHERE c.branch_name = '{branch}' AND p.fold_id {fold} AND p.partition = "
                      f"'{partition}'").to_pylist()
        value = {(r["sample_id"], r["target"]): r["y_pred"] for r in got}
        return np.array([[value[(ids[i], t)] for t in TARGETS] for i in rows])

    oof = np.hstack([columns(b, "LIKE 'fold_%' AND p.fold_id <> 'fold_final'", "val", train) for b in ("pls", "ridge")])
    on_test = np.hstack([columns(b, "= 'fold_final'", "test", test) for b in ("pls", "ridge")])
    expected = LinearRegression().fit(oof, Y[train]).predict(on_test)
    np.testing.assert_allclose(columns("stack", "= 'fold_final'", "test", test), expected, rtol=1e-9, atol=1e-9)
    path = run.export(chain=run.sql("SELECT chain_id FROM chains WHERE branch_name = 'stack'").column(0)[0].as_py(),
                      path=tmp_path / "stack.nirdag")
    got = {(r["sample_id"], r["target"]): r["y_pred"] for r in nirdag.predict(path, tecator).to_pylist()}
    rows = run.sql("SELECT p.sample_id, p.target, p.y_pred FROM predictions p JOIN chains c USING (run_id, chain_id) "
                   "WHERE c.branch_name = 'stack' AND p.fold_id = 'fold_final' AND p.partition = 'test'").to_pylist()
    assert len(rows) == len(test) * len(TARGETS)
    assert max(abs(got[(r["sample_id"], r["target"])] - r["y_pred"]) for r in rows) < 1e-9


def test_one_target_as_a_list_is_the_same_pipeline(tecator):
    single = nirdag.compile({**SPEC, "target": "fat", "refit": {}}, tecator)
    listed = nirdag.compile({**SPEC, "target": ["fat"], "refit": {}}, tecator)
    assert single.pipeline_hash == listed.pipeline_hash and single.targets == listed.targets == ("fat",)
    assert single.rank_metric == listed.rank_metric == "rmse"


@pytest.mark.parametrize(("change", "error", "message"), [
    ({"target": ["fat", "oil"]}, CompileError, r"target 'oil' \(at `\$\.target\[1\]`\) is not a column"),
    ({"target": ["fat", "fat"]}, CompileError, r"target 'fat' is listed twice - at `\$\.target\[1\]`"),
    ({"target": []}, SpecError, r"\$\.target"),
    ({"refit": {"target": "oil"}}, CompileError, r"refit target 'oil' is not one of the spec's targets.*"
                                                  r"`\$\.refit\.target`"),
    ({"refit": {"metric": "mean_nrmse", "target": "fat"}}, CompileError, r"`\$\.refit\.target`"),
    ({"refit": {"metric": "rmse", "top_k": 1}}, CompileError,
     r"refit metric 'rmse' ranks one target, and the spec has 3: add `refit: \{target: \.\.\.\}`.*mean_nrmse.*"
     r"`\$\.refit\.metric`"),
    ({"pipeline": [SPLIT, {"model": {"op": "sklearn", "estimator": "sklearn.svm.SVR"}}]}, CompileError,
     r"cannot be fitted on 3 targets at once.*`\$\.pipeline\[1\]\.model`"),
])
def test_bad_multi_target_specs_name_the_spec_path(tecator, change, error, message):
    with pytest.raises(error, match=message):
        nirdag.compile({**SPEC, **change}, tecator)


def test_a_label_target_cannot_join_numeric_targets(tecator):
    labels = np.where(tecator.target("fat") > 15, "high", "low")
    data = SpectraDataset(
        name="labelled", spectra=tecator.spectra, wavelengths=tecator.wavelengths,
        wavelength_unit=tecator.wavelength_unit, sample_ids=tecator.sample_ids,
        targets={"fat": tecator.target("fat"), "grade": labels}, partition=tecator.partition)
    with pytest.raises(CompileError, match=r"target 'grade' holds class labels.*`\$\.target\[1\]`"):
        nirdag.compile({**SPEC, "target": ["fat", "grade"]}, data)


def test_a_missing_value_in_one_target_names_that_target(tecator, tmp_path):
    protein = tecator.target("protein").copy()
    protein[np.asarray(tecator.rows("train"))[3]] = np.nan
    data = SpectraDataset(
        name="gappy", spectra=tecator.spectra, wavelengths=tecator.wavelengths,
        wavelength_unit=tecator.wavelength_unit, sample_ids=tecator.sample_ids,
        targets={"fat": tecator.target("fat"), "moisture": tecator.target("moisture"), "protein": protein},
        partition=tecator.partition)
    plan = nirdag.compile(SPEC, data)
    (finding,) = [f for f in plan.validation.findings if f.code == "missing_target"]
    assert "1 train and 0 test rows have no value of 'protein' (1 train, 0 test)" in finding.message
    assert int(np.asarray(tecator.rows("train"))[3]) not in plan.final_fold.train_rows


def test_the_cli_ranks_a_multi_target_run(tmp_path):
    spec = tmp_path / "multi.yaml"
    spec.write_text(yaml.safe_dump({**SPEC, "pipeline": [SPLIT, {"model": {"op": "pls", "n_components": [5, 9]}}]}))
    out = subprocess.run([sys.executable, "-m", "nirdag", "run", str(spec), "--workspace", str(tmp_path / "ws"),
                          "--quiet"], capture_output=True, text=True, check=True,
                         env={**os.environ, "COLUMNS": "250"}).stdout
    assert "mean RMSECV/SD over the targets" in out
    assert "rmsecv_moisture" in out
    run_id = nirdag.Workspace(tmp_path / "ws").runs().column("run_id")[0].as_py()
    data = tmp_path / "new.csv"
    spectra = nirdag.datasets.tecator().spectra[:2]
    header = ",".join(repr(float(w)) for w in nirdag.datasets.tecator().wavelengths)
    data.write_text(f"id,{header}\n" + "".join(f"s{i}," + ",".join(map(repr, row.tolist())) + "\n"
                                                for i, row in enumerate(spectra)), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nirdag", "predict", str(data), "--run", run_id, "--workspace",
                           str(tmp_path / "ws"), "--id-column", "id", "--wide", "-o", str(tmp_path / "wide.csv")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "2 spectra to predict x 100 spectral columns" in done.stderr
    lines = (tmp_path / "wide.csv").read_text().splitlines()
    assert lines[0] == '"sample_id","fat","moisture","protein"' and len(lines) == 3
