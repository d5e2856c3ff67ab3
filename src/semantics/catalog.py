"""The semantic view catalog: the vocabulary of NIRS results, each view a spec built from the view kinds.

Scans of result tables see completed runs only (the scan policy's default), so no view repeats that rule.
"""

from __future__ import annotations

from nirs_core.metrics import CLOSEST_TO_ZERO_IS_BETTER, HIGHER_IS_BETTER
from relspec import ALL_TARGETS, FOLD_FINAL, POOLED_CV
from relspec.plan import STEP_SEPARATOR
from relspec.policy import MetricFunction, TableName
from relspec.refit_spec import CLASSIFICATION_RANK_METRICS
from semantics.kinds import (
    Aggregate,
    Column,
    Filter,
    Join,
    Measure,
    Node,
    Project,
    Rank,
    Scan,
    SortKey,
    Unnest,
    ViewSpec,
)
from semantics.loss import higher_is_better_sql, loss_sql, sql_list

METRICS: tuple[MetricFunction, ...] = ("rmse", "r2", "bias", "sep", "mae", "rpd", "rpiq")
CLASSIFICATION_METRICS = ("accuracy", "balanced_accuracy")
# A view of chains or scores serves both tasks: the columns of the metrics a chain's task has no score of are null.
ALL_SCORES = (*METRICS, *CLASSIFICATION_METRICS)
_CHAIN_INFO = ("run_id", "chain_id", "branch_name", "preprocessing", "model", "n_components", "refit")
_POOLED = f"fold_id = '{POOLED_CV}' AND partition = 'val'"
_FINAL_TEST = f"fold_id = '{FOLD_FINAL}' AND partition = 'test'"
_LOSS = loss_sql("metric", "value")  # lower is better, from the metrics' one definition (nirs_core.metrics)


def _columns(*names: str, **exprs: str) -> tuple[Column, ...]:
    return tuple(Column(name=n) for n in names) + tuple(Column(name=k, expr=v) for k, v in exprs.items())


def _select(node: Node, *names: str, **exprs: str) -> Project:
    return Project(input=node, columns=_columns(*names, **exprs))


def _where(table: TableName, predicate: str) -> Filter:
    return Filter(input=Scan(table=table), predicate=predicate)


def _pivot(where: str, names: dict[str, str]) -> tuple[Measure, ...]:
    """One column per metric from the long scores table: ``max(value) FILTER (WHERE metric = m AND where)``."""
    return tuple(Measure(name=out, function="max", args=("value",), where=f"metric = '{m}' AND {where}")
                 for out, m in names.items())


def _spectra(predicate: str) -> Filter:
    """The scores rows over spectra (``level = 'spectrum'``; a run with replicates also has ``sample`` rows)."""
    return _where("scores", f"({predicate}) AND level = 'spectrum'")


def _metrics_of_predictions(metrics: tuple[MetricFunction, ...]) -> tuple[Measure, ...]:
    return tuple(Measure(name=m, function=m, args=("y_true", "y_pred")) for m in metrics)


def _chains(*extra: str, **exprs: str) -> Project:
    return _select(Scan(table="chains"), *_CHAIN_INFO, *extra, **exprs)


def _rmsecv() -> Project:
    """Pooled RMSECV at every level (``level``: join it with the level the run ranked by)."""
    return _select(_where("scores", f"{_POOLED} AND metric = 'rmse'"), "run_id", "chain_id", "target", "level",
                   rmsecv="value")


def _rank_values() -> Project:
    """Each chain's pooled CV score of its rank metric (rmse, mean_nrmse, accuracy or balanced_accuracy) on its rank
    target, its loss (lower is better) and its rank in the run's stored ranking (``chains.rank``)."""
    return _select(
        Filter(input=Join(
            left=_select(_where("scores", _POOLED), "run_id", "chain_id", "target", "metric", "value", "level"),
            right=_select(Scan(table="chains"), "run_id", "chain_id", "n_components", "rank_target", "rank",
                          "rank_metric", "rank_level"),
            # several targets: the scores of the target the run ranked by ('*': mean_nrmse over all of them), at
            # the level it ranked by (each spectrum, or each sample's mean over its replicates)
            on=("run_id", "chain_id")), predicate="metric = rank_metric AND target = rank_target AND "
                                                  "level = rank_level"),
        "run_id", "chain_id", "target", "n_components", "rank_metric", "rank", "value", loss=_LOSS)


