"""What `nirdag run` and `nirdag demo` print about a finished run: the ranked chains, its identities, and how the
refit chains' counts were chosen."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

from nirdag.output import render

if TYPE_CHECKING:
    import pyarrow as pa


def _say(out: Console, text: str) -> None:
    out.print(text, markup=False, highlight=False, soft_wrap=True)


def _with_short_ids(ranked: pa.Table, names: list[str]) -> pa.Table:
    """The ranking's columns ``names`` (``branch_name`` shown as ``chain``) and the chain id's first 8 characters."""
    import pyarrow.compute as pc

    return ranked.select(names).rename_columns(["chain" if n == "branch_name" else n for n in names]).append_column(
        "chain_id8", pc.utf8_slice_codeunits(ranked.column("chain_id"), 0, 8))


def ranked(result, top: int, out: Console) -> None:
    """The ranked chains of a finished run as a table, then its identities and where the time went."""
    from semantics import queries

    n_chains, plan = len(result.plan.chains), result.plan
    ranked = result.top(top)
    if len(plan.targets) > 1:
        table = _with_short_ids(ranked, ["rank", "branch_name", "n_components", plan.rank_metric,
                                         *(f"{m}_{t}" for m in ("rmsecv", "rmsep") for t in plan.targets), "refit"])
        on = "mean RMSECV/SD over the targets" if plan.refit.target is None else f"RMSECV of {plan.refit.target!r}"
        title = (f"Top {min(top, n_chains)} of {n_chains} chains by {on} ({plan.rank_metric}; targets "
                 f"{', '.join(plan.targets)}; RMSEP on test for refit chains)")
    elif plan.task == "classification":
        table = _with_short_ids(ranked, ["rank", "branch_name", "preprocessing", "model", "n_components",
                                         "cv_balanced_accuracy", "cv_accuracy", "test_accuracy",
                                         "test_balanced_accuracy", "refit"])
        title = (f"Top {min(top, n_chains)} of {n_chains} chains by pooled CV {plan.rank_metric} "
                 f"(target {plan.target_label!r}, {len(plan.classes)} classes; test accuracy for refit chains)")
    else:
        table = _with_short_ids(ranked, ["rank", "branch_name", "preprocessing", "n_components", "rmsecv", "rmsep",
                                         "refit"])
        by = "per-sample RMSECV" if plan.rank_level == "sample" else "RMSECV"
        title = (f"Top {min(top, n_chains)} of {n_chains} chains by {by} "
                 f"(target {plan.target_label!r}; RMSEP on test for refit chains)")
    render(table, "table", out, title=title)
    replicate_scores(result, ranked, out)
    if result.reused:
        _say(out, f"run_id      {result.run_id}  (reused: the workspace's completed run of this identical plan and "
             "data; --force runs it again)")
    else:
        events = queries.node_events(result.handle.session(), result.run_id)
        served = sum(e["cache"] == "hit" for e in events)
        _say(out, f"run_id      {result.run_id}  ({result.seconds:.2f} s engine time, {len(events)} nodes, {served} "
             "from the cache)")
    _say(out, f"dataset     {result.dataset.name}  sha256 {result.dataset_hash}")
    _say(out, f"pipeline    sha256 {result.pipeline_hash}")
    _say(out, f"workspace   {result.workspace}")


def replicate_scores(result, ranked: pa.Table, out: Console) -> None:
    """With replicates declared (a regression): the shown chains' RMSECV and RMSEP per spectrum and per sample (the
    mean prediction of its replicates), and the level the ranking used."""
    import pyarrow as pa

    from semantics import queries

    plan = result.plan
    replicates = plan.replicate_groups
    if replicates is None or plan.task != "regression":
        return
    target = plan.refit.target or plan.targets[0]
    errors = {(r["chain_id"], r["level"]): r for r in queries.level_errors(result.handle.session(), result.run_id,
                                                                           target)}
    ids = ranked.column("chain_id").to_pylist()
    columns: dict[str, list] = {"rank": ranked.column("rank").to_pylist(), "chain_id8": [c[:8] for c in ids]}
    for measure in ("rmsecv", "rmsep"):
        for level in ("spectrum", "sample"):
            columns[f"{measure}_{level}"] = [errors.get((c, level), {}).get(measure) for c in ids]
    n = len(set(replicates.groups))
    render(pa.table(columns), "table", out,
           title=f"Per spectrum and per sample (mean of its replicates; {n} samples in column "
                 f"{replicates.column!r}) of target {target!r}; ranked at the {plan.rank_level} level")


def say_choice(result, quiet: bool, out: Console, err: Console) -> None:
    """How the refit chains' counts were chosen (when a rule other than the minimum changed it), a warning for a
    count at the top of its range, and one for each swept step parameter whose best value is at an edge."""
    graph = result.provenance
    choices = graph.get("refit_selection").evidence.get("choices") or []
    for c in choices:
        if c["replaces"] != c["chain_id"]:
            _say(out, f"refit       {c['chain_id'][:8]}: {c['n_components']} components by {c['rule']}, in place of "
                 f"{c['replaces'][:8]} (the lowest RMSECV of its sweep)")
        if c.get("at_edge") and not quiet:
            err.print(f"warning: refit chain {c['chain_id'][:8]} uses {c['n_components']} components, the top of "
                       f"its range {c['range'][0]}..{c['range'][1]}: more components might fit better (widen "
                       "n_components, or choose with refit.select: one_se)", highlight=False, markup=False,
                       soft_wrap=True)
    for d in graph.decisions:
        if d.evidence.get("code") == "swept_at_edge" and not quiet:
            err.print(f"warning: {d.summary}", highlight=False, markup=False, soft_wrap=True)


def say_study(result, out: Console) -> None:
    """A tuned run's best trial: its number, the trials told, why the study stopped, its CV loss and values."""
    study = result.study
    if study is None:
        return
    values = ", ".join(f"{path}={value!r}" for path, value in study["params"].items())
    _say(out, f"tuning      best trial {study['trial']} of {study['trials']} (stopped: {study['stopped']}): cv loss "
         f"{study['value']:.6g}, chain {study['chain_id'][:8]}; {values}")
