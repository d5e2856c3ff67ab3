"""A tuned run's study: Optuna asks for batches of trials, each batch is compiled as one plan and cross-validated
through the run's executor, and the CV losses are told back; the plan of every trial is then what the run executes.

Optuna is imported only here, and this module only when a spec has a ``tune:`` block (docs/plans/tuning.md).
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import optuna
import pyarrow as pa

from datafusion_engine import TABLE_SCHEMAS
from hamilton_pipeline import BatchCV, CVSession
from hamilton_pipeline.timing import NodeEvent
from nirs_core.data import SpectraDataset
from nirs_core.metrics import loss
from nirs_modelling.compute import rank_chains, rank_values, target_sd
from nirs_modelling.results import FoldSweep, GroupCV
from nirs_modelling.targets import target_values
from relspec.errors import CompileError, SpecError
from relspec.plan import CompiledPlan
from relspec.provenance import Decision
from relspec.source import LoadedSpec
from relspec.spec import PipelineSpec
from relspec.tune_spec import TuneBlock, TunedParam, corners, grid_size, tuned_params
from relspec.tuning import merge_plans, trial_spec

Compile = Callable[[PipelineSpec], CompiledPlan]
Stopped = Literal["n_trials", "timeout", "grid_exhausted"]


@dataclass(frozen=True)
class TrialRecord:
    """One told trial: its number, values (spec path -> value), value (best CV loss of its chains) and chain."""

    number: int
    params: dict[str, Any]
    value: float
    chain_id: str
    state: Literal["complete", "pruned"]
    seconds: float
    batch: int


@dataclass(frozen=True)
class Study:
    """What a study leaves for its run: the plan of every trial's chains, their groups' cross-validations (the run
    does not compute them again), the trials, the best trial's plain spec, and why it stopped."""

    plan: CompiledPlan
    cvs: dict[str, GroupCV]
    trials: tuple[TrialRecord, ...]
    best: TrialRecord
    best_spec: PipelineSpec
    block: TuneBlock
    seed: int
    batch: int
    stopped: Stopped
    seconds: float
    events: tuple[NodeEvent, ...] = ()  # the batches' node events, in order

    def table(self) -> pa.Table:
        """The ``trials`` rows (run_id is added by the store)."""
        schema = TABLE_SCHEMAS["trials"].remove(0)
        return pa.Table.from_pylist([{
            "trial": t.number, "chain_id": t.chain_id, "params_json": _params_json(t.params), "value": t.value,
            "state": t.state, "seconds": t.seconds, "batch": t.batch} for t in self.trials], schema=schema)

    def decision(self) -> Decision:
        """The provenance of the study: sampler, pruner, seed, batch, trials, best and why it stopped."""
        pruned = sum(t.state == "pruned" for t in self.trials)
        why = {"n_trials": f"n_trials={self.block.n_trials} reached",
               "timeout": f"timeout={self.block.timeout:g} s passed before the next batch" if self.block.timeout
               else "timeout", "grid_exhausted": "every point of the grid was tried"}[self.stopped]
        return Decision(
            id="tuning", kind="tuning",
            summary=f"{self.block.sampler} study of {len(self.trials)} trial(s) in batches of {self.batch}: best "
                    f"trial {self.best.number} (cv loss {self.best.value:.6g}); stopped: {why}",
            reason="Optuna asked for each batch of trials; each trial is the spec with its `_tune_` values set, "
                   "scored by the run's folds (its chains' best pooled CV loss, as chains.cv_loss); the chains of "
                   "every trial are ranked together and the best is refit as in any run",
            evidence={"sampler": self.block.sampler, "pruner": self.block.pruner, "seed": self.seed,
                      "batch": self.batch, "n_trials": len(self.trials), "pruned": pruned, "stopped": self.stopped,
                      "best_trial": self.best.number, "best_value": self.best.value,
                      "best_chain": self.best.chain_id, "best_params": _params_json(self.best.params),
                      "timeout": self.block.timeout, "seconds": round(self.seconds, 6)},
            depends_on=("spec",))


def _params_json(params: dict[str, Any]) -> str:
    return json.dumps(params, sort_keys=True)


def check_corners(loaded: LoadedSpec, compile_fn: Compile) -> None:
    """Compile the spec at each bound of its tuned values (the first point is compiled by the caller), so a value
    the data refuses (more components than the folds allow, a window wider than the spectra) names its path."""
    spec = loaded.spec
    for moved, point in corners(tuned_params(loaded.raw or {})):
        if moved is None:
            continue
        try:
            compile_fn(trial_spec(loaded.raw, point, seed=spec.seed))
        except CompileError as exc:
            raise CompileError(f"the tuned value at `{moved}` cannot be {point[moved]!r}: {exc}") from None


