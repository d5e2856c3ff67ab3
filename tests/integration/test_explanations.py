"""`nirdag explain`: per-wavelength importance of a refit chain against independent computations (scikit-learn's
PLSRegression on the same preprocessed rows, a numpy VIP, a plain permutation loop, the exact SHAP values of a
linear model), the `explanations` table and its natural key, the figure, typed errors, the CLI."""

from __future__ import annotations

import subprocess
import sys
import types

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSRegression

import nirdag
from nirdag.bundle.export import workspace_chain
from nirdag.explanations import ExplainError, ExplainOptions, explain
from nirdag.plots.errors import MissingPlotData
from nirs_core.data.synthetic import synthetic
from nirs_core.errors import NirdagError


@pytest.fixture(scope="module")
def pls_run(tmp_path_factory):
    """Synthetic spectra, raw and SNV branches x PLS 2/4/6, 4-fold CV, every chain refit."""
    data = synthetic(240, 40, seed=5, test_fraction=0.2)
    spec = {"name": "explain", "target": "y", "seed": 3, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 4, "shuffle": True}},
        {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
        {"model": {"op": "pls", "n_components": [2, 4, 6]}}], "refit": {"metric": "rmse", "top_k": 6}}
    return nirdag.run(spec, data, workspace=tmp_path_factory.mktemp("explain") / "ws", seed=3), data


def _chain(run, preprocessing: str, k: int) -> str:
    return run.sql(f"SELECT chain_id FROM chains WHERE run_id = '{run.run_id}' AND preprocessing = '{preprocessing}' "
                   f"AND n_components = {k}").column(0)[0].as_py()


def _calibration(run, data, chain_id):
    ids = run.sql(f"SELECT sample_id FROM predictions WHERE run_id = '{run.run_id}' AND chain_id = '{chain_id}' "
                  "AND fold_id = 'fold_final' AND partition = 'train' ORDER BY sample_id").column(0).to_pylist()
    index = {s: i for i, s in enumerate(data.sample_ids.tolist())}
    rows = np.asarray([index[s] for s in ids])
    return data.spectra[rows], data.target("y")[rows]


def _snv(X):
    return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)


def test_coefficients_are_sklearn_pls_coefficients_on_the_same_preprocessed_rows(pls_run):
    run, data = pls_run
    chain_id = _chain(run, "snv", 4)
    out = explain(run.workspace, run.run_id, chain=chain_id[:10], method="coefficients")
    X, y = _calibration(run, data, chain_id)
    reference = PLSRegression(n_components=4, scale=False).fit(_snv(X), y)
    np.testing.assert_allclose(out.table.column("importance").to_numpy(), reference.coef_.ravel(), rtol=1e-6,
                               atol=1e-8 * np.abs(reference.coef_).max())
    np.testing.assert_allclose(out.table.column("wavelength").to_numpy(), data.wavelengths)
    assert set(out.table.column("axis").to_pylist()) == {"model_input"}


def _numpy_vip(pls: PLSRegression, X: np.ndarray) -> np.ndarray:
    T = (X - X.mean(axis=0)) @ pls.x_rotations_
    W, q = pls.x_weights_, pls.y_loadings_[0]
    ss = q**2 * (T**2).sum(axis=0)
    return np.sqrt(W.shape[0] * ((W / np.linalg.norm(W, axis=0)) ** 2 @ ss) / ss.sum())


def test_vip_is_a_numpy_vip_of_sklearn_pls_and_equals_the_variable_importance_table(pls_run):
    run, data = pls_run
    chain_id = _chain(run, "raw", 6)
    out = explain(run.workspace, run.run_id, chain=chain_id, method="vip").table.column("importance").to_numpy()
    X, y = _calibration(run, data, chain_id)
    np.testing.assert_allclose(out, _numpy_vip(PLSRegression(n_components=6, scale=False).fit(X, y), X), rtol=1e-6)
    stored = run.sql(f"SELECT vip FROM variable_importance WHERE run_id = '{run.run_id}' AND chain_id = "
                     f"'{chain_id}' ORDER BY variable").column(0).to_numpy()
    np.testing.assert_allclose(out, stored, rtol=1e-12)


