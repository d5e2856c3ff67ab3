"""Sample filters in real runs (Hamilton -> Delta -> SQL): decided on each fold's training rows only, never on a
validation or test row, recorded per fold in `sample_exclusions`, with `selected_variables` per fold and in the
bundle; the CV predictions equal a plain numpy / scikit-learn re-fit without the excluded rows."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from scipy import stats
from sklearn.cross_decomposition import PLSRegression

import nirdag
from datafusion_engine.errors import NoResultsYet
from hamilton_pipeline.errors import NodeError
from nirdag.bundle.archive import read_bundle
from nirs_core.data import SpectraDataset
from nirs_core.operators import VIPSelect
from nirs_modelling.errors import SampleFilterError
from relspec.errors import CompileError, SpecError

X_OUT, Y_OUT, TEST_OUT = 7, 23, 3  # planted: a spectrum off the model (train), a fat value (train), a test spectrum
SPEC = {"target": "fat", "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4}},
    {"op": "x_outliers", "n_components": 3, "confidence": 0.99, "stat": "q"},
    {"op": "y_outliers", "method": "mad", "threshold": 3.5},
    {"op": "vip_select", "n_components": 3, "n_keep": 30},
    {"model": {"op": "pls", "n_components": [3]}}]}


@pytest.fixture(scope="module")
def planted(tecator) -> SpectraDataset:
    train, test = tecator.rows("train")[:80], tecator.rows("test")[:20]
    mask = np.zeros(tecator.n_samples, dtype=bool)
    mask[np.concatenate([train, test])] = True
    data = tecator.select(mask=mask, copy=True)
    X, fat = data.spectra.copy(), data.target("fat").copy()
    bump = 0.3 * np.exp(-0.5 * ((np.arange(X.shape[1]) - 50) / 4.0) ** 2)
    X[data.rows("train")[X_OUT]] += bump
    X[data.rows("test")[TEST_OUT]] += bump
    fat[data.rows("train")[Y_OUT]] = 300.0
    return SpectraDataset(name="planted", sample_ids=data.sample_ids, spectra=X, wavelengths=data.wavelengths,
                          wavelength_unit="nm", partition=data.partition, targets={"fat": fat})


@pytest.fixture(scope="module")
def run(planted, tmp_path_factory):
    return nirdag.run(SPEC, planted, workspace=tmp_path_factory.mktemp("filters") / "ws", seed=0)


def _rows(run, sql: str) -> list[dict]:
    return run.sql(sql.format(run=run.run_id)).to_pylist()


def _q_outliers(X: np.ndarray, k: int, confidence: float) -> np.ndarray:
    """Rows whose PCA Q exceeds the Jackson–Mudholkar limit (eigenvalues of the covariance, numpy and scipy)."""
    Xc = X - X.mean(axis=0)
    values, vectors = np.linalg.eigh(Xc.T @ Xc / (X.shape[0] - 1))
    values, vectors = values[::-1], vectors[:, ::-1]
    E = Xc - Xc @ vectors[:, :k] @ vectors[:, :k].T
    q = (E**2).sum(axis=1)
    rest = np.clip(values[k:], 0, None)
    t1, t2, t3 = rest.sum(), (rest**2).sum(), (rest**3).sum()
    h0 = 1 - 2 * t1 * t3 / (3 * t2**2)
    z = stats.norm.ppf(confidence)
    return q > t1 * (z * np.sqrt(2 * t2 * h0**2) / t1 + 1 + t2 * h0 * (h0 - 1) / t1**2) ** (1 / h0)


def _mad_outliers(y: np.ndarray, threshold: float) -> np.ndarray:
    med = np.median(y)
    return np.abs(y - med) / (1.4826 * np.median(np.abs(y - med))) > threshold


def _kept(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The rows both filters keep, in the spec's order (x_outliers, then y_outliers on what is left)."""
    keep = np.flatnonzero(~_q_outliers(X, 3, 0.99))
    return keep[~_mad_outliers(y[keep], 3.5)]


