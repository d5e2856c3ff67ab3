"""Edge-of-range findings: the best chain's value of a swept numeric step parameter is the smallest or largest the run
tried, so the range may not contain the best value (the component counts have their own rule, in the refit choice).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from relspec.plan import ChainSpec, CompiledPlan, StepRef
from relspec.validation import Finding

MIN_VALUES = 3  # two values are no range: one of them is always at an edge


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _steps_of(plan: CompiledPlan) -> dict[str, tuple[StepRef, ...]]:
    """Each chain's preprocessing steps (hoisted and fitted, in order; neither the y transform nor the model)."""
    refs = {h.step.step_hash: h.step for h in plan.hoisted}
    for group in plan.groups:
        refs.update({r.step_hash: r for r in group.fitted_steps})
    return {c.chain_id: tuple(refs[h] for h in c.step_hashes if h in refs) for c in plan.chains}


def _model_key(chain: ChainSpec) -> tuple[str, str]:
    return chain.model, repr(sorted((k, v) for k, v in chain.params.items() if k != "n_components"))


def _site_of(name: str, sites: Sequence[tuple[str, str, int]]) -> str:
    """The spec path of the one generator that sweeps a parameter called ``name``, else the pipeline's."""
    matches = [path for path, _, _ in sites if path.endswith(f".{name}")]
    return matches[0] if len(matches) == 1 else "$.pipeline"


def swept_edges(plan: CompiledPlan, best_chain_id: str, sites: Sequence[tuple[str, str, int]] = ()
                ) -> tuple[Finding, ...]:
    """A ``swept_at_edge`` warning for each numeric parameter of the best chain's steps whose value is the smallest
    or largest of at least :data:`MIN_VALUES` values tried by the chains that differ from it in that parameter
    only (same steps and parameters otherwise, same model; any component count). ``sites`` are the run's
    generator sites (spec path, keyword, count), for the finding's path."""
    steps = _steps_of(plan)
    best = next((c for c in plan.chains if c.chain_id == best_chain_id), None)
    if best is None or not steps[best.chain_id]:
        return ()
    mine = steps[best.chain_id]
    peers = [steps[c.chain_id] for c in plan.chains
             if _model_key(c) == _model_key(best) and len(steps[c.chain_id]) == len(mine)]
    out = []
    for i, step in enumerate(mine):
        others = [p for p in peers if all(p[j].step_hash == mine[j].step_hash for j in range(len(mine)) if j != i)
                  and p[i].op == step.op]
        for name, value in step.params.items():
            if not _is_number(value):
                continue
            rest = {k: v for k, v in step.params.items() if k != name}
            tried = sorted({p[i].params[name] for p in others
                            if _is_number(p[i].params.get(name)) and
                            {k: v for k, v in p[i].params.items() if k != name} == rest})
            if len(tried) < MIN_VALUES or value not in (tried[0], tried[-1]):
                continue
            larger = value == tried[-1]
            out.append(Finding(
                code="swept_at_edge", severity="warning", path=_site_of(name, sites),
                message=f"the best chain {best.chain_id[:8]} uses {step.op} {name}={value:g}, the "
                        f"{'largest' if larger else 'smallest'} of the values the run tried "
                        f"({', '.join(f'{v:g}' for v in tried)}) with the rest of the chain unchanged: a "
                        f"{'larger' if larger else 'smaller'} value might do better (widen the range)"))
    return tuple(out)