def _plain_permutation(run, data, chain_id, block_size, n_repeats, seed):
    """The loop written out: fold by fold, repeat by repeat, block by block, one permutation of the validation rows
    per block, RMSE(permuted) - RMSE(original)."""
    chain = workspace_chain(nirdag.Workspace(run.workspace).handle, run.run_id, chain_id)
    oof = run.sql(f"SELECT fold_id, sample_id, y_true FROM predictions WHERE run_id = '{run.run_id}' AND chain_id = "
                  f"'{chain_id}' AND partition = 'val' AND fold_id <> 'fold_final'").to_pylist()
    index = {s: i for i, s in enumerate(data.sample_ids.tolist())}
    rng = np.random.default_rng(seed)
    p = data.wavelengths.size
    starts = list(range(0, p, block_size))
    out = []
    for stage in chain.folds:
        rows = sorted((r for r in oof if r["fold_id"] == stage.fold_id), key=lambda r: r["sample_id"])
        X = data.spectra[[index[r["sample_id"]] for r in rows]]
        y = np.asarray([r["y_true"] for r in rows])

        def rmse(M, stage=stage, y=y):
            return float(np.sqrt(np.mean((stage.predict(M, chain.n_components)[:, 0] - y) ** 2)))

        base = rmse(X)
        for _ in range(n_repeats):
            deltas = []
            for s in starts:
                order = rng.permutation(X.shape[0])
                M = X.copy()
                M[:, s:s + block_size] = X[order, s:s + block_size]
                deltas.append(rmse(M) - base)
            out.append(deltas)
    return np.mean(out, axis=0), np.std(out, axis=0)


def test_permutation_importance_is_the_plain_loop_over_folds_repeats_and_blocks(pls_run):
    run, data = pls_run
    chain_id = _chain(run, "snv", 4)
    out = explain(run.workspace, run.run_id, chain=chain_id, method="permutation",
                  options=ExplainOptions(block_size=3, n_repeats=2, seed=11))
    mean, std = _plain_permutation(run, data, chain_id, 3, 2, 11)
    np.testing.assert_allclose(out.table.column("importance").to_numpy(), mean, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(out.table.column("std").to_numpy(), std, rtol=1e-10, atol=1e-12)
    assert out.block_size == 3 and out.table.num_rows == 14  # 40 wavelengths in blocks of 3: 13 full + 1
    np.testing.assert_allclose(out.table.column("wavelength").to_numpy()[0], data.wavelengths[:3].mean())


def test_explaining_again_replaces_the_rows_and_another_block_size_sits_beside_them(pls_run):
    run, _ = pls_run
    chain_id = _chain(run, "raw", 2)
    for _ in range(2):
        explain(run.workspace, run.run_id, chain=chain_id, method="permutation",
                options=ExplainOptions(block_size=10, n_repeats=1))
    explain(run.workspace, run.run_id, chain=chain_id, method="permutation",
            options=ExplainOptions(block_size=20, n_repeats=1))
    counts = run.sql(f"SELECT block_size, count(*) AS n FROM explanations WHERE run_id = '{run.run_id}' AND "
                     f"chain_id = '{chain_id}' AND method = 'permutation' GROUP BY block_size ORDER BY block_size"
                     ).to_pylist()
    assert counts == [{"block_size": 10, "n": 4}, {"block_size": 20, "n": 2}]


def test_shap_of_a_linear_chain_is_its_exact_linear_shap_value(pls_run):
    """For a linear model with an independent masker the SHAP value of feature j is b_j (x_j - mean background_j):
    the mean |SHAP| is |b_j| times the mean absolute deviation of the explained rows from the background mean."""
    pytest.importorskip("shap")
    run, data = pls_run
    chain_id = _chain(run, "raw", 4)
    options = ExplainOptions(n_background=15, n_explained=10, seed=2)
    state = np.random.get_state()[1].copy()
    out = explain(run.workspace, run.run_id, chain=chain_id, method="shap", options=options)
    X, _ = _calibration(run, data, chain_id)
    rng = np.random.default_rng(2)  # the draws explain makes: background, then the explained rows
    background = X[np.sort(rng.choice(X.shape[0], size=15, replace=False))]
    explained = X[np.sort(rng.choice(X.shape[0], size=10, replace=False))]
    b = PLSRegression(n_components=4, scale=False).fit(X, _calibration(run, data, chain_id)[1]).coef_.ravel()
    expected = np.abs(b) * np.abs(explained - background.mean(axis=0)).mean(axis=0)
    np.testing.assert_allclose(out.table.column("importance").to_numpy(), expected, rtol=1e-5,
                               atol=1e-8 * expected.max())
    assert np.array_equal(np.random.get_state()[1], state)  # shap's global seeding is put back


def test_shap_without_the_optional_package_names_the_install_command(pls_run, monkeypatch):
    run, _ = pls_run
    monkeypatch.setitem(sys.modules, "shap", None)  # import shap raises ImportError
    with pytest.raises(ExplainError, match=r"pip install 'nirdag\[explain\]'"):
        explain(run.workspace, run.run_id, method="shap")


@pytest.fixture(scope="module")
def kernel_run(tmp_path_factory):
    data = synthetic(120, 30, seed=8, test_fraction=0.2, nonlinear=True)
    spec = {"name": "kernel", "target": "y", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
        {"model": {"op": "kernel_pls", "gamma": 0.02, "n_components": [3]}}]}
    return nirdag.run(spec, data, workspace=tmp_path_factory.mktemp("kernel") / "ws", seed=0)