def _distribution(p: TunedParam) -> optuna.distributions.BaseDistribution:
    if p.kind == "categorical":
        return optuna.distributions.CategoricalDistribution(list(p.choices))
    if p.kind == "int":
        return optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log, step=int(p.step or 1))
    return optuna.distributions.FloatDistribution(p.low, p.high, log=p.log, step=p.step)


def _grid(params: tuple[TunedParam, ...], seed: int, n_trials: int) -> list[dict[str, Any]]:
    """The first ``n_trials`` points of the grid in an order shuffled by ``seed`` (every point when n_trials
    covers the grid). Enqueued trials rather than Optuna's GridSampler: that one stops the study from inside
    ``tell``, which only ``Study.optimize`` allows, and a batched study asks and tells itself."""
    points = list(itertools.product(*(p.grid_values() for p in params)))
    order = np.random.default_rng(seed).permutation(len(points))[:n_trials]
    return [dict(zip((p.path for p in params), points[i], strict=True)) for i in order]


def _study(block: TuneBlock, params: tuple[TunedParam, ...], seed: int, n_folds: int) -> optuna.Study:
    if block.sampler in ("random", "grid"):  # a grid's points are enqueued (see _grid)
        sampler = optuna.samplers.RandomSampler(seed=seed)
    elif block.sampler == "cmaes":
        sampler = optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False)
    else:
        sampler = optuna.samplers.TPESampler(seed=seed)
    if block.pruner == "median":
        pruner: optuna.pruners.BasePruner = optuna.pruners.MedianPruner()
    elif block.pruner == "hyperband":
        pruner = optuna.pruners.HyperbandPruner(min_resource=1, max_resource=n_folds)
    else:
        pruner = optuna.pruners.NopPruner()
    # a fixed name: Hyperband assigns trials to brackets by a hash of the study name (random by default)
    return optuna.create_study(study_name=f"nirdag-tune-{seed}", direction="minimize", sampler=sampler, pruner=pruner)


@contextlib.contextmanager
def _quiet_optuna() -> Iterator[None]:
    """Optuna logs every told trial at INFO and warns on experimental features: quiet while the study runs."""
    before = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            yield
    finally:
        optuna.logging.set_verbosity(before)


def _tell(study: optuna.Study, trial: optuna.Trial, plan: CompiledPlan, cvs: dict[str, GroupCV],
          targets: np.ndarray) -> tuple[float, str]:
    """Tell one trial its value: the best pooled CV loss of its chains (and that chain)."""
    best = rank_chains(plan, [cvs[g.group_id] for g in plan.groups], targets)[0]
    study.tell(trial, best.cv_loss)
    return best.cv_loss, best.chain_id


@dataclass
class _Pruning:
    """The pruner's view of one batch: after fold k, each live trial reports the lowest fold-k loss of its chains
    as step k and is told ``PRUNED`` when the pruner says so; the groups of the live trials go on."""

    study: optuna.Study
    trials: Sequence[optuna.Trial]
    plans: dict[int, CompiledPlan]
    targets: np.ndarray
    pruned: dict[int, tuple[float, str]] = field(default_factory=dict)  # trial -> (last value, its chain)

    def __call__(self, k: int, folds: Mapping[str, FoldSweep]) -> set[str]:
        keep: set[str] = set()
        for trial in self.trials:
            if trial.number in self.pruned:
                continue
            plan = self.plans[trial.number]
            value, chain = self._fold_loss(plan, folds)
            trial.report(value, k)
            if trial.should_prune():
                self.study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                self.pruned[trial.number] = (value, chain)
            else:
                keep.update(g.group_id for g in plan.groups)
        return keep

    def _fold_loss(self, plan: CompiledPlan, folds: Mapping[str, FoldSweep]) -> tuple[float, str]:
        sd = target_sd(plan, self.targets)
        best = (np.inf, "")
        for group in plan.groups:
            fold = folds[group.group_id]
            losses = loss(plan.rank_metric, rank_values(plan, self.targets[fold.val_rows], fold.val_pred, sd))
            for chain, row in zip(*plan.chain_rows(group.group_id), strict=True):
                best = min(best, (float(losses[row]), chain))
        return best