def test_planted_outliers_are_dropped_where_they_train_and_predicted_where_they_validate(run, planted):
    ids = planted.sample_ids
    x_id, y_id = ids[planted.rows("train")[X_OUT]], ids[planted.rows("train")[Y_OUT]]
    excluded = _rows(run, "SELECT fold_id, sample_id, row, op, statistic, reason FROM sample_exclusions "
                          "WHERE run_id = '{run}'")
    folds = {f.fold_id: f for f in run.plan.folds}
    for fold in (*run.plan.folds, run.plan.final_fold):
        mine = {r["sample_id"]: r for r in excluded if r["fold_id"] == fold.fold_id}
        assert {r["row"] for r in mine.values()} <= set(fold.train_rows)  # never a validation or test row
        for sample, row, op in ((x_id, planted.rows("train")[X_OUT], "x_outliers"),
                                (y_id, planted.rows("train")[Y_OUT], "y_outliers")):
            if row in fold.train_rows:
                assert mine[sample]["op"] == op
            else:  # the fold that validates it predicts it and drops nothing of it
                assert sample not in mine
    assert next(r for r in excluded if r["sample_id"] == x_id)["reason"].startswith("Q ")
    assert next(r for r in excluded if r["sample_id"] == y_id)["reason"].startswith("fat robust z ")
    val = _rows(run, "SELECT fold_id, sample_id FROM predictions WHERE run_id = '{run}' AND partition = 'val'")
    assert sorted(r["sample_id"] for r in val) == sorted(ids[planted.rows("train")].tolist())
    for fold_id, fold in folds.items():
        assert {r["sample_id"] for r in val if r["fold_id"] == fold_id} == set(ids[list(fold.val_rows)].tolist())
    test = _rows(run, "SELECT fold_id, sample_id FROM predictions WHERE run_id = '{run}' AND partition = 'test'")
    test_ids = set(ids[planted.rows("test")].tolist())
    assert all({r["sample_id"] for r in test if r["fold_id"] == f} == test_ids for f in (*folds, "fold_final"))


def test_cv_predictions_equal_a_scikit_learn_refit_without_the_excluded_rows(run, planted):
    X, y = planted.spectra, planted.target("fat")
    pred = {(r["fold_id"], r["sample_id"]): r["y_pred"] for r in _rows(
        run, "SELECT fold_id, sample_id, y_pred FROM predictions WHERE run_id = '{run}' AND partition = 'val'")}
    excluded = _rows(run, "SELECT fold_id, row FROM sample_exclusions WHERE run_id = '{run}'")
    for fold in run.plan.folds:
        train, val = np.asarray(fold.train_rows), np.asarray(fold.val_rows)
        kept = train[_kept(X[train], y[train])]
        assert sorted(set(train) - set(kept)) == sorted(r["row"] for r in excluded if r["fold_id"] == fold.fold_id)
        vip = VIPSelect(n_components=3, n_keep=30).fit(X[kept], y[kept])
        pls = PLSRegression(n_components=3, scale=False).fit(X[kept][:, vip.support_], y[kept])
        expected = pls.predict(X[val][:, vip.support_]).ravel()
        got = np.array([pred[(fold.fold_id, s)] for s in planted.sample_ids[val]])
        np.testing.assert_allclose(got, expected, rtol=1e-8, atol=1e-10)


def test_selected_variables_hold_every_fold_and_the_bundle_carries_the_refits(run, planted, tmp_path):
    counts = _rows(run, "SELECT fold_id, count(*) AS n, sum(CAST(kept AS INT)) AS k FROM selected_variables "
                        "WHERE run_id = '{run}' GROUP BY fold_id ORDER BY fold_id")
    assert [(r["fold_id"], r["n"], r["k"]) for r in counts] == [
        *((f"fold_{i}", 100, 30) for i in range(4)), ("fold_final", 100, 30)]
    final = _rows(run, "SELECT wavelength FROM selected_variables WHERE run_id = '{run}' AND fold_id = "
                       "'fold_final' AND kept ORDER BY variable")
    train = planted.rows("train")
    kept = train[_kept(planted.spectra[train], planted.target("fat")[train])]
    support = VIPSelect(n_components=3, n_keep=30).fit(planted.spectra[kept], planted.target("fat")[kept]).support_
    assert [r["wavelength"] for r in final] == planted.wavelengths[support].tolist()
    bundle = run.export(tmp_path / "filtered.nirdag")
    manifest = read_bundle(bundle).manifest
    (selection,) = manifest.selected_variables
    assert selection.op == "vip_select" and list(selection.wavelengths) == planted.wavelengths[support].tolist()
    assert {e.sample_id for e in manifest.sample_exclusions} == set(planted.sample_ids[sorted(set(train) - set(kept))])
    assert all(s.op != "x_outliers" for s in manifest.chain.steps)  # a filter is not a step of the fitted chain
    test = planted.rows("test")
    out = nirdag.predict(bundle, planted.spectra[test])
    assert out.num_rows == test.size  # every spectrum predicted, the planted one too: the domain flags it
    refit = _rows(run, "SELECT y_pred FROM predictions WHERE run_id = '{run}' AND fold_id = 'fold_final' AND "
                       "partition = 'test' ORDER BY sample_id")
    assert sorted(out.column("y_pred").to_pylist()) == pytest.approx(sorted(r["y_pred"] for r in refit),
                                                                      rel=1e-12)
    assert out.column("domain").to_pylist()[TEST_OUT] == "outlier"
    replayed = nirdag.replay(run.workspace, run.run_id, planted.spectra[test])
    assert replayed.column("y_pred").to_pylist() == out.column("y_pred").to_pylist()
    fold_mean = nirdag.predict(bundle, planted.spectra[test], fold_mean=True)
    assert np.all(np.isfinite(fold_mean.column("y_pred_fold_mean").to_numpy()))  # the CV fold models load too


