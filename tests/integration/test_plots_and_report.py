"""Figures and the calibration report of real runs (Hamilton -> Delta -> DataFusion): every kind from
``RunResult.plot``, the HTML page and the PDF, and the one-line errors of bad requests."""

from __future__ import annotations

import re

import numpy as np
import pytest
from matplotlib.figure import Figure

import nirdag
from nirdag.plots import PLOT_KINDS, MissingPlotData, PlotError, save
from nirdag.report import ReportError, build_report, write_pdf, write_report
from nirs_core.data import SpectraDataset
from semantics.errors import RunNotFound

REGRESSION_ONLY = {"pred_vs_measured", "residuals"}
CLASSIFICATION_ONLY = {"confusion", "class_scores"}
SMALL = {
    "name": "small", "target": "fat", "seed": 0,
    "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, {"branch": {"raw": [], "snv": [{"op": "snv"}]}},
                 {"model": {"op": "pls", "n_components": {"_range_": [1, 4]}}}],
}


# `explanation` draws what `nirdag explain` stored, which a run alone does not hold (tests/integration/
# test_explanations.py draws it)
@pytest.mark.parametrize("kind", sorted(set(PLOT_KINDS) - CLASSIFICATION_ONLY - {"explanation"}))
def test_every_regression_kind_draws_a_figure_of_the_tecator_run(tecator_run, kind, tmp_path):
    fig = getattr(tecator_run.plot, kind)()
    assert isinstance(fig, Figure) and fig.axes
    assert save(fig, tmp_path / f"{kind}.svg").stat().st_size > 1_000


@pytest.mark.parametrize("kind", sorted(CLASSIFICATION_ONLY))
def test_a_regression_run_asked_for_a_classification_figure_says_so(tecator_run, kind):
    with pytest.raises(MissingPlotData, match=f"^{kind} draws a classification run; run .* is a regression"):
        tecator_run.plot(kind)


def test_the_figures_read_the_run_the_tables_hold(tecator_run):
    best = tecator_run.best
    fig = tecator_run.plot.components()
    star = next(line for line in fig.axes[0].lines if line.get_marker() == "*")
    assert star.get_xdata()[0] == best["n_components"]
    assert star.get_ydata()[0] == pytest.approx(best["rmsecv"])
    pred = tecator_run.plot.pred_vs_measured()
    cv, test = pred.axes[0].collections
    assert cv.get_offsets().shape[0] == 172 and test.get_offsets().shape[0] == 43
    spectra = tecator_run.plot.spectra()
    assert len([ax for ax in spectra.axes if ax.get_visible()]) == 4
    assert spectra.axes[0].get_xlabel() == "Wavelength (nm)"


def test_unknown_chain_kind_and_target_are_one_line_errors(tecator_run):
    with pytest.raises(PlotError, match="has 0 chains matching 'ffffffffff'"):
        tecator_run.plot.influence(chain="ffffffffff")
    with pytest.raises(PlotError, match="unknown plot kind 'pca'"):
        tecator_run.plot("pca")
    with pytest.raises(PlotError, match="has no target 'protein'"):
        tecator_run.plot.scores(target="protein")


def test_a_chain_that_was_not_refit_has_no_model_figures(tecator_run):
    second = tecator_run.top(2).to_pylist()[1]["chain_id"]
    assert isinstance(tecator_run.plot.pred_vs_measured(chain=second), Figure)  # its CV predictions exist
    with pytest.raises(MissingPlotData, match=r"has no sample diagnostics .* \(it was not refit"):
        tecator_run.plot.influence(chain=second[:10])


def test_nirdag_plot_reads_a_workspace_run(tecator_run):
    fig = nirdag.plot(tecator_run.workspace, "influence", tecator_run.run_id)
    assert fig.axes[0].get_xlabel() == "Hotelling T²"


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def test_the_report_is_one_self_contained_page_with_every_figure(tecator_run):
    html = build_report(tecator_run.workspace, tecator_run.run_id)
    assert len(_svgs(html)) == 8
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html)
    ids = re.findall(r'\sid="([^"]+)"', html)
    assert len(ids) == len(set(ids))
    for section in ("Run summary", "Why this chain", "The 10 best chains", "Statistics of chain",
                    "Errors and explained variance per component count", "Extreme and outlier samples",
                    "Applicability limits", "kfold (n_splits=5, shuffle=True)", "60 chains, 1 refit"):
        assert section in html
    assert tecator_run.best["chain_id"][:8] in html
    assert "was refit: rank 1 of 60" in html


def test_the_report_escapes_what_the_workspace_holds(tmp_path, tecator):
    spec = {**SMALL, "name": "<b>bold</b> & co"}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws", seed=0)
    html = build_report(run.workspace)  # the latest completed run
    assert "&lt;b&gt;bold&lt;/b&gt; &amp; co" in html and "<b>bold</b>" not in html