# A view's rank column: the window's type (UInt64), whether it reads chains.rank (Int64) or ranks by itself.
_STORED_RANK = "CAST(run_rank AS BIGINT UNSIGNED)"
# Where the run ranked its chains by this target's RMSECV (every single-target regression run; a multi-target run
# with refit.target), v_ranked_chains' rank is the run's own ranking. The other targets of a multi-target run, and
# every target of a run ranked by mean_nrmse (over all targets: no target's own order), keep the per-target window,
# so each target has its ranking; so do rows written before chains held a rank (run_rank null).
_RANKED_ON_THIS_TARGET = "run_rank IS NOT NULL AND rank_metric = 'rmse' AND rank_target = target"

V_RANKED_CHAINS = ViewSpec(
    name="v_ranked_chains",
    description="Chains ranked by pooled RMSECV per run and target (on the target the run ranked by: the run's "
                "ranking, chains.rank), with RMSEP of the refit (fold_final) on test; both at the level the run "
                "ranked by (chains.rank_level: each spectrum, or each sample's mean over its replicates)",
    root=_select(
        Rank(
            input=_select(
                Filter(input=Join(
                    left=Filter(input=Join(left=_chains("rank_metric", "rank_target", "rank_level", run_rank="rank"),
                                           right=_rmsecv(), on=("run_id", "chain_id")),
                                predicate="level = rank_level"),
                    right=_select(_where("scores", f"{_FINAL_TEST} AND metric = 'rmse'"), "run_id", "chain_id",
                                  "target", rmsep_level="level", rmsep="value"),
                    on=("run_id", "chain_id", "target"), how="left"),
                    predicate="rmsep_level IS NULL OR rmsep_level = rank_level"),
                "run_id", "chain_id", "target", "branch_name", "preprocessing", "model", "n_components", "rmsecv",
                "rmsep", "refit", "rank_metric", "rank_target", "run_rank"),
            name="target_rank", partition_by=("run_id", "target"),
            order_by=(SortKey(expr="rmsecv"), SortKey(expr="n_components"), SortKey(expr="chain_id"))),
        "run_id", "chain_id", "target", "branch_name", "preprocessing", "model", "n_components", "rmsecv", "rmsep",
        "refit", rank=f"CASE WHEN {_RANKED_ON_THIS_TARGET} THEN {_STORED_RANK} ELSE target_rank END"),
)

V_RANKED_CLASSIFIERS = ViewSpec(
    name="v_ranked_classifiers",
    description="Classification chains in the run's ranking (rank = chains.rank) by its rank metric (cv_value: "
                "pooled CV balanced_accuracy or accuracy, higher first), with pooled CV and refit (fold_final) test "
                "accuracy and balanced accuracy",
    root=_select(
        Join(left=Filter(input=_chains("rank_metric", run_rank="rank"),
                         predicate=f"rank_metric IN {sql_list(CLASSIFICATION_RANK_METRICS)}"),
             right=Aggregate(
                 input=_spectra(f"({_POOLED}) OR ({_FINAL_TEST})"),
                 group_by=("run_id", "chain_id", "target"),
                 measures=(*_pivot(_POOLED, {f"cv_{m}": m for m in CLASSIFICATION_METRICS}),
                           *_pivot(_FINAL_TEST, {f"test_{m}": m for m in CLASSIFICATION_METRICS}))),
             on=("run_id", "chain_id")),
        "run_id", "chain_id", "target", "branch_name", "preprocessing", "model", "n_components", "rank_metric",
        "cv_accuracy", "cv_balanced_accuracy", "test_accuracy", "test_balanced_accuracy", "refit",
        cv_value="CASE WHEN rank_metric = 'accuracy' THEN cv_accuracy ELSE cv_balanced_accuracy END",
        rank=_STORED_RANK),
)