def test_a_rerun_served_from_the_cache_records_the_same_exclusions(run, planted):
    spec = {**SPEC, "refit": {"top_k": 1, "select": "min"}, "name": "again"}
    first = nirdag.run(spec, planted, workspace=run.workspace, seed=0, cache_admission="all", reuse=False)
    again = nirdag.run(spec, planted, workspace=run.workspace, seed=0, cache_admission="all", reuse=False)
    hits = _rows(again, "SELECT node FROM events WHERE run_id = '{run}' AND cache = 'hit' AND node LIKE 'pls_sweep%'")
    assert len(hits) == 4
    query = ("SELECT fold_id, step, row, statistic, value, limit_value, reason FROM sample_exclusions "
             "WHERE run_id = '{run}' ORDER BY fold_id, step, row")
    assert _rows(again, query) == _rows(first, query) and _rows(first, query)


def test_threads_exclude_and_predict_exactly_as_sync(run, planted):
    threads = nirdag.run({**SPEC, "name": "threads"}, planted, workspace=run.workspace, seed=0, executor="threads",
                         workers=2)
    for query in ("SELECT fold_id, step, row, value, limit_value, reason FROM sample_exclusions WHERE run_id = "
                  "'{run}' ORDER BY fold_id, step, row",
                  "SELECT fold_id, partition, sample_id, y_pred FROM predictions WHERE run_id = '{run}' "
                  "ORDER BY fold_id, partition, sample_id"):
        assert _rows(threads, query) == _rows(run, query)


def test_the_run_provenance_records_each_filters_drops_per_fold(run):
    decisions = [d for d in run.provenance.decisions if d.kind == "sample_filter"]
    assert [d.evidence["op"] for d in decisions] == ["x_outliers", "y_outliers"]
    assert [d.evidence["path"] for d in decisions] == ["$.pipeline[1]", "$.pipeline[2]"]
    excluded = _rows(run, "SELECT fold_id, op, count(DISTINCT row) AS n FROM sample_exclusions WHERE run_id = '{run}' "
                          "GROUP BY fold_id, op")
    for d in decisions:
        by_fold = {r["fold_id"]: r["n"] for r in excluded if r["op"] == d.evidence["op"]}
        assert {f["fold_id"]: f["dropped"] for f in d.evidence["folds"] if f["dropped"]} == by_fold
        assert [f["fold_id"] for f in d.evidence["folds"]] == [*(f"fold_{i}" for i in range(4)), "fold_final"]


def _spec(*steps: dict, model: dict | None = None) -> dict:
    return {"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 4}}, *steps,
                                          {"model": model or {"op": "pls", "n_components": [2]}}]}


@pytest.mark.parametrize(("spec", "error", "message"), [
    (_spec({"op": "x_outliers", "stat": "t3"}), SpecError, r"Invalid enum value 't3' - at `\$.pipeline\[1\].stat`"),
    (_spec({"op": "y_outliers", "method": "zscore"}), SpecError, r"`\$.pipeline\[1\].method`"),
    (_spec({"op": "leverage", "threshold": 0.5}), SpecError, r"`\$.pipeline\[1\].threshold`"),
    ({"target": "fat", "pipeline": [{"split": {"kind": "kfold", "n_splits": 4}},
                                    {"model": {"op": "pls", "n_components": [2]}}, {"op": "x_outliers"}]},
     SpecError, r"the model must be the last step"),
    (_spec({"branch": [[{"op": "snv"}], [{"op": "x_outliers", "n_components": 2}]]}, {"merge": "features"}),
     CompileError, r"sample filter 'x_outliers' inside a `merge: features` branch .* - at `\$.pipeline\[1\]"),
])
def test_bad_filter_specs_are_refused_before_anything_runs(planted, tmp_path, spec, error, message):
    with pytest.raises(error, match=message):
        nirdag.run(spec, planted, workspace=tmp_path / "ws", seed=0)
    assert not (tmp_path / "ws").exists()


