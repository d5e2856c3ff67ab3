"""hamilton_pipeline: the Hamilton Driver generated from a compiled plan, its execution and its pictures."""

from hamilton_pipeline.driver_factory import FINAL_NODES, build_driver
from hamilton_pipeline.execute import EngineResult, execute_plan

__all__ = ["FINAL_NODES", "EngineResult", "build_driver", "execute_plan"]
