"""``RunResult.plot``: one method per figure kind, each reading the run's tables and returning a matplotlib Figure.

The drawing modules (which import matplotlib) load on the first figure, so ``import nirdag`` stays light.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from nirdag.plots.errors import MissingPlotData
from nirdag.plots.kinds import PlotKind, check_kind
from nirdag.plots.source import Chain, RunData
from semantics import explain_queries

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def _module(name: str) -> Any:
    return importlib.import_module(f"nirdag.plots.{name}")


def draw(data: RunData, kind: PlotKind | str, *, chain: str = "best", target: str | None = None) -> Figure:
    """The figure ``kind`` of a run (``chain``: ``best``, a chain id or a prefix of >= 8; ``target``: one of the
    run's targets, default the first). Raises :class:`~nirdag.plots.errors.MissingPlotData` when the run does not
    hold what the figure draws."""
    return _DRAW[check_kind(kind)](data, chain, target)


def _components(data: RunData, chain: str, target: str | None) -> Figure:
    best = data.chain(chain, target)
    scores, metric = data.curve_scores(best.target)
    return _module("curves").components(scores, metric=metric, chosen=best.chain_id,
                                        target=best.target if data.task == "regression" else "")


def _fold_heatmap(data: RunData, chain: str, target: str | None) -> Figure:
    scores, metric = data.curve_scores(target)
    return _module("curves").fold_heatmap(scores, metric=metric)


def _regression_chain(data: RunData, kind: str, chain: str, target: str | None) -> Chain:
    data.require_task("regression", kind)
    return data.chain(chain, target)


def _pred_vs_measured(data: RunData, chain: str, target: str | None) -> Figure:
    c = _regression_chain(data, "pred_vs_measured", chain, target)
    return _module("predictions").pred_vs_measured(data.predictions(c), data.scores(c), title=c.title,
                                                   target=c.target)


def _residuals(data: RunData, chain: str, target: str | None) -> Figure:
    c = _regression_chain(data, "residuals", chain, target)
    return _module("predictions").residuals(data.predictions(c), sample_ids=data.dataset.sample_ids, title=c.title,
                                            target=c.target)


def _coefficients(data: RunData, chain: str, target: str | None) -> Figure:
    c = data.chain(chain, target)
    return _module("model").coefficients(
        data.diagnostics("variable_importance", c), wavelengths=data.dataset.wavelengths,
        mean_spectrum=data.mean_train_spectrum(), unit=data.unit, title=c.title, target=c.target)


def _scores(data: RunData, chain: str, target: str | None) -> Figure:
    c = data.chain(chain, target)
    return _module("model").scores(data.diagnostics("sample_diagnostics", c), title=c.title, target=c.target,
                                   classes=data.plan.classes)


def _influence(data: RunData, chain: str, target: str | None) -> Figure:
    c = data.chain(chain, target)
    return _module("model").influence(data.diagnostics("sample_diagnostics", c), title=c.title)


def _spectra(data: RunData, chain: str, target: str | None) -> Figure:
    module = _module("spectra")
    return module.spectra(module.branch_spectra(data))


def _classification_chain(data: RunData, kind: str, chain: str, target: str | None) -> Chain:
    data.require_task("classification", kind)
    return data.chain(chain, target)


def _confusion(data: RunData, chain: str, target: str | None) -> Figure:
    c = _classification_chain(data, "confusion", chain, target)
    return _module("classes").confusion(data.diagnostics("confusion", c), title=c.title)


def _class_scores(data: RunData, chain: str, target: str | None) -> Figure:
    c = _classification_chain(data, "class_scores", chain, target)
    return _module("classes").class_scores(data.diagnostics("class_scores", c), title=c.title)


def _explanation(data: RunData, chain: str, target: str | None) -> Figure:
    c = data.chain(chain, target)
    if explain_queries.EXPLANATIONS_TABLE not in data.session.tables:
        raise MissingPlotData("the workspace has no explanations yet: run `nirdag explain RUN_ID` first")
    rows = explain_queries.chain_explanations(data.session, data.run_id, c.chain_id, c.target)
    if rows.num_rows == 0:
        raise MissingPlotData(f"chain {c.chain_id[:8]} has no stored explanation: run `nirdag explain "
                              f"{data.run_id} --chain {c.chain_id[:8]}` first")
    return _module("explanation").explanation(rows, unit=data.unit, title=c.title)


_DRAW = {
    "components": _components, "pred_vs_measured": _pred_vs_measured, "residuals": _residuals,
    "coefficients": _coefficients, "scores": _scores, "influence": _influence, "spectra": _spectra,
    "fold_heatmap": _fold_heatmap, "confusion": _confusion, "class_scores": _class_scores,
    "explanation": _explanation,
}


class RunPlots:
    """The figures of one run: ``r.plot.pred_vs_measured()``, ``r.plot.influence(chain="1a2b3c4d")``...

    Every method takes ``chain`` (``best`` = the chain ranked first, a chain id or a prefix of >= 8 characters;
    the run-wide figures use it only to mark the chosen chain) and ``target`` (default the run's first) and
    returns a ``matplotlib.figure.Figure`` (object API: no pyplot state). ``nirdag.plots.save(fig, "out.svg")``
    writes one.
    """

    def __init__(self, data: RunData):
        self.data = data

    def __repr__(self) -> str:
        return f"<figures of run {self.data.run_id[:8]}: {', '.join(_DRAW)}>"

    def __call__(self, kind: PlotKind | str, chain: str = "best", target: str | None = None) -> Figure:
        """The figure named ``kind`` (see :data:`nirdag.plots.PLOT_KINDS`)."""
        return draw(self.data, kind, chain=chain, target=target)

    def components(self, chain: str = "best", target: str | None = None) -> Figure:
        """RMSECV (the run's rank metric) against components per preprocessing, ±1 SE band, chosen k marked."""
        return draw(self.data, "components", chain=chain, target=target)

    def pred_vs_measured(self, chain: str = "best", target: str | None = None) -> Figure:
        """Predicted against measured, CV and test, 1:1 line and a statistics box."""
        return draw(self.data, "pred_vs_measured", chain=chain, target=target)

    def residuals(self, chain: str = "best", target: str | None = None) -> Figure:
        """Residuals against the prediction and against the sample."""
        return draw(self.data, "residuals", chain=chain, target=target)

    def coefficients(self, chain: str = "best", target: str | None = None) -> Figure:
        """Coefficients and VIP over the axis with the mean spectrum (a refit chain)."""
        return draw(self.data, "coefficients", chain=chain, target=target)

    def scores(self, chain: str = "best", target: str | None = None) -> Figure:
        """Scores t1 against t2 with the 95 % ellipse, coloured by y (a refit chain)."""
        return draw(self.data, "scores", chain=chain, target=target)

    def influence(self, chain: str = "best", target: str | None = None) -> Figure:
        """Hotelling T² against Q with the limits, outliers named (a refit chain)."""
        return draw(self.data, "influence", chain=chain, target=target)

    def spectra(self, chain: str = "best", target: str | None = None) -> Figure:
        """Preprocessed calibration spectra per preprocessing path (at most 200 each)."""
        return draw(self.data, "spectra", chain=chain, target=target)

    def fold_heatmap(self, chain: str = "best", target: str | None = None) -> Figure:
        """The rank metric per chain and fold."""
        return draw(self.data, "fold_heatmap", chain=chain, target=target)

    def confusion(self, chain: str = "best", target: str | None = None) -> Figure:
        """Confusion matrices, pooled CV and refit test (classification)."""
        return draw(self.data, "confusion", chain=chain, target=target)

    def class_scores(self, chain: str = "best", target: str | None = None) -> Figure:
        """Per-class precision, recall and F1 (classification)."""
        return draw(self.data, "class_scores", chain=chain, target=target)

    def explanation(self, chain: str = "best", target: str | None = None) -> Figure:
        """Per-wavelength importance stored by ``nirdag explain``, one panel per method (a refit chain)."""
        return draw(self.data, "explanation", chain=chain, target=target)