def test_y_outliers_on_a_class_label_target_is_refused(labelled, tmp_path):
    spec = {"target": "grade", "pipeline": [{"split": {"kind": "stratified", "n_splits": 3}},
                                            {"op": "y_outliers"}, {"model": {"op": "plsda", "n_components": [2]}}]}
    with pytest.raises(CompileError, match=r"y_outliers judges numeric targets .* - at `\$.pipeline\[1\]`"):
        nirdag.run(spec, labelled, workspace=tmp_path / "ws", seed=0)


def test_a_filter_leaving_too_few_rows_fails_the_run_naming_its_path_and_counts(planted, tmp_path):
    spec = _spec({"op": "snv"}, {"op": "y_outliers", "method": "iqr", "threshold": 1e-9},
                 model={"op": "pls", "n_components": [40]})
    with pytest.raises(NodeError, match=r"y_outliers\(method=iqr, threshold=1e-09\) at `\$.pipeline\[2\]` drops "
                                        r"\d+ of 60 training rows, leaving \d+; the model pls\(n_components=40, "
                                        r"scale=False\) needs at least 41") as caught:
        nirdag.run(spec, planted, workspace=tmp_path / "ws", seed=0)
    assert isinstance(caught.value.__cause__, SampleFilterError)
    ws = nirdag.Workspace(tmp_path / "ws")
    assert ws.sql("SELECT status FROM runs").column("status").to_pylist() == ["failed"]
    with pytest.raises(NoResultsYet):  # nothing of the failed run was written
        ws.sql("SELECT count(*) AS n FROM sample_exclusions")


def test_the_refits_domain_and_calibration_error_are_those_of_the_rows_it_was_fitted_on(run, planted):
    chain = run.best["chain_id"]
    train = planted.rows("train")
    kept = train[_kept(planted.spectra[train], planted.target("fat")[train])]
    (domain,) = _rows(run, f"SELECT n FROM domains WHERE run_id = '{{run}}' AND chain_id = '{chain}'")
    assert domain["n"] == kept.size < train.size
    judged = {r["sample_id"]: r["domain"] for r in _rows(
        run, f"SELECT sample_id, domain FROM sample_diagnostics WHERE run_id = '{{run}}' AND chain_id = '{chain}' "
             "AND partition = 'train'")}
    assert set(judged) == set(planted.sample_ids[train].tolist())  # every train row is still judged
    assert judged[planted.sample_ids[train[X_OUT]]] == "outlier"
    pred = {r["sample_id"]: r["y_pred"] for r in _rows(
        run, f"SELECT sample_id, y_pred FROM predictions WHERE run_id = '{{run}}' AND chain_id = '{chain}' AND "
             "fold_id = 'fold_final' AND partition = 'train'")}
    err = np.array([pred[s] for s in planted.sample_ids[kept]]) - planted.target("fat")[kept]
    (rmsec,) = _rows(run, f"SELECT rmsec FROM component_diagnostics WHERE run_id = '{{run}}' AND chain_id = "
                          f"'{chain}' AND n_components = 3")
    assert rmsec["rmsec"] == pytest.approx(float(np.sqrt(np.mean(err**2))), rel=1e-12)


def test_nirdag_predict_on_the_command_line_predicts_every_spectrum_and_flags_the_planted_one(run, planted, tmp_path):
    bundle = run.export(tmp_path / "filtered.nirdag")
    test = planted.rows("test")
    header = "sample_id," + ",".join(f"{w:g}" for w in planted.wavelengths)
    lines = [f"{s}," + ",".join(repr(float(v)) for v in x) for s, x in zip(planted.sample_ids[test],
                                                                               planted.spectra[test], strict=True)]
    (tmp_path / "new.csv").write_text("\n".join([header, *lines]) + "\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "nirdag", "predict", str(bundle), str(tmp_path / "new.csv"),
                          "--id-column", "sample_id", "-o", str(tmp_path / "p.csv"), "--fail-on", "outlier"],
                         capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 3, out.stderr  # predictions written, the planted spectrum is an outlier
    written = (tmp_path / "p.csv").read_text(encoding="utf-8").splitlines()
    assert len(written) == 1 + test.size
    assert planted.sample_ids[test[TEST_OUT]] in out.stderr


def test_the_compiler_reports_each_filter_and_a_stateless_step_it_keeps_from_being_hoisted(planted):
    plan = nirdag.compile(_spec({"op": "x_outliers", "n_components": 2}, {"op": "snv"}), planted)
    found = {f.path: f for f in plan.validation.findings if f.code == "sample_filter"}
    assert set(found) == {"$.pipeline[1]", "$.pipeline[2]"}
    assert "decided on each fold's training rows" in found["$.pipeline[1]"].message
    assert "snv follows a sample filter, so it is computed in every fold" in found["$.pipeline[2]"].message
    assert not plan.hoisted  # snv is fitted per fold after the filter
