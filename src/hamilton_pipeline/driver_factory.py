"""Build the one Hamilton Driver of a compiled plan: node functions generated from the plan, in one module."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

import numpy as np
import pyarrow as pa
from hamilton import ad_hoc_utils, driver

from datafusion_engine.schemas import NodeKind
from hamilton_pipeline.cache import cache_tags
from hamilton_pipeline.cache_keys import KeyMaker
from hamilton_pipeline.executors import Offload, direct
from hamilton_pipeline.node_factory import make_node
from hamilton_pipeline.node_tags import node_tags
from hamilton_pipeline.progress import CHAINS_TAG
from nirs_core.data import SpectraDataset
from nirs_modelling import compute, diagnostics, fold_tables, selection, stacking, tables
from nirs_modelling.results import FoldSweep, GroupCV
from nirs_modelling.targets import target_values
from relspec.hashing import short
from relspec.plan import CompiledPlan, StackGroup, SweepGroup

SPECTRA = "spectra"
TARGETS = "targets"
CHAIN_RANKING = "chain_ranking"
REFIT_CHOICE = "refit_choice"
REFIT_MODELS = "refit_models"
OOF_PREDICTIONS = "oof_predictions"
REFIT_PREDICTIONS = "refit_predictions"
CHAIN_SCORES = "chain_scores"
CHAIN_TABLE = "chain_table"
CHAIN_DIAGNOSTICS = "chain_diagnostics"
FOLD_TABLES = "fold_tables"
FINAL_NODES: tuple[str, ...] = (CHAIN_TABLE, OOF_PREDICTIONS, REFIT_PREDICTIONS, CHAIN_SCORES, CHAIN_DIAGNOSTICS,
                                FOLD_TABLES)

_module_ids = itertools.count()


def hoisted_name(plan: CompiledPlan, node_id: str | None) -> str:
    """Node name of a hoisted step (``snv__<hash8>``), or ``spectra`` for the raw input."""
    if node_id is None:
        return SPECTRA
    (node,) = (h for h in plan.hoisted if h.node_id == node_id)
    return f"{node.step.op}__{short(node_id)}"


def sweep_name(fold_id: str, group: SweepGroup) -> str:
    return f"pls_sweep__{fold_id}__{short(group.group_id)}"


def cv_name(group: SweepGroup) -> str:
    return f"cv__{short(group.group_id)}"


class _Nodes:
    """Collects generated node functions and refuses two nodes with one name."""

    def __init__(self) -> None:
        self.fns: dict[str, Callable[..., Any]] = {}

    def add(self, name: str, inputs: dict[str, type], returns: type, body: Callable[..., Any], doc: str,
            display: str | None = None, tags: dict[str, str] | None = None, *, kind: NodeKind = "result",
            step: str | None = None) -> None:
        if name in self.fns:
            raise ValueError(f"two plan nodes share the name {name!r}")
        self.fns[name] = make_node(name, inputs, returns, body, doc, display, {**(tags or {}),
                                                                               **node_tags(kind, step)})


def _data_nodes(nodes: _Nodes, plan: CompiledPlan, dataset: SpectraDataset,
                source: Callable[[], np.ndarray] | None) -> None:
    spectra = dataset.spectra
    targets = target_values(plan, dataset)
    what = f"codes of the {len(plan.classes)} classes" if plan.task == "classification" else "values"
    body = (lambda: spectra) if source is None else (lambda: source())  # a source: the node reads, not carries
    nodes.add(SPECTRA, {}, np.ndarray, body, "All spectra of the dataset (read-only).", kind="data")
    nodes.add(TARGETS, {}, np.ndarray, lambda: targets,
              f"Targets {list(plan.targets)} of every row, (n_rows, n_targets) ({what}, read-only).", kind="data")


def _hoisted_nodes(nodes: _Nodes, plan: CompiledPlan, offload: Offload, keys: KeyMaker) -> None:
    for h in plan.hoisted:
        parent = hoisted_name(plan, h.parent)
        nodes.add(
            hoisted_name(plan, h.node_id), {parent: np.ndarray}, np.ndarray,
            lambda step=h.step, parent=parent, **kw: offload(compute.apply_stateless, step, kw[parent]),
            f"{h.step.label} on all rows (row-wise stateless, computed once above the folds).",
            display=f"{h.step.label} · all rows", tags=cache_tags("hoisted", keys.hoisted(h)),
            kind="hoisted", step=h.node_id,
        )


def _sweep_label(group: SweepGroup) -> str:
    comps, name = group.component_values, group.model.op.upper()
    model = group.model.label if comps == (None,) else (
        f"{name} {comps[0]}..{comps[-1]}" if len(comps) > 1 else f"{name} {comps[0]}")
    return " > ".join([*(s.label for s in group.fitted_steps), model])


def _path_label(plan: CompiledPlan, group: SweepGroup) -> str:
    """The whole preprocessing path of a group: its hoisted steps, then its fitted steps and PLS."""
    hoisted = [ref.label for ref in compute.hoisted_refs(plan, group)]
    return " > ".join([*(hoisted or ["raw"]), _sweep_label(group)])


def _sweep_nodes(nodes: _Nodes, plan: CompiledPlan, group: SweepGroup, offload: Offload, keys: KeyMaker,
                 keep_fits: bool) -> None:
    source = hoisted_name(plan, group.input_node)
    test_rows = np.asarray(plan.test_rows, dtype=np.int64)
    for fold in plan.folds:
        nodes.add(
            sweep_name(fold.fold_id, group), {source: np.ndarray, TARGETS: np.ndarray}, FoldSweep,
            lambda fold=fold, source=source, **kw: offload(compute.sweep_fold, group, fold, test_rows, kw[source],
                                                           kw[TARGETS], keep_fits),
            f"Fitted steps ({', '.join(s.label for s in group.fitted_steps) or 'none'}) and the model "
            f"({_sweep_label(group)}) fitted on {fold.fold_id}'s training rows.",
            display=f"{_sweep_label(group)} · {fold.fold_id}", tags=cache_tags("fold_fit", keys.fold_fit(group, fold)),
            kind="fold_fit", step=group.group_id,
        )
    folds = [sweep_name(f.fold_id, group) for f in plan.folds]
    nodes.add(
        cv_name(group), dict.fromkeys(folds, FoldSweep), GroupCV,
        lambda **kw: compute.gather_cv(group, [kw[n] for n in folds]),
        "Pooled out-of-fold predictions of the group's chains.",
        display=f"CV · {_path_label(plan, group)}", tags={CHAINS_TAG: str(len(plan.chains_of(group.group_id)))},
        kind="cv", step=group.group_id,
    )


def stack_name(stack: StackGroup) -> str:
    return f"stack__{short(stack.group_id)}"


def _stack_nodes(nodes: _Nodes, plan: CompiledPlan, stack: StackGroup) -> None:
    """The meta-model's CV, from the base groups' pooled out-of-fold predictions only."""
    group_of = {c.chain_id: c.group_id for c in plan.chains}
    bases = {group_of[c]: f"cv__{short(group_of[c])}" for c in stack.base_chains}
    nodes.add(
        stack_name(stack), {**dict.fromkeys(bases.values(), GroupCV), TARGETS: np.ndarray}, GroupCV,
        lambda **kw: stacking.stack_cv(plan, stack, {g: kw[n] for g, n in bases.items()}, kw[TARGETS]),
        f"Meta-model {stack.model.label} on the out-of-fold predictions of {len(stack.base_chains)} base chains.",
        display=f"stack · {stack.model.label} on {len(stack.base_chains)} chains",
        tags={CHAINS_TAG: str(len(plan.chains_of(stack.group_id)))}, kind="stack", step=stack.group_id,
    )


def refit_sources(plan: CompiledPlan) -> dict[str | None, str]:
    """The matrices ``refit_models`` reads (hoisted node id, None for the raw spectra -> node name).

    Hamilton drops a node's result once every node that reads it has run, and the refit runs after every branch
    (it needs the ranking). So with several hoisted group inputs the refit reads only the raw spectra and rebuilds
    the inputs of the groups it refits (``compute.group_input``): each hoisted matrix is freed after its folds and
    peak memory stays flat in the number of branches. With one hoisted input there is nothing to free: the refit
    reads it, and its steps are not computed twice.
    """
    inputs = {g.input_node for g in plan.groups}
    kept = inputs if len(inputs - {None}) <= 1 else {None}
    return {n: hoisted_name(plan, n) for n in kept}


def _result_nodes(nodes: _Nodes, plan: CompiledPlan, dataset: SpectraDataset, offload: Offload,
                  keep_fits: bool) -> None:
    cvs = [cv_name(g) for g in plan.groups] + [stack_name(s) for s in plan.stacks]
    sources = refit_sources(plan)
    # a stacked chain's refit fits its meta-model on the base groups' out-of-fold predictions; a refit takes the
    # fold fits the fold nodes kept (through their group's CV record) instead of fitting them again
    refit_cvs = {g.group_id: cv_name(g) for g in plan.groups} if plan.stacks or keep_fits else {}
    # the node bodies capture these small values, never ``dataset``: a Dask graph pickles every body's closure, and
    # a captured dataset would ship the whole spectra matrix through the scheduler once per such node
    ids, n_wavelengths, wavelengths = dataset.sample_ids, dataset.n_wavelengths, dataset.wavelengths

    def gathered(kw: dict[str, Any]) -> list[GroupCV]:
        return [kw[n] for n in cvs]

    nodes.add(CHAIN_RANKING, {**dict.fromkeys(cvs, GroupCV), TARGETS: np.ndarray}, tuple,
              lambda **kw: compute.rank_chains(plan, gathered(kw), kw[TARGETS]),
              "Every chain ranked by the loss of the plan's pooled CV metric (ties: fewer components, then "
              "chain_id).")
    group_cv_nodes = {g.group_id: cv_name(g) for g in plan.groups}
    nodes.add(REFIT_CHOICE, {CHAIN_RANKING: tuple, **dict.fromkeys(group_cv_nodes.values(), GroupCV),
                             TARGETS: np.ndarray}, selection.RefitChoice,
              lambda **kw: selection.choose_refit(plan, kw[CHAIN_RANKING],
                                                  {g: kw[n] for g, n in group_cv_nodes.items()}, kw[TARGETS]),
              f"The chains to refit: the top {plan.refit.top_k}, each count chosen by refit.select "
              f"({plan.refit.select}).")
    nodes.add(REFIT_MODELS, {CHAIN_RANKING: tuple, REFIT_CHOICE: selection.RefitChoice,
                             **dict.fromkeys(sources.values(), np.ndarray),
                             **dict.fromkeys(refit_cvs.values(), GroupCV), TARGETS: np.ndarray}, tuple,
              lambda **kw: offload(compute.refit, plan, kw[CHAIN_RANKING], {i: kw[n] for i, n in sources.items()},
                                   kw[TARGETS], n_wavelengths, {g: kw[n] for g, n in refit_cvs.items()},
                                   kw[REFIT_CHOICE]),
              "The chosen chains refit on all train rows (fold_final), with their fitted objects.")
    nodes.add(OOF_PREDICTIONS, {**dict.fromkeys(cvs, GroupCV), TARGETS: np.ndarray}, pa.Table,
              lambda **kw: tables.cv_predictions_table(plan, gathered(kw), ids, kw[TARGETS]),
              "Out-of-fold (val) and per-fold test predictions, long format.")
    nodes.add(REFIT_PREDICTIONS, {REFIT_MODELS: tuple, TARGETS: np.ndarray}, pa.Table,
              lambda **kw: tables.refit_predictions_table(plan, kw[REFIT_MODELS], ids, kw[TARGETS]),
              "fold_final predictions on the train and test partitions.")
    nodes.add(CHAIN_SCORES, {**dict.fromkeys(cvs, GroupCV), REFIT_MODELS: tuple, TARGETS: np.ndarray},
              pa.Table,
              lambda **kw: tables.scores_table(plan, gathered(kw), kw[REFIT_MODELS], kw[TARGETS]),
              "Scores per chain x fold x partition x metric, and the pooled CV score (fold_id 'cv').")
    group_cvs = {g.group_id: n for g, n in zip([*plan.groups, *plan.stacks], cvs, strict=True)}
    nodes.add(CHAIN_DIAGNOSTICS, {REFIT_MODELS: tuple, **dict.fromkeys(sources.values(), np.ndarray),
                                  **dict.fromkeys(cvs, GroupCV), TARGETS: np.ndarray}, diagnostics.DiagnosticTables,
              lambda **kw: offload(diagnostics.run_diagnostics, plan, kw[REFIT_MODELS],
                                   {i: kw[n] for i, n in sources.items()}, {g: kw[n] for g, n in group_cvs.items()},
                                   kw[TARGETS], ids, wavelengths),
              f"T², Q, leverage, domain, VIP and component curves of the {plan.diagnostics} chains "
              "(sample_diagnostics, variable_importance, component_diagnostics, domains, confusion).",
              display="diagnostics")
    nodes.add(FOLD_TABLES, {REFIT_MODELS: tuple, **dict.fromkeys(group_cv_nodes.values(), GroupCV)},
              fold_tables.FoldTables,
              lambda **kw: fold_tables.fold_tables(plan, {g: kw[n] for g, n in group_cv_nodes.items()},
                                                   kw[REFIT_MODELS], ids, wavelengths),
              "What the sample filters dropped and the column selections kept, per chain and fold "
              "(sample_exclusions, selected_variables).", display="fold records")
    nodes.add(CHAIN_TABLE, {CHAIN_RANKING: tuple, REFIT_MODELS: tuple}, pa.Table,
              lambda **kw: tables.chains_table(plan, kw[CHAIN_RANKING], kw[REFIT_MODELS]),
              "One row per chain, with its rank and loss in the ranking, marking the refit ones.")


def build_driver(
    plan: CompiledPlan, dataset: SpectraDataset, *adapters: Any, offload: Offload = direct,
    spectra: Callable[[], np.ndarray] | None = None,
) -> driver.Driver:
    """The Hamilton Driver that runs ``plan`` on ``dataset`` (built here and nowhere else).

    Final nodes: ``chain_table``, ``oof_predictions``, ``refit_predictions``, ``chain_scores`` (Arrow tables),
    ``chain_diagnostics`` (the diagnostics tables), and ``chain_ranking``, ``refit_models``. ``adapters`` are
    Hamilton lifecycle adapters (e.g. a NodeTimer, an executor's adapter, a NodeCache); ``offload`` runs the heavy
    node bodies (default: here; see executors.py). ``spectra``, when given, is what the spectra node calls to get
    the matrix (a ``StoredSpectra``: cluster workers read it from the workspace instead of receiving it).
    Hoisted and fold-fit nodes carry their cache kind and key as tags (``cache.cache_tags``).
    """
    if dataset.content_hash != plan.dataset_hash:
        raise ValueError("the plan was compiled for another dataset (dataset_hash differs)")
    nodes = _Nodes()
    _data_nodes(nodes, plan, dataset, spectra)
    keys = KeyMaker(plan, dataset)
    _hoisted_nodes(nodes, plan, offload, keys)
    keep_fits = compute.fold_fits_kept(plan, dataset.n_wavelengths)
    for group in plan.groups:
        _sweep_nodes(nodes, plan, group, offload, keys, keep_fits)
    for stack in plan.stacks:
        _stack_nodes(nodes, plan, stack)
    _result_nodes(nodes, plan, dataset, offload, keep_fits)
    module = ad_hoc_utils.create_temporary_module(
        *nodes.fns.values(), module_name=f"nirdag_plan_{short(plan.plan_hash)}_{next(_module_ids)}"
    )
    builder = driver.Builder().with_modules(module)
    if adapters:
        builder = builder.with_adapters(*adapters)
    return builder.build()
