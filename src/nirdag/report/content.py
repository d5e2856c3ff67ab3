"""What a calibration report says about a run, gathered once for the HTML and the PDF: summary, ranking, figures,
statistics, the extreme and outlier samples, the applicability limits, and what the run does not have."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from nirdag.api import RunResult
from nirdag.plots import DESCRIPTIONS, MissingPlotData, PlotKind, RunData, draw
from nirdag.plots.source import Chain, column, where
from relspec.plan import FOLD_FINAL, POOLED_CV
from relspec.provenance import why_not_refit
from semantics import plot_queries, queries

if TYPE_CHECKING:
    from matplotlib.figure import Figure

MAX_SAMPLES = 50  # extreme/outlier samples listed at most
TOP_CHAINS = 10
_REGRESSION_KINDS: tuple[PlotKind, ...] = ("components", "pred_vs_measured", "residuals", "coefficients", "scores",
                                           "influence", "spectra", "fold_heatmap")
_CLASSIFICATION_KINDS: tuple[PlotKind, ...] = ("components", "confusion", "class_scores", "coefficients", "scores",
                                               "influence", "spectra", "fold_heatmap")


def figure_kinds(task: str) -> tuple[PlotKind, ...]:
    """The figures a report of a run of ``task`` (regression or classification) shows, in its order."""
    return _CLASSIFICATION_KINDS if task == "classification" else _REGRESSION_KINDS


@dataclass(frozen=True)
class Table:
    """A table of the report: title, column names, rows of display values, an optional note."""

    title: str
    columns: list[str]
    rows: list[list[Any]]
    note: str | None = None


@dataclass(frozen=True)
class FigureEntry:
    """One figure of the report, or the sentence saying why the run has none."""

    kind: PlotKind
    caption: str
    figure: Figure | None
    missing: str | None


@dataclass
class ReportContent:
    run_id: str
    title: str
    summary: list[tuple[str, str]]
    why: list[str]
    missing: list[str]
    ranked: Table
    figures: list[FigureEntry] = field(default_factory=list)
    statistics: list[Table] = field(default_factory=list)
    samples: Table | None = None
    limits: Table | None = None


def _fmt(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return "–" if not np.isfinite(value) else f"{value:.4g}"
    return str(value)


def _split_text(spec_json: str) -> str:
    """The spec's cross-validation step as written (kind and options)."""
    for step in json.loads(spec_json).get("pipeline", []):
        if isinstance(step, dict) and "split" in step:
            split = dict(step["split"])
            kind = split.pop("kind", "kfold")
            return kind + (" (" + ", ".join(f"{k}={v}" for k, v in sorted(split.items())) + ")" if split else "")
    return "not named in the spec"


def _summary(result: RunResult, data: RunData, chains: pa.Table) -> list[tuple[str, str]]:
    session, plan, ds = data.session, result.plan, result.dataset
    stored = queries.stored_run(session, result.run_id) or {}
    run = queries.run_row(session, result.run_id) or {}
    train, test = len(plan.final_fold.train_rows), len(plan.test_rows)
    axis = ds.wavelengths
    preprocessing = Counter(chains.column("preprocessing").to_pylist())
    nodes = plot_queries.node_seconds(session, result.run_id).to_pylist()
    slowest = ", ".join(f"{n['node']} {n['seconds']:.2f} s" for n in nodes[:3])
    cache = Counter(n["cache"] for n in nodes)
    refit = sum(chains.column("refit").to_pylist())
    return [
        ("run", f"{result.run_id} ({run.get('status', '?')}, nirdag {run.get('nirdag_version', '?')}, seed "
                f"{plan.seed})"),
        ("started / finished", f"{_fmt(run.get('started_at'))} / {_fmt(run.get('finished_at'))}"),
        ("dataset", f"{ds.name}: {ds.n_samples} spectra ({train} calibration, {test} test) x {ds.n_wavelengths} "
                    f"variables, {axis[0]:g}..{axis[-1]:g} {ds.wavelength_unit}; sha256 {plan.dataset_hash[:12]}"),
        ("spec", f"{plan.name}: {plan.task} of {', '.join(plan.targets)}; pipeline sha256 {plan.pipeline_hash[:12]}"),
        ("cross-validation", f"{_split_text(stored.get('spec_json', '{}'))}: {len(plan.folds)} folds of "
                             f"{', '.join(str(len(f.val_rows)) for f in plan.folds)} rows"),
        ("preprocessing alternatives", "; ".join(f"{p} ({n} chains)" for p, n in preprocessing.items())),
        ("chains", f"{chains.num_rows} chains, {refit} refit; ranked by pooled CV {plan.rank_metric}"),
        ("timings", f"{_fmt(stored.get('s'))} s in all, {sum(n['seconds'] for n in nodes):.2f} s in "
                    f"{len(nodes)} nodes (cache: " + ", ".join(f"{k} {v}" for k, v in sorted(cache.items())) +
                    f"); slowest: {slowest}"),
    ]