def test_a_chain_that_was_not_refit_gets_a_report_saying_what_is_missing(tecator_run):
    second = tecator_run.top(2).to_pylist()[1]["chain_id"]
    html = build_report(tecator_run.workspace, tecator_run.run_id, chain=second)
    assert f"Chain {second[:8]} was not refit" in html
    assert "No influence figure: chain" in html and "No applicability limits" in html
    assert len(_svgs(html)) == 5  # components, pred_vs_measured, residuals, spectra, fold_heatmap


def test_a_run_without_test_rows_gets_a_report_saying_so(tmp_path, tecator):
    train_only = SpectraDataset(name="tecator_train", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                                wavelengths=tecator.wavelengths, wavelength_unit="nm",
                                partition=np.full(tecator.n_samples, "train"), targets={"fat": tecator.target("fat")})
    run = nirdag.run(SMALL, train_only, workspace=tmp_path / "ws", seed=0)
    html = build_report(run.workspace, run.run_id)
    assert "The dataset has no test rows" in html
    assert "no test rows in this run" in html  # stated on the figures
    assert len(_svgs(html)) == 8


def test_a_classification_report_has_the_confusion_matrix_and_class_scores(tmp_path, labelled):
    spec = {"name": "grades", "target": "grade", "seed": 0,
            "pipeline": [{"split": {"kind": "stratified", "n_splits": 3}}, {"op": "snv"},
                         {"model": {"op": "plsda", "n_components": {"_range_": [1, 4]}}}]}
    run = nirdag.run(spec, labelled, workspace=tmp_path / "ws", seed=0)
    html = build_report(run.workspace, run.run_id)
    for figure in ("fig-confusion", "fig-class_scores"):
        block = html.split(f'id="{figure}"')[1].split("</figure>")[0]
        assert "<svg" in block
    assert "Per-class scores" in html
    with pytest.raises(MissingPlotData, match="pred_vs_measured draws a regression run"):
        run.plot.pred_vs_measured()


def test_report_writes_html_and_pdf_and_refuses_other_suffixes(tecator_run, tmp_path):
    html, pdf = write_report(tecator_run.workspace, tmp_path / "r.html", tecator_run.run_id, pdf=tmp_path / "r.pdf")
    assert html.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert pdf.read_bytes().startswith(b"%PDF") and pdf.stat().st_size > 10_000
    assert write_pdf(tecator_run.workspace, tmp_path / "only.pdf", tecator_run.run_id).is_file()
    with pytest.raises(ReportError, match=r"the report is written as \.html \(got '\.htm'\)"):
        write_report(tecator_run.workspace, tmp_path / "r.htm")


def test_unknown_runs_and_empty_workspaces_are_one_line_errors(tecator_run, tmp_path):
    with pytest.raises(RunNotFound, match="no run 'nope' in workspace"):
        build_report(tecator_run.workspace, "nope")
    html = build_report(tecator_run.workspace, tecator_run.run_id[:17])  # a unique prefix of the id
    assert tecator_run.run_id in html
    with pytest.raises(nirdag.plots.PlotError, match="chain 'abc': give 'best'"):
        build_report(tecator_run.workspace, tecator_run.run_id, chain="abc")


def test_a_multi_target_run_draws_the_rmse_of_the_target_asked_for(tmp_path, tecator):
    spec = {**SMALL, "target": ["fat", "moisture"]}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws", seed=0)
    html = build_report(run.workspace, run.run_id)
    assert len(_svgs(html)) == 8  # mean_nrmse has no per-fold value: the run-wide figures draw each target's rmse
    fig = run.plot.components(target="moisture")
    assert fig.axes[0].get_ylabel() == "RMSECV / RMSEP (moisture)"
    heat = run.plot.fold_heatmap(target="moisture").axes[0].images[0].get_array()
    moisture = run.sql(f"SELECT value FROM scores WHERE run_id = '{run.run_id}' AND chain_id = "
                       f"'{run.best['chain_id']}' AND target = 'moisture' AND metric = 'rmse' AND fold_id = 'fold_0' "
                       "AND partition = 'val'").column("value").to_pylist()
    assert heat[0, 0] == pytest.approx(moisture[0])


def test_a_classifier_score_plot_colours_each_class(tmp_path, labelled):
    spec = {"name": "grades", "target": "grade", "seed": 0,
            "pipeline": [{"split": {"kind": "stratified", "n_splits": 3}}, {"op": "snv"},
                         {"model": {"op": "plsda", "n_components": {"_range_": [2, 4]}}}]}
    run = nirdag.run(spec, labelled, workspace=tmp_path / "ws", seed=0)
    labels = [t.get_text() for t in run.plot.scores().axes[0].get_legend().get_texts()]
    assert {"high (calibration)", "low (calibration)", "mid (calibration)"} <= set(labels)