_FOLDS = f"fold_id NOT IN ('{POOLED_CV}', '{FOLD_FINAL}') AND partition = 'val'"

def _over_folds(function: str, prefix: str, metrics: tuple[str, ...]) -> tuple[Measure, ...]:
    """``function(value)`` over the chain's CV folds (validation rows), one column per metric."""
    return tuple(Measure(name=f"{prefix}{m}", function=function, args=("value",), where=f"metric = '{m}' AND {_FOLDS}")
                 for m in metrics)


V_CHAIN_SCORES = ViewSpec(
    name="v_chain_scores",
    description="Per chain, for either task (the other task's columns are null; rank_metric says the chain's): "
                "pooled out-of-fold (cv_*) and mean-of-folds (mean_fold_*) scores of every metric (regression rmse, "
                "r2, bias, sep, mae, rpd, rpiq; classification accuracy, balanced_accuracy), sd of the fold scores "
                "(sd_fold_rmse, sd_fold_accuracy, sd_fold_balanced_accuracy), and the fold_final test scores (rmsep, "
                "test_*; null unless refit)",
    root=Join(
        left=_chains("rank_metric"), on=("run_id", "chain_id"),
        right=Aggregate(
            input=_spectra(f"(fold_id <> '{FOLD_FINAL}' OR partition = 'test') AND target <> '{ALL_TARGETS}'"),
            group_by=("run_id", "chain_id", "target"),
            measures=(
                *_pivot(_POOLED, {f"cv_{m}": m for m in ALL_SCORES}),
                *_over_folds("avg", "mean_fold_", ALL_SCORES),
                *_over_folds("stddev", "sd_fold_", ("rmse", *CLASSIFICATION_METRICS)),
                Measure(name="n_folds", function="count", args=("value",), where=f"metric = 'n' AND {_FOLDS}"),
                *_pivot(_FINAL_TEST, {"rmsep": "rmse", **{f"test_{m}": m for m in ALL_SCORES[1:]}}),
            ))),
)

V_TOP_CHAINS = ViewSpec(
    name="v_top_chains",
    description=f"Chains ranked per dataset and target by each pooled CV metric (lower error / higher "
                f"{', '.join(sorted(HIGHER_IS_BETTER))} / {', '.join(sorted(CLOSEST_TO_ZERO_IS_BETTER))} closest to 0 "
                "first); pick the metric with WHERE metric = '...'",
    root=_select(
        Rank(
            input=Join(
                # '*' (mean_nrmse over a run's targets) is no target: runs with other target sets do not compare
                left=_select(_spectra(f"{_POOLED} AND metric <> 'n' AND target <> '{ALL_TARGETS}'"),
                             "run_id", "chain_id", "target",
                             "metric", "value", loss=_LOSS),
                right=_chains("dataset_hash"), on=("run_id", "chain_id")),
            name="rank", partition_by=("dataset_hash", "target", "metric"),
            order_by=(SortKey(expr="loss"), SortKey(expr="n_components"), SortKey(expr="run_id"),
                      SortKey(expr="chain_id"))),
        "dataset_hash", "target", "metric", "rank", "value", "run_id", "chain_id", "branch_name", "preprocessing",
        "model", "n_components", "refit"),
)

V_FOLD_SCORES = ViewSpec(
    name="v_fold_scores",
    description="Per chain, fold and partition (one row each): regression rmse, r2, bias, sep, mae, rpd, rpiq; "
                "classification accuracy, balanced_accuracy (the other task's columns are null); n",
    root=Aggregate(input=_spectra(f"fold_id <> '{POOLED_CV}'"),
                   group_by=("run_id", "chain_id", "target", "fold_id", "partition"),
                   measures=_pivot("true", {m: m for m in (*ALL_SCORES, "n")})),
)