@pytest.mark.parametrize("method", ["coefficients", "vip"])
def test_a_method_that_needs_a_latent_model_is_refused_for_kernel_pls(kernel_run, method):
    with pytest.raises(ExplainError, match=rf"method '{method}' needs a latent-variable model.*KernelPLS"):
        explain(kernel_run.workspace, kernel_run.run_id, method=method)


def test_permutation_explains_a_non_linear_model(kernel_run):
    out = explain(kernel_run.workspace, kernel_run.run_id, method="permutation",
                  options=ExplainOptions(n_repeats=1))
    assert out.table.num_rows == 30 and np.isfinite(out.table.column("importance").to_numpy()).all()


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"method": "lime"}, ExplainError, "unknown explanation method 'lime': expected one of coefficients"),
    ({"options": ExplainOptions(block_size=0)}, ExplainError, "block_size must be >= 1"),
    ({"method": "permutation", "options": ExplainOptions(seed=-1)}, ExplainError, "seed must be >= 0"),
    ({"chain": "0000000000"}, NirdagError, "0 chains matching"),
    ({"chain": "abc"}, NirdagError, "prefix of at least 8"),
])
def test_bad_input_is_a_typed_error(pls_run, kwargs, error, match):
    run, _ = pls_run
    with pytest.raises(error, match=match):
        explain(run.workspace, run.run_id, **kwargs)


def test_an_unknown_run_is_a_typed_error(pls_run):
    with pytest.raises(NirdagError, match="no-such-run"):
        explain(pls_run[0].workspace, "no-such-run")


def test_the_explanation_figure_draws_a_panel_per_method_and_says_when_there_is_none(pls_run, kernel_run):
    run, _ = pls_run
    chain_id = _chain(run, "snv", 4)
    figure = run.plot.explanation(chain=chain_id)
    titles = [ax.get_title(loc="left") for ax in figure.axes]
    assert "coefficients" in titles and "permutation, blocks of 3 wavelengths" in titles
    other = _chain(run, "snv", 6)
    with pytest.raises(MissingPlotData, match="no stored explanation"):
        run.plot.explanation(chain=other)


def test_cli_explain_writes_the_table_and_the_figure(pls_run, tmp_path):
    run, _ = pls_run
    figure = tmp_path / "vip.svg"
    cmd = [sys.executable, "-m", "nirdag", "explain", run.run_id, "-w", str(run.workspace), "--method", "vip",
           "--plot", str(figure)]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert out.returncode == 0, out.stderr
    assert "rows written to table explanations" in out.stdout and figure.read_text().startswith("<?xml")
    assert run.sql(f"SELECT count(*) FROM explanations WHERE run_id = '{run.run_id}' AND method = 'vip' AND "
                   f"chain_id = '{run.best['chain_id']}'").column(0)[0].as_py() == 40


def test_nirdag_explain_is_the_facade_name():
    assert nirdag.explain is explain and isinstance(nirdag.explanations, types.ModuleType)
