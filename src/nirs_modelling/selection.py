"""Which chains are refit: the ranking's top ``top_k``, each with its number of components chosen by the spec's
rule among its sweep's counts (``refit.select``: min, one_se, wold_r, randomization), with the evidence."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from nirs_modelling.replicates import ranked_cv_map
from nirs_modelling.results import GroupCV, RankedChain
from relspec.plan import CompiledPlan, SweepGroup


@dataclass(frozen=True)
class RefitChoice:
    """The chains to refit (in ranking order of the chains they replace) and how each count was chosen."""

    chosen: tuple[RankedChain, ...]
    rule: str
    evidence: tuple[dict[str, Any], ...] = field(default_factory=tuple)  # one per chosen chain of a sweep

    @property
    def at_edge(self) -> tuple[dict[str, Any], ...]:
        """The choices whose count is the top of its sweep's range (more components might do better)."""
        return tuple(e for e in self.evidence if e.get("at_edge"))


def _curves(cv: GroupCV, y: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per count: pooled squared residuals (n_counts, n_oof), PRESS, and per-fold RMSE (n_counts, n_folds)."""
    residuals = cv.oof_pred[:, :, 0] - y[cv.oof_rows][None, :]
    squared = residuals**2
    per_fold = np.stack([np.sqrt(np.mean((f.val_pred[:, :, 0] - y[f.val_rows][None, :]) ** 2, axis=1))
                         for f in cv.folds], axis=1)
    return squared, squared.sum(axis=1), per_fold


def _one_se(counts: list[int], squared: np.ndarray, per_fold: np.ndarray) -> tuple[int, dict[str, Any]]:
    rmsecv = np.sqrt(squared.mean(axis=1))
    best = int(np.argmin(rmsecv))  # the first minimum: ties go to fewer components
    se = float(per_fold[best].std(ddof=1) / np.sqrt(per_fold.shape[1])) if per_fold.shape[1] > 1 else 0.0
    limit = float(rmsecv[best]) + se
    pick = next(i for i in range(len(counts)) if rmsecv[i] <= limit)
    return pick, {"rmsecv": rmsecv.tolist(), "minimum_at": counts[best], "standard_error": se, "limit": limit}


def _wold_r(counts: list[int], press: np.ndarray, threshold: float) -> tuple[int, dict[str, Any]]:
    ratios = (press[1:] / np.where(press[:-1] > 0, press[:-1], np.inf)).tolist()
    pick = next((i for i, r in enumerate(ratios) if r > threshold), len(counts) - 1)
    return pick, {"press": press.tolist(), "r": ratios, "r_threshold": threshold}


def _randomization(counts: list[int], squared: np.ndarray, alpha: float, permutations: int,
                   rng: np.random.Generator) -> tuple[int, dict[str, Any]]:
    """van der Voet (1994): the fewest components whose squared residuals are not significantly larger than the
    minimum's, by a one-sided sign-flip test of the per-sample differences (p = (1 + #{T* >= T}) / (1 + B))."""
    best = int(np.argmin(squared.mean(axis=1)))
    p_values: list[float | None] = [None] * len(counts)
    n = squared.shape[1]
    chunk = max(1, 2_000_000 // n)  # sign matrices of at most ~16 MB
    pick = best
    for i in range(best):
        d = squared[i] - squared[best]
        observed, above, done = d.mean(), 0, 0
        while done < permutations:
            m = min(chunk, permutations - done)
            signs = rng.choice(np.array([-1.0, 1.0]), size=(m, n))
            above += int(np.count_nonzero(signs @ d / n >= observed))
            done += m
        p = float((1 + above) / (1 + permutations))
        p_values[i] = p
        if p > alpha:
            pick = i
            break
    return pick, {"minimum_at": counts[best], "p_values": p_values, "alpha": alpha, "permutations": permutations}


def _choose(plan: CompiledPlan, group: SweepGroup, index: int, cv: GroupCV, y: np.ndarray
            ) -> tuple[int, dict[str, Any]]:
    counts = [int(c) for c in group.component_values]
    squared, press, per_fold = _curves(cv, y)
    refit = plan.refit
    if refit.select == "one_se":
        pick, evidence = _one_se(counts, squared, per_fold)
    elif refit.select == "wold_r":
        pick, evidence = _wold_r(counts, press, refit.r_threshold)
    else:
        rng = np.random.default_rng([plan.seed, index])  # seeded per group: the same choice on every run
        pick, evidence = _randomization(counts, squared, refit.alpha, refit.permutations, rng)
    return counts[pick], evidence


def choose_refit(plan: CompiledPlan, ranking: Sequence[RankedChain], cvs: Mapping[str, GroupCV],
                 targets: np.ndarray) -> RefitChoice:
    """The ranking's top ``top_k`` chains; with a rule other than ``min``, each chain of a sweep of several counts
    is replaced by the chain of its group the rule picks (a group picked twice is refit once). Every chain of a
    sweep records whether its count is the top of the sweep's range. The rules read the CV residuals at the
    level the plan ranks by (per sample with replicates: :func:`nirs_modelling.replicates.ranked_cv_map`)."""
    top = list(ranking[: plan.refit.top_k])
    if plan.refit.select != "min":
        cvs = ranked_cv_map(plan, cvs)
    groups = {g.group_id: (i, g) for i, g in enumerate(plan.groups)}
    by_group_count = {(r.group_id, r.n_components): r for r in ranking}
    chosen: list[RankedChain] = []
    evidence: list[dict[str, Any]] = []
    for r in top:
        index, group = groups.get(r.group_id, (None, None))
        counts = [c for c in group.component_values if c is not None] if group is not None else []
        pick, why = r, {}
        if group is not None and len(counts) > 1 and plan.refit.select != "min":
            count, why = _choose(plan, group, index, cvs[r.group_id], targets[:, 0])
            pick = by_group_count[(r.group_id, count)]
        if pick.chain_id in {c.chain_id for c in chosen}:
            continue
        chosen.append(pick)
        if len(counts) > 1:
            evidence.append({"chain_id": pick.chain_id, "replaces": r.chain_id, "n_components": pick.n_components,
                             "range": [min(counts), max(counts)], "rule": plan.refit.select,
                             "at_edge": pick.n_components == max(counts), **why})
    return RefitChoice(tuple(chosen), plan.refit.select, tuple(evidence))
