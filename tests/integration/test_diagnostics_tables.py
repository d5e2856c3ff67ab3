"""The diagnostics tables of a real run (Hamilton, Delta, DataFusion) against an independent computation:
scikit-learn's PLSRegression refit on the same preprocessed rows, numpy/scipy formulas, scikit-learn's
confusion matrix and per-class scores."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from sklearn.cross_decomposition import PLSRegression
from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

import nirdag
from nirs_core.operators import SNV

RTOL = 1e-9


def _best(run) -> dict:
    return run.sql(f"SELECT * FROM chains WHERE run_id = '{run.run_id}' AND rank = 1").to_pylist()[0]


def _table(run, name: str, chain_id: str, order: str) -> dict[str, np.ndarray]:
    t = run.sql(f"SELECT * FROM {name} WHERE run_id = '{run.run_id}' AND chain_id = '{chain_id}' ORDER BY {order}")
    return {c: np.asarray(t.column(c).to_pylist(), dtype=object) for c in t.column_names}


@pytest.fixture(scope="module")
def reference(tecator_run, tecator):
    """sklearn's PLS on the SNV train spectra at the best chain's count (the example's best chain is snv + PLS)."""
    best = _best(tecator_run)
    assert best["preprocessing"] == "snv"
    k = best["n_components"]
    train, test = tecator_run.plan.final_fold.train_rows, tecator_run.plan.test_rows
    X = SNV().fit_transform(tecator.spectra)
    y = tecator.target("fat")
    pls = PLSRegression(k, scale=False).fit(X[list(train)], y[list(train)])
    return best, k, X[list(train)], X[list(test)], y[list(train)], y[list(test)], pls


def test_sample_diagnostics_equal_an_independent_computation(tecator_run, reference):
    best, k, Xc, Xt, yc, _, pls = reference
    d = _table(tecator_run, "sample_diagnostics", best["chain_id"], "partition DESC, sample_id")
    n = Xc.shape[0]
    mean = Xc.mean(axis=0)
    T = pls.x_scores_
    s2 = T.var(axis=0, ddof=1)
    train_ids = nirdag.datasets.tecator().sample_ids[list(tecator_run.plan.final_fold.train_rows)]
    order = {s: i for i, s in enumerate(train_ids)}
    train = d["partition"] == "train"
    rows = np.array([order[s] for s in d["sample_id"][train]])
    assert n == train.sum()
    t2 = (T**2 / s2).sum(axis=1)[rows]
    E = (Xc - mean) - T @ pls.x_loadings_.T
    q = (E**2).sum(axis=1)[rows]
    np.testing.assert_allclose(d["t2"][train].astype(float), t2, rtol=RTOL)
    np.testing.assert_allclose(d["q"][train].astype(float), q, rtol=RTOL)
    lev = 1 / n + (T**2 / (T**2).sum(axis=0)).sum(axis=1)[rows]
    np.testing.assert_allclose(d["leverage"][train].astype(float), lev, rtol=RTOL)
    beta = (n - 1) ** 2 / n * stats.beta.ppf(0.95, k / 2, (n - k - 1) / 2)
    f99 = k * (n**2 - 1) / (n * (n - k)) * stats.f.ppf(0.99, k, n - k)
    np.testing.assert_allclose(d["t2_limit_95"][train].astype(float), beta, rtol=RTOL)
    np.testing.assert_allclose(d["t2_limit_99"][~train].astype(float), f99, rtol=RTOL)  # new samples: F, calibration n
    residual = d["y_pred"][train].astype(float) - yc[rows]
    np.testing.assert_allclose(d["residual"][train].astype(float), residual, rtol=1e-12)
    s = np.sqrt(np.sum(residual**2) / (n - k - 1))
    np.testing.assert_allclose(d["studentized_residual"][train].astype(float), residual / (s * np.sqrt(1 - lev)),
                               rtol=1e-9)
    np.testing.assert_allclose(np.abs(d["score_1"][train].astype(float)), np.abs(T[rows, 0]), rtol=1e-7)
    over99 = (d["t2"] > d["t2_limit_99"]) | (d["q"] > d["q_limit_99"])
    over95 = (d["t2"] > d["t2_limit_95"]) | (d["q"] > d["q_limit_95"])
    expected = np.where(over99, "outlier", np.where(over95, "extreme", "regular"))
    assert (d["domain"] == expected).all()
    assert (~train).sum() == Xt.shape[0]


def test_variable_importance_equals_sklearn(tecator_run, reference, tecator):
    best, _, _, _, _, _, pls = reference
    v = _table(tecator_run, "variable_importance", best["chain_id"], "variable")
    W, T, q = pls.x_weights_, pls.x_scores_, pls.y_loadings_[0]
    ss = q**2 * (T**2).sum(axis=0)
    vip = np.sqrt(W.shape[0] * ((W / np.linalg.norm(W, axis=0)) ** 2 @ ss) / ss.sum())
    np.testing.assert_allclose(v["vip"].astype(float), vip, rtol=RTOL)
    np.testing.assert_allclose(v["coefficient"].astype(float), pls.coef_[0], rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(v["wavelength"].astype(float), tecator.wavelengths)
    np.testing.assert_allclose(np.abs(v["loading_1"].astype(float)), np.abs(pls.x_loadings_[:, 0]), rtol=1e-7)


def test_component_curves_match_the_scores_table(tecator_run, reference):
    best, k, *_ = reference
    c = _table(tecator_run, "component_diagnostics", best["chain_id"], "n_components")
    run_id = tecator_run.run_id
    cv = tecator_run.sql(
        "SELECT c.n_components, s.value FROM scores s JOIN chains c USING (run_id, chain_id) WHERE s.run_id = "
        f"'{run_id}' AND s.fold_id = 'cv' AND s.metric = 'rmse' AND c.preprocessing = 'snv' ORDER BY 1").to_pylist()
    np.testing.assert_allclose(c["rmsecv"].astype(float), [r["value"] for r in cv], rtol=1e-12)
    final = {r["partition"]: r["value"] for r in tecator_run.sql(
        f"SELECT partition, value FROM scores WHERE run_id = '{run_id}' AND chain_id = '{best['chain_id']}' AND "
        "fold_id = 'fold_final' AND metric = 'rmse'").to_pylist()}
    at_k = c["n_components"].astype(int) == k
    assert c["rmsec"][at_k][0] == pytest.approx(final["train"], rel=1e-10)
    assert c["rmsep"][at_k][0] == pytest.approx(final["test"], rel=1e-10)
    cum = c["x_explained_cum"].astype(float)
    assert np.all(np.diff(cum) > 0) and cum[-1] <= 1
    np.testing.assert_allclose(np.cumsum(c["y_explained"].astype(float)), c["y_explained_cum"].astype(float))


def test_domains_row_holds_the_limits_the_samples_use(tecator_run, reference):
    best, k, Xc, *_ = reference
    dom = tecator_run.sql(f"SELECT * FROM domains WHERE run_id = '{tecator_run.run_id}'").to_pylist()
    assert [d["chain_id"] for d in dom] == [best["chain_id"]]
    d = dom[0]
    assert (d["n"], d["k"]) == (Xc.shape[0], k) and len(d["score_variances"]) == k
    lim = tecator_run.sql(f"SELECT DISTINCT partition, t2_limit_95, q_limit_99 FROM sample_diagnostics WHERE run_id "
                          f"= '{tecator_run.run_id}' ORDER BY partition").to_pylist()
    assert lim == [{"partition": "test", "t2_limit_95": d["t2_limit_prediction_95"], "q_limit_99": d["q_limit_99"]},
                   {"partition": "train", "t2_limit_95": d["t2_limit_calibration_95"], "q_limit_99": d["q_limit_99"]}]


def test_slope_intercept_rer_and_q2_follow_their_formulas(tecator_run):
    best = _best(tecator_run)
    run_id = tecator_run.run_id
    pred = tecator_run.sql(f"SELECT y_true, y_pred FROM predictions WHERE run_id = '{run_id}' AND chain_id = "
                           f"'{best['chain_id']}' AND partition = 'val'")
    y, yhat = np.asarray(pred.column("y_true")), np.asarray(pred.column("y_pred"))
    scores = {r["metric"]: r["value"] for r in tecator_run.sql(
        f"SELECT metric, value FROM scores WHERE run_id = '{run_id}' AND chain_id = '{best['chain_id']}' AND "
        "fold_id = 'cv'").to_pylist()}
    slope, intercept = np.polyfit(y, yhat, 1)
    e = yhat - y
    sep = np.sqrt(np.sum((e - e.mean()) ** 2) / (len(y) - 1))
    assert scores["slope"] == pytest.approx(slope, rel=1e-10)
    assert scores["intercept"] == pytest.approx(intercept, rel=1e-9)
    assert scores["rer"] == pytest.approx((y.max() - y.min()) / sep, rel=1e-12)
    assert scores["q2"] == pytest.approx(1 - np.sum(e**2) / np.sum((y - y.mean()) ** 2), rel=1e-12)


def test_confusion_and_class_scores_equal_sklearn(labelled, tmp_path):
    spec = {"target": "grade", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "snv"},
        {"model": {"op": "plsda", "n_components": [2, 5]}}]}
    run = nirdag.run(spec, labelled, workspace=tmp_path / "ws")
    classes = list(run.plan.classes)
    for row in run.sql("SELECT chain_id FROM chains").to_pylist():
        chain = row["chain_id"]
        p = run.sql(f"SELECT label_true, label_pred FROM predictions WHERE chain_id = '{chain}' AND partition = 'val'")
        yt, yp = p.column("label_true").to_pylist(), p.column("label_pred").to_pylist()
        cells = run.sql(f"SELECT label_true, label_pred, count FROM confusion WHERE chain_id = '{chain}' AND "
                        "fold_id = 'cv'").to_pylist()
        got = np.zeros((3, 3), dtype=int)
        for c in cells:
            got[classes.index(c["label_true"]), classes.index(c["label_pred"])] = c["count"]
        np.testing.assert_array_equal(got, confusion_matrix(yt, yp, labels=classes))
        prec, rec, f1, sup = precision_recall_fscore_support(yt, yp, labels=classes, zero_division=np.nan)
        per = {r["label"]: r for r in run.sql(f"SELECT * FROM class_scores WHERE chain_id = '{chain}' AND "
                                              "fold_id = 'cv'").to_pylist()}
        for i, label in enumerate(classes):
            assert per[label]["precision"] == pytest.approx(prec[i], nan_ok=True)
            assert per[label]["recall"] == pytest.approx(rec[i])
            assert per[label]["f1"] == pytest.approx(f1[i], nan_ok=True)
            assert per[label]["support"] == sup[i]
    refit = run.sql("SELECT DISTINCT chain_id, partition FROM confusion WHERE fold_id = 'fold_final'").num_rows
    assert refit == 2  # the refit chain's train and test matrices
    assert run.sql("SELECT count(*) AS n FROM sample_diagnostics WHERE t2 IS NOT NULL").column("n")[0].as_py() > 0


def test_diagnostics_all_covers_every_chain(tecator, tmp_path):
    spec = {"target": "fat", "seed": 0, "diagnostics": "all", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}}, {"op": "snv"},
        {"model": {"op": "pls", "n_components": [2, 4, 6]}}]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    covered = run.sql("SELECT count(DISTINCT chain_id) AS n FROM sample_diagnostics").column("n")[0].as_py()
    assert covered == 3
    assert run.sql("SELECT count(*) AS n FROM domains").column("n")[0].as_py() == 1  # the refit chain's only
    best = _best(run)
    refit_t2 = run.sql(f"SELECT t2 FROM sample_diagnostics WHERE chain_id = '{best['chain_id']}' ORDER BY "
                       "partition, sample_id").column("t2").to_pylist()
    again = nirdag.run({**spec, "diagnostics": "refit"}, tecator, workspace=tmp_path / "ws2")
    assert again.sql(f"SELECT t2 FROM sample_diagnostics WHERE chain_id = '{best['chain_id']}' ORDER BY "
                     "partition, sample_id").column("t2").to_pylist() == refit_t2