V_REFIT = ViewSpec(
    name="v_refit",
    description="Refit chains (fold_final), for either task (the other task's columns are null; rank_metric says "
                "the chain's): test scores (rmsep, test_* incl. test_accuracy, test_balanced_accuracy; n_test) and "
                "the fit on its own training rows (rmsec; train_accuracy, train_balanced_accuracy)",
    root=Join(
        left=_chains("rank_metric"),
        right=Aggregate(
            input=_spectra(f"fold_id = '{FOLD_FINAL}'"), group_by=("run_id", "chain_id", "target"),
            measures=(*_pivot("partition = 'test'", {"rmsep": "rmse", **{f"test_{m}": m for m in ALL_SCORES[1:]},
                                                     "n_test": "n"}),
                      *_pivot("partition = 'train'", {"rmsec": "rmse",
                                                      **{f"train_{m}": m for m in CLASSIFICATION_METRICS}}))),
        on=("run_id", "chain_id")),
)

_HIGHER = higher_is_better_sql("rank_metric")
V_PREPROCESSING_EFFECT = ViewSpec(
    name="v_preprocessing_effect",
    description="Per run, target and preprocessing step (snv, savgol(...), raw...), across every chain using it "
                "whatever the other steps, model and params: chains, best/mean/worst pooled CV value of the run's "
                "rank_metric (best_cv_value...: rmse, accuracy or balanced_accuracy; best_rmsecv... are those "
                "values for a regression run, null for a classification run), ranked by the best value",
    root=_select(
        Rank(
            input=_select(
                Aggregate(
                    input=Join(left=_rank_values(), right=Unnest(
                        input=_select(Scan(table="chains"), "run_id", "chain_id",
                                      steps=f"string_to_array(preprocessing, '{STEP_SEPARATOR}')"),
                        column="steps", value="step"), on=("run_id", "chain_id")),
                    group_by=("run_id", "target", "step", "rank_metric"),
                    measures=(Measure(name="n_chains", function="count", args=("chain_id",)),
                              Measure(name="best_loss", function="min", args=("loss",)),
                              Measure(name="lowest", function="min", args=("value",)),
                              Measure(name="mean_cv_value", function="avg", args=("value",)),
                              Measure(name="highest", function="max", args=("value",)))),
                "run_id", "target", "step", "n_chains", "rank_metric", "mean_cv_value", "best_loss",
                best_cv_value=f"CASE WHEN {_HIGHER} THEN highest ELSE lowest END",
                worst_cv_value=f"CASE WHEN {_HIGHER} THEN lowest ELSE highest END",
                best_rmsecv="CASE WHEN rank_metric = 'rmse' THEN lowest END",
                mean_rmsecv="CASE WHEN rank_metric = 'rmse' THEN mean_cv_value END",
                worst_rmsecv="CASE WHEN rank_metric = 'rmse' THEN highest END"),
            name="rank", partition_by=("run_id", "target"),
            order_by=(SortKey(expr="best_loss"), SortKey(expr="step"))),
        "run_id", "target", "step", "n_chains", "best_rmsecv", "mean_rmsecv", "worst_rmsecv", "rank_metric",
        "best_cv_value", "mean_cv_value", "worst_cv_value", "rank"),
)

_PREDICTION_GROUPS = ("run_id", "chain_id", "target", "fold_id", "partition", "group_column", "group_value")
V_AGGREGATED_PREDICTIONS = ViewSpec(
    name="v_aggregated_predictions",
    description="Regression predictions averaged over the samples sharing a metadata value (repetitions of one "
                "physical sample), per metadata column; pick it with WHERE group_column = '...'. Classification "
                "rows are left out: a class has no average (a vote per group is not built yet)",
    root=Aggregate(
        input=Join(
            left=Join(left=_where("predictions", "label_true IS NULL"),
                      right=_select(Scan(table="chains"), "run_id", "chain_id", "dataset_hash"),
                      on=("run_id", "chain_id")),
            right=Unnest(input=_select(Scan(table="spectra"), "dataset_hash", "sample_id", "metadata"),
                         column="metadata", key="group_column", value="group_value"),
            on=("dataset_id", "sample_id")),
        group_by=_PREDICTION_GROUPS,
        measures=(Measure(name="n_samples", function="count", args=("sample_id",)),
                  Measure(name="y_true", function="avg", args=("y_true",)),
                  Measure(name="y_pred", function="avg", args=("y_pred",)))),
)