def _why(result: RunResult, chain: Chain | None) -> list[str]:
    """Why this chain: the ranking and refit decisions of the run's provenance, and the chain's own answer."""
    graph = result.provenance
    out = []
    for decision_id in ("ranking", "refit_selection"):
        d = graph.get(decision_id)
        out.append(f"{d.summary}: {d.reason}.")
    margin = graph.get("refit_selection").evidence.get("margin_to_runner_up")
    if isinstance(margin, float):
        out.append(f"Margin to the runner-up: {margin:.4g}.")
    if chain is not None:
        try:
            out.append(why_not_refit(graph, chain.chain_id) + ".")
        except KeyError:
            out.append(f"Chain {chain.chain_id[:8]} is not in the run's ranking.")
    return out


def _ranked(result: RunResult) -> Table:
    top = result.top(TOP_CHAINS)
    names = [n for n in top.column_names if n != "chain_id"]
    rows = [[_fmt(r[n]) for n in names] + [r["chain_id"][:8]] for r in top.to_pylist()]
    return Table(f"The {top.num_rows} best chains", [*names, "chain"], rows)


def _scores_table(data: RunData, chain: Chain) -> Table:
    """The chain's pooled CV and refit statistics; with replicates declared, per spectrum and per sample (the mean
    prediction of a sample's replicates)."""
    levels = {"spectrum": data.scores(chain)}
    per_sample = data.scores(chain, "sample")
    if per_sample:
        levels["sample"] = per_sample
    columns = [(POOLED_CV, "val", "CV (pooled)"), (FOLD_FINAL, "train", "calibration (refit)"),
               (FOLD_FINAL, "test", "test (refit)")]
    present = [(level, f, p, name if len(levels) == 1 else f"{name}, per {level}")
               for level, scores in levels.items() for f, p, name in columns if (f, p) in scores]
    metrics = sorted({m for level, f, p, _ in present for m in levels[level][(f, p)]})
    rows = [[m] + [_fmt(levels[level][(f, p)].get(m)) for level, f, p, _ in present] for m in metrics]
    return Table(f"Statistics of chain {chain.chain_id[:8]} ({chain.target})", ["metric"] + [c[3] for c in present],
                 rows)


def _table_of(title: str, table: pa.Table, names: list[str], note: str | None = None) -> Table:
    rows = [[_fmt(r[n]) for n in names] for r in table.select(names).to_pylist()]
    return Table(title, names, rows, note)


def _optional(reader, *args) -> pa.Table | None:
    try:
        return reader(*args)
    except MissingPlotData:
        return None


def _samples(diag: pa.Table) -> Table:
    flagged = diag.filter(pc.not_equal(diag.column("domain"), "regular"))
    worst = np.fmax(column(flagged, "t2_ratio"), column(flagged, "q_ratio"))
    order = np.argsort(-np.nan_to_num(worst, nan=-np.inf), kind="stable")[:MAX_SAMPLES]
    names = ["sample_id", "partition", "domain", "t2", "t2_ratio", "q", "q_ratio", "leverage", "residual",
             "studentized_residual"]
    note = (f"{order.size} of {flagged.num_rows} shown, worst first" if flagged.num_rows > order.size else None)
    return _table_of(f"Extreme and outlier samples ({flagged.num_rows})", flagged.take(order), names, note)


