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

    def tables(self) -> dict[str, pa.Table]:
        return {"chains": self.chains, "predictions": self.predictions, "scores": self.scores}


def execute_plan(plan: CompiledPlan, dataset: SpectraDataset) -> EngineResult:
    """Build the plan's driver and run it synchronously (the plan's policy says ``sync``)."""
    start = time.perf_counter()
    dr = build_driver(plan, dataset)
    with threadpool_limits(limits=plan.policy.blas_threads):
        out = dr.execute([CHAIN_TABLE, OOF_PREDICTIONS, REFIT_PREDICTIONS, CHAIN_SCORES, CHAIN_RANKING])
    predictions = pa.concat_tables([out[OOF_PREDICTIONS], out[REFIT_PREDICTIONS]])
    return EngineResult(
        chains=out[CHAIN_TABLE], predictions=predictions, scores=out[CHAIN_SCORES],
        ranking=out[CHAIN_RANKING], seconds=time.perf_counter() - start,
    )