V_AGGREGATED_SCORES = ViewSpec(
    name="v_aggregated_scores",
    description="Scores of the group-averaged regression predictions (one physical sample = one prediction) per "
                "chain, fold, partition and metadata column, with the metric functions",
    root=Aggregate(input=V_AGGREGATED_PREDICTIONS.root, group_by=_PREDICTION_GROUPS[:-1],
                   measures=(Measure(name="n_groups", function="count", args=("group_value",)),
                             *_metrics_of_predictions(("rmse", "r2", "bias", "sep", "mae", "rpd")))),
)

# Each run's rank-1 chain in its stored ranking (chains.rank = 1), with the pooled CV score of its rank metric: the
# chain RunResult.best names, for either task.
_BEST_OF_RUN = _select(
    Filter(input=_rank_values(), predicate="rank = 1"),
    "run_id", "rank_metric", best_chain_id="chain_id", best_cv_value="value",
    best_rmsecv="CASE WHEN rank_metric = 'rmse' THEN value END")

V_RUNS = ViewSpec(
    name="v_runs",
    description="One row per run (any status): dataset, seconds, chain count and the best chain (rank 1 of the "
                "run's ranking, chains.rank) with the pooled CV score of the run's rank metric (rank_metric: rmse, "
                "mean_nrmse, accuracy or balanced_accuracy; best_cv_value; best_rmsecv is that value for a run ranked "
                "by rmse, else null)",
    root=_select(
        Join(
            left=Join(
                left=Join(left=Scan(table="runs"), how="left", on=("run_id",), right=_BEST_OF_RUN),
                right=Aggregate(input=Scan(table="chains"), group_by=("run_id",),
                                measures=(Measure(name="chains", function="count", args=("chain_id",)),)),
                on=("run_id",), how="left"),
            right=_select(Scan(table="datasets"), "dataset_hash", dataset="name"), on=("dataset_id",), how="left"),
        "run_id", "status", "dataset", "dataset_hash", "pipeline_hash", "started_at", "best_chain_id", "rank_metric",
        "best_cv_value", "best_rmsecv", "error", n_chains="coalesce(chains, 0)",
        seconds="CAST(date_part('epoch', finished_at) - date_part('epoch', started_at) AS DOUBLE)"),
)

V_SAMPLE_DOMAIN = ViewSpec(
    name="v_sample_domain",
    description="Every sample a refit chain judged (partition train = calibration, test), with the chain's "
                "preprocessing, count and rank: y residual, Hotelling t2, Q, their ratios to the 95 % limits and the "
                "domain verdict (regular / extreme / outlier) — WHERE domain <> 'regular' lists what to look at",
    root=_select(
        Join(left=_select(Scan(table="sample_diagnostics"), "run_id", "chain_id", "partition", "sample_id",
                          "target", "y_true", "y_pred", "residual", "studentized_residual", "t2", "q", "leverage",
                          "t2_ratio", "q_ratio", "domain"),
             right=_chains("rank"), on=("run_id", "chain_id")),
        "run_id", "chain_id", "preprocessing", "n_components", "rank", "partition", "sample_id", "target", "y_true",
        "y_pred", "residual", "studentized_residual", "t2", "q", "leverage", "t2_ratio", "q_ratio", "domain"),
)

CATALOG: tuple[ViewSpec, ...] = (V_RANKED_CHAINS, V_RANKED_CLASSIFIERS, V_CHAIN_SCORES, V_TOP_CHAINS,
                                 V_FOLD_SCORES, V_REFIT, V_PREPROCESSING_EFFECT, V_AGGREGATED_PREDICTIONS,
                                 V_AGGREGATED_SCORES, V_RUNS, V_SAMPLE_DOMAIN)