def _limits(diag: pa.Table, chain: Chain) -> Table:
    rows = []
    for part, judged in (("train", "calibration (Beta) limit"), ("test", "prediction (F) limit")):
        rows_of = where(diag, partition=part)
        if rows_of.num_rows == 0:
            continue
        counts = Counter(rows_of.column("domain").to_pylist())
        rows.append([part, str(rows_of.num_rows), judged] +
                    [_fmt(float(np.nanmax(column(rows_of, c)))) for c in ("t2_limit_95", "t2_limit_99",
                                                                         "q_limit_95", "q_limit_99")] +
                    [", ".join(f"{counts.get(d, 0)} {d}" for d in ("regular", "extreme", "outlier"))])
    k = chain.row["n_components"]
    note = (f"k = {k} components; a sample is extreme above a 95 % limit, an outlier above a 99 % limit (T² or Q); "
            "new spectra beyond them are outside the model's applicability domain")
    return Table("Applicability limits", ["partition", "samples", "T² judged by", "T² 95 %", "T² 99 %", "Q 95 %",
                                          "Q 99 %", "domain"], rows, note)


def _figures(data: RunData, chain: str, kinds: tuple[PlotKind, ...]) -> list[FigureEntry]:
    out = []
    for kind in kinds:
        try:
            out.append(FigureEntry(kind, DESCRIPTIONS[kind], draw(data, kind, chain=chain), None))
        except MissingPlotData as exc:
            out.append(FigureEntry(kind, DESCRIPTIONS[kind], None, str(exc)))
    return out


def gather(result: RunResult, chain: str = "best") -> ReportContent:
    """Everything the report of ``result`` shows, for its chain ``chain`` (``best``, a chain id or a prefix)."""
    data = RunData(result.handle, result.run_id, result.plan, result.dataset)
    chains = plot_queries.run_chains(data.session, result.run_id)
    picked = data.chain(chain)
    missing = []
    if not any(chains.column("refit").to_pylist()):
        missing.append("No chain of this run was refit (refit.top_k): there is no final model, so no test "
                       "statistics of a refit, no model diagnostics and no applicability limits.")
    elif not picked.row["refit"]:
        missing.append(f"Chain {picked.chain_id[:8]} was not refit: its model diagnostics and limits are absent.")
    if not data.has_test_rows():
        missing.append("The dataset has no test rows: there is no RMSEP, no test points and no test domain.")
    content = ReportContent(
        run_id=result.run_id, title=f"Calibration report: {result.plan.name}, run {result.run_id}",
        summary=[*_summary(result, data, chains), ("chain reported", picked.title)], why=_why(result, picked),
        missing=missing, ranked=_ranked(result))
    content.figures = _figures(data, picked.chain_id, figure_kinds(result.plan.task))
    content.statistics.append(_scores_table(data, picked))
    components = _optional(data.diagnostics, "component_diagnostics", picked)
    if components is not None:
        content.statistics.append(_table_of(
            f"Errors and explained variance per component count ({picked.target})", components,
            ["n_components", "rmsec", "rmsecv", "rmsep", "x_explained_cum", "y_explained_cum"]))
    if result.plan.task == "classification":
        classes = _optional(data.diagnostics, "class_scores", picked)
        if classes is not None:
            content.statistics.append(_table_of("Per-class scores", classes, ["fold_id", "partition", "label",
                                                                              "precision", "recall", "f1",
                                                                              "support"]))
    diag = _optional(data.diagnostics, "sample_diagnostics", picked)
    if diag is not None and np.isfinite(column(diag, "t2")).any():
        content.samples = _samples(diag)
        content.limits = _limits(diag, picked)
    return content
