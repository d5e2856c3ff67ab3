"""Execute a compiled plan through its Hamilton Driver, BLAS pinned to one thread."""

from __future__ import annotations

import time
from dataclasses import dataclass

import pyarrow as pa
from threadpoolctl import threadpool_limits

from hamilton_pipeline.driver_factory import (
    CHAIN_RANKING,
    CHAIN_SCORES,
    CHAIN_TABLE,
    OOF_PREDICTIONS,
    REFIT_PREDICTIONS,
    build_driver,
)
from hamilton_pipeline.results import RankedChain
from hamilton_pipeline.timing import NodeEvent, NodeTimer
from nirdag.data import SpectraDataset
from relspec.plan import CompiledPlan


@dataclass(frozen=True)
class EngineResult:
    """What one execution produced: result tables (without run_id) and the chain ranking."""

    chains: pa.Table
    predictions: pa.Table
    scores: pa.Table
    ranking: tuple[RankedChain, ...]
    seconds: float
    events: tuple[NodeEvent, ...]

    def tables(self) -> dict[str, pa.Table]:
        return {"chains": self.chains, "predictions": self.predictions, "scores": self.scores,
                "events": events_table(self.events)}


def events_table(events: tuple[NodeEvent, ...]) -> pa.Table:
    """One row per executed node, for the workspace `events` table (run_id is added by the store)."""
    return pa.table({
        "event": pa.array(["node"] * len(events), pa.string()),
        "node": pa.array([e.node for e in events], pa.string()),
        "started_at": pa.array([e.started_at for e in events], pa.timestamp("us", tz="UTC")),
        "seconds": pa.array([e.seconds for e in events], pa.float64()),
        "status": pa.array([e.status for e in events], pa.string()),
        "worker": pa.array([e.worker for e in events], pa.string()),
    })


def execute_plan(plan: CompiledPlan, dataset: SpectraDataset) -> EngineResult:
    """Build the plan's driver and run it synchronously (the plan's policy says ``sync``)."""
    start = time.perf_counter()
    timer = NodeTimer()
    dr = build_driver(plan, dataset, timer)
    with threadpool_limits(limits=plan.policy.blas_threads):
        out = dr.execute([CHAIN_TABLE, OOF_PREDICTIONS, REFIT_PREDICTIONS, CHAIN_SCORES, CHAIN_RANKING])
    predictions = pa.concat_tables([out[OOF_PREDICTIONS], out[REFIT_PREDICTIONS]])
    return EngineResult(
        chains=out[CHAIN_TABLE], predictions=predictions, scores=out[CHAIN_SCORES],
        ranking=out[CHAIN_RANKING], seconds=time.perf_counter() - start, events=tuple(timer.events),
    )