def run_study(loaded: LoadedSpec, data: SpectraDataset, base: CompiledPlan, compile_fn: Compile,
              session: CVSession) -> Study:
    """Run the study of a tuned spec: batches of trials, each compiled with ``compile_fn``, merged with the
    policy of ``base`` (the spec at its first point) and cross-validated on ``session`` (the run's executor,
    :func:`hamilton_pipeline.cv_session`), until ``n_trials``, ``timeout`` or the end of the grid."""
    spec = loaded.spec
    block, params = spec.tune, tuned_params(loaded.raw or {})
    if block is None or not params:
        raise SpecError("a tuned spec is run from its source (a YAML/JSON file or a mapping with `tune:` and "
                        "`_tune_` values), not from a PipelineSpec")
    check_corners(loaded, compile_fn)
    seed = spec.seed if block.seed is None else block.seed
    n_trials = min(block.n_trials, grid_size(params)) if block.sampler == "grid" else block.n_trials
    batch = block.batch or base.policy.workers
    targets = target_values(base, data)
    distributions = {p.path: _distribution(p) for p in params}
    plans: dict[int, CompiledPlan] = {}
    records: list[TrialRecord] = []
    events: list[NodeEvent] = []
    cvs: dict[str, GroupCV] = {}
    stopped: Stopped = "grid_exhausted" if n_trials < block.n_trials else "n_trials"
    start = time.perf_counter()
    with _quiet_optuna():
        study = _study(block, params, seed, len(base.folds))
        for point in _grid(params, seed, n_trials) if block.sampler == "grid" else ():
            study.enqueue_trial(point)
        for number in range(0, n_trials, batch):
            if block.timeout is not None and records and time.perf_counter() - start >= block.timeout:
                stopped = "timeout"
                break
            trials = [study.ask(distributions) for _ in range(min(batch, n_trials - number))]
            for trial in trials:
                plans[trial.number] = _trial_plan(loaded, trial, compile_fn)
            # a point asked again (samplers do) is a plan whose every group is known: it is not computed again
            fresh = [t for t in trials if any(g.group_id not in cvs for g in plans[t.number].groups)]
            pruning = _Pruning(study, fresh, plans, targets)
            done = BatchCV({}, (), 0.0) if not fresh else session.cross_validate(
                merge_plans([plans[t.number] for t in fresh], base.policy), data,
                pruning if block.pruner is not None else None)
            cvs.update((g, _without_fits(cv)) for g, cv in done.cvs.items())
            events += done.events
            for trial in trials:
                if trial.number in pruning.pruned:
                    (value, chain), state = pruning.pruned[trial.number], "pruned"
                else:
                    (value, chain), state = _tell(study, trial, plans[trial.number], cvs, targets), "complete"
                records.append(TrialRecord(trial.number, dict(trial.params), value, chain, state,
                                           done.seconds / len(trials), number // batch))
    best = _best(records)
    complete = [plans[t.number] for t in records if t.state == "complete"]
    return Study(plan=merge_plans(complete, base.policy), cvs=cvs, trials=tuple(records),
                 best=best, best_spec=trial_spec(loaded.raw, best.params, seed=spec.seed), block=block, seed=seed,
                 batch=batch, stopped=stopped, seconds=time.perf_counter() - start, events=tuple(events))


def _without_fits(cv: GroupCV) -> GroupCV:
    """A group's CV without the fold nodes' fitted objects: a study holds the predictions of every trial, and only
    the refit chain's folds are needed again (the refit fits them again, the same computation on the same rows)."""
    if all(f.fitted is None for f in cv.folds):
        return cv
    return dataclasses.replace(cv, folds=tuple(dataclasses.replace(f, fitted=None) for f in cv.folds))


def _trial_plan(loaded: LoadedSpec, trial: optuna.Trial, compile_fn: Compile) -> CompiledPlan:
    """One trial compiled; a value the data refuses (a point inside the bounds, e.g. an even window) names the
    trial and its values."""
    try:
        return compile_fn(trial_spec(loaded.raw, dict(trial.params), seed=loaded.spec.seed))
    except (SpecError, CompileError) as exc:
        raise type(exc)(f"trial {trial.number} ({_params_json(trial.params)}) cannot run: {exc}") from None


def _best(records: Sequence[TrialRecord]) -> TrialRecord:
    """The complete trial of lowest value (the first of equals): a pruned trial's value is one fold's loss, not a
    pooled CV loss, and its chains were not cross-validated to the end."""
    complete = [t for t in records if t.state == "complete"]
    if not complete:
        raise CompileError(f"every one of the {len(records)} trials was pruned: nothing was cross-validated to the "
                           "end (raise n_trials, or use another pruner or none) - at `$.tune.pruner`")
    return min(complete, key=lambda t: (t.value, t.number))
