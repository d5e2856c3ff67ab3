"""The figure functions on hand-made tables of the workspace schemas (datafusion_engine.schemas): what each draws,
what it states, and the one-line MissingPlotData when a table does not hold what it draws."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from matplotlib.figure import Figure

from datafusion_engine import schemas
from nirdag.plots import MissingPlotData, PlotError, check_kind, check_output, save, style, svg_text
from nirdag.plots.classes import class_scores, confusion
from nirdag.plots.curves import components, fold_heatmap
from nirdag.plots.model import coefficients, influence, scores, t2_limit_two_components
from nirdag.plots.predictions import pred_vs_measured, residuals

RUN, CHAIN = "run-1", "c" * 64


def _texts(fig: Figure) -> str:
    found = [t.get_text() for t in fig.texts]
    for ax in fig.axes:
        found += [t.get_text() for t in ax.texts] + [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
        legend = ax.get_legend()
        found += [t.get_text() for t in legend.get_texts()] if legend else []
    for legend in fig.legends:
        found += [t.get_text() for t in legend.get_texts()]
    return "\n".join(found)


def _rank_scores() -> pa.Table:
    rows = []
    for b, branch in enumerate(("raw", "snv")):
        for k in range(1, 6):
            chain = f"{branch}{k}".ljust(64, "0")
            rank = 1 + b * 5 + (k - 1)
            base = 3.0 - 0.3 * k + b
            rows.append((chain, branch, k, rank, "cv", "val", base))
            rows += [(chain, branch, k, rank, f"fold_{f}", "val", base + 0.1 * (f - 1)) for f in range(3)]
            rows += [(chain, branch, k, rank, f"fold_{f}", "test", base + 0.2) for f in range(3)]
            if k == 5 and b == 0:
                rows.append((chain, branch, k, rank, "fold_final", "test", base + 0.15))
    names = ["chain_id", "branch_name", "n_components", "rank", "fold_id", "partition", "value"]
    table = pa.Table.from_pylist([dict(zip(names, r, strict=True)) for r in rows])
    return table.append_column("preprocessing", table.column("branch_name")).append_column(
        "refit", pa.array([r[0].startswith("raw5") for r in rows]))


def test_components_draws_one_cv_line_per_preprocessing_with_a_band_and_marks_the_chosen_chain():
    table = _rank_scores()
    chosen = "raw5".ljust(64, "0")
    fig = components(table, metric="rmse", chosen=chosen, target="fat")
    ax = fig.axes[0]
    labels = _texts(fig)
    assert "raw RMSECV" in labels and "snv RMSECV" in labels and "chosen: raw, k = 5" in labels
    assert "RMSEP (fold models)" in labels
    assert len(ax.collections) == 2  # one ±1 SE band per preprocessing
    star = next(line for line in ax.lines if line.get_marker() == "*")
    assert star.get_xdata()[0] == 5 and star.get_ydata()[0] == pytest.approx(1.5)
    raw_cv = next(line for line in ax.lines if line.get_label() == "raw RMSECV")
    np.testing.assert_allclose(raw_cv.get_ydata(), [2.7, 2.4, 2.1, 1.8, 1.5])
    band = ax.collections[0].get_paths()[0].vertices  # pooled ± SD(folds)/sqrt(3) = ± 0.1/sqrt(3)
    assert band[:, 1].max() == pytest.approx(2.7 + 0.1 / np.sqrt(3))


def test_components_of_models_without_components_is_missing():
    table = _rank_scores()
    table = table.set_column(2, "n_components", pa.nulls(table.num_rows, pa.int64()))
    with pytest.raises(MissingPlotData, match="no chain of this run has a component count"):
        components(table, metric="rmse", chosen=None, target="fat")


def test_fold_heatmap_keeps_the_best_chains_by_rank_and_says_how_many():
    fig = fold_heatmap(_rank_scores(), metric="rmse", limit=4)
    grid = fig.axes[0].images[0].get_array()
    assert grid.shape == (4, 3)
    np.testing.assert_allclose(grid[0], [2.6, 2.7, 2.8])
    assert "the 4 best of 10 chains drawn" in _texts(fig)


def _predictions(n_cv: int, n_test: int) -> pa.Table:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n_cv):
        y = float(rng.uniform(0, 50))
        rows.append({"run_id": RUN, "chain_id": CHAIN, "fold_id": f"fold_{i % 5}", "partition": "val",
                     "sample_id": f"s{i}", "target": "fat", "y_true": y, "y_pred": y + float(rng.normal())})
    for i in range(n_test):
        y = float(rng.uniform(0, 50))
        rows.append({"run_id": RUN, "chain_id": CHAIN, "fold_id": "fold_final", "partition": "test",
                     "sample_id": f"t{i}", "target": "fat", "y_true": y, "y_pred": y + 1.0})
    return pa.Table.from_pylist(rows, schema=schemas.PREDICTIONS)


def test_pred_vs_measured_draws_cv_and_test_points_the_one_to_one_line_and_the_stored_statistics():
    stats = {("cv", "val"): {"rmse": 1.01, "r2": 0.99, "slope": 0.98, "n": 100.0},
             ("fold_final", "test"): {"rmse": 1.5, "bias": 1.0}}
    fig = pred_vs_measured(_predictions(100, 20), stats, title="snv, pls 3", target="fat")
    ax = fig.axes[0]
    assert [c.get_offsets().shape[0] for c in ax.collections] == [100, 20]
    text = _texts(fig)
    assert "CV: RMSE 1.01" in text and "slope 0.98" in text and "test: RMSE 1.5" in text and "1:1" in text


def test_pred_vs_measured_thins_large_runs_and_says_so():
    fig = pred_vs_measured(_predictions(5_000, 0), {}, title="t", target="fat")
    assert fig.axes[0].collections[0].get_offsets().shape[0] == style.MAX_POINTS
    text = _texts(fig)
    assert f"{style.MAX_POINTS:,} of 5,000 CV (out-of-fold) points drawn" in text
    assert "no test rows in this run" in text


def test_residuals_name_the_largest_residuals_by_sample_id():
    table = _predictions(30, 0)
    y = table.column("y_true").to_numpy().copy()
    pred = y.copy()
    pred[7] += 25.0
    table = table.set_column(7, "y_pred", pa.array(pred))
    fig = residuals(table, sample_ids=np.array([f"s{i}" for i in range(30)]), title="t", target="fat")
    by_sample = fig.axes[1]
    assert "s7" in [t.get_text() for t in by_sample.texts]
    offsets = by_sample.collections[0].get_offsets()
    assert offsets[7, 0] == 7 and offsets[7, 1] == pytest.approx(25.0)


def _samples(n_train: int, n_test: int, *, k2: bool = True) -> pa.Table:
    rng = np.random.default_rng(1)
    rows = []
    for part, n in (("train", n_train), ("test", n_test)):
        for i in range(n):
            t2 = float(rng.chisquare(2))
            q = float(rng.chisquare(3))
            domain = "outlier" if i == 0 else ("extreme" if i == 1 else "regular")
            if domain == "outlier":
                t2, q = 40.0, 30.0
            rows.append({
                "run_id": RUN, "chain_id": CHAIN, "partition": part, "sample_id": f"{part}{i}", "target": "fat",
                "y_true": float(i), "y_pred": float(i), "residual": 0.0, "studentized_residual": 0.0,
                "score_1": float(rng.normal()), "score_2": float(rng.normal()) if k2 else None, "score_3": None,
                "t2": t2, "q": q, "leverage": 0.1, "t2_limit_95": 6.0 if part == "train" else 6.5,
                "t2_limit_99": 9.0, "q_limit_95": 7.8, "q_limit_99": 11.3, "t2_ratio": t2 / 6.0, "q_ratio": q / 7.8,
                "domain": domain})
    return pa.Table.from_pylist(rows, schema=schemas.SAMPLE_DIAGNOSTICS)


def test_influence_draws_the_limits_and_names_the_outliers():
    fig = influence(_samples(50, 10), title="t")
    ax = fig.axes[0]
    assert {"train0", "test0"} <= {t.get_text() for t in ax.texts}
    vertical = sorted({line.get_xdata()[0] for line in ax.lines if line.get_xdata()[0] == line.get_xdata()[1]})
    assert vertical == [6.0, 6.5, 9.0]
    horizontal = sorted({line.get_ydata()[0] for line in ax.lines if line.get_ydata()[0] == line.get_ydata()[1]})
    assert horizontal == [7.8, 11.3]


def test_influence_keeps_every_flagged_sample_when_thinning():
    fig = influence(_samples(6_000, 0), title="t")
    shown = fig.axes[0].collections[0].get_offsets()
    assert style.MAX_POINTS <= shown.shape[0] <= style.MAX_POINTS + 2
    assert (shown[:, 0] == 40.0).any()  # the outlier (row 0) is drawn


def test_scores_ellipse_is_the_calibration_t2_limit_of_two_components():
    table = _samples(60, 0)
    fig = scores(table, title="t", target="fat")
    ellipse = fig.axes[0].patches[0]
    t1 = table.column("score_1").to_numpy()
    radius = np.sqrt(t2_limit_two_components(60))
    assert ellipse.width == pytest.approx(2 * radius * np.std(t1, ddof=1))
    # the Beta limit (n-1)^2/n * Beta(0.95; 1, (n-3)/2) approaches chi2(2) = 5.99 for large n
    assert t2_limit_two_components(100_000) == pytest.approx(5.99, abs=0.01)


def test_scores_of_a_one_component_model_is_missing():
    with pytest.raises(MissingPlotData, match="single component"):
        scores(_samples(20, 0, k2=False), title="t", target="fat")


def test_coefficients_draw_coefficients_vip_and_the_mean_spectrum_on_the_dataset_axis():
    axis = np.linspace(1100.0, 2500.0, 50)
    rows = [{"run_id": RUN, "chain_id": CHAIN, "target": "fat", "variable": i, "wavelength": float(w),
             "coefficient": float(np.sin(i)), "vip": float(1 + np.cos(i)), "selectivity_ratio": 1.0,
             "loading_1": 0.1, "loading_2": None, "loading_3": None, "weight_1": 0.1, "weight_2": None,
             "weight_3": None} for i, w in enumerate(axis)]
    table = pa.Table.from_pylist(rows, schema=schemas.VARIABLE_IMPORTANCE)
    fig = coefficients(table, wavelengths=axis, mean_spectrum=np.ones(50), unit="cm-1", title="t", target="fat")
    top, middle, bottom = fig.axes
    np.testing.assert_allclose(top.lines[0].get_ydata(), np.sin(np.arange(50)))
    assert middle.get_ylabel() == "VIP" and bottom.get_xlabel() == "Wavenumber (cm⁻¹)"


def _confusion_rows() -> pa.Table:
    rows = []
    for fold, part in (("cv", "val"), ("fold_final", "test")):
        for a in ("high", "low"):
            for b in ("high", "low"):
                rows.append({"run_id": RUN, "chain_id": CHAIN, "fold_id": fold, "partition": part, "target": "g",
                             "label_true": a, "label_pred": b, "count": 9 if a == b else 1})
    return pa.Table.from_pylist(rows, schema=schemas.CONFUSION)


def test_confusion_draws_the_cv_and_test_matrices_with_counts():
    fig = confusion(_confusion_rows(), title="t")
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 2
    assert [t.get_text() for t in panels[0].texts] == ["9", "1", "1", "9"]
    np.testing.assert_allclose(panels[0].images[0].get_array(), [[0.9, 0.1], [0.1, 0.9]])


def test_class_scores_draw_three_bars_per_class():
    rows = [{"run_id": RUN, "chain_id": CHAIN, "fold_id": "cv", "partition": "val", "target": "g", "label": label,
             "precision": 0.8, "recall": 0.7, "f1": float("nan"), "support": 10} for label in ("a", "b", "c")]
    fig = class_scores(pa.Table.from_pylist(rows, schema=schemas.CLASS_SCORES), title="t")
    assert len(fig.axes[0].patches) == 9


def test_a_table_without_the_refit_and_cv_rows_is_missing():
    table = _confusion_rows().filter(pa.compute.equal(pa.array(["x"] * 8), "y"))
    with pytest.raises(MissingPlotData, match="neither pooled CV nor refit test rows"):
        confusion(table, title="t")


def test_kinds_outputs_and_axis_names_are_checked():
    with pytest.raises(PlotError, match="unknown plot kind 'pca'; kinds: components, pred_vs_measured"):
        check_kind("pca")
    with pytest.raises(PlotError, match=r"a figure is written as \.svg, \.png, \.pdf \(got '\.jpg'\)"):
        check_output("out.jpg")
    assert style.axis_label("nm") == "Wavelength (nm)" and style.axis_label("index") == "Variable (index)"


def test_thinning_is_even_deterministic_and_keeps_flagged_points():
    keep = np.zeros(10_000, dtype=bool)
    keep[[3, 9_998]] = True
    a, b = style.thin(10_000, 100, keep), style.thin(10_000, 100, keep)
    np.testing.assert_array_equal(a, b)
    assert {3, 9_998} <= set(a.tolist()) and a.size <= 102
    np.testing.assert_array_equal(style.thin(50, 100), np.arange(50))


def test_figures_save_as_svg_png_and_pdf_with_distinct_svg_ids(tmp_path):
    fig = influence(_samples(30, 5), title="t")
    for suffix, magic in ((".svg", b"<?xml"), (".png", b"\x89PNG"), (".pdf", b"%PDF")):
        path = save(fig, tmp_path / f"f{suffix}")
        assert path.read_bytes().startswith(magic)
    one, other = svg_text(fig, salt="a"), svg_text(fig, salt="b")
    assert one.startswith("<svg") and svg_text(fig, salt="a") == one
    ids = {part.split('"')[0] for part in one.split(' id="')[1:]}
    assert ids and all(i.startswith("a-") for i in ids)
    assert ids.isdisjoint({part.split('"')[0] for part in other.split(' id="')[1:]})
    references = [part.split('"')[0] for part in one.split('href="#')[1:]]
    assert references and set(references) <= ids
