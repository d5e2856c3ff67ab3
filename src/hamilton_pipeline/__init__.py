"""hamilton_pipeline: the Hamilton Driver generated from a compiled plan, its execution and its pictures."""

import os

# Before hamilton.driver is first imported: its extension autoload imports every dataframe library installed
# (pandas, polars, ...; ~1.6 s here) and nirdag's nodes use none of them. A user's own setting wins.
os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")

from hamilton_pipeline.driver_factory import FINAL_NODES, build_driver
from hamilton_pipeline.execute import BatchCV, CVSession, EngineResult, cv_session, execute_plan

__all__ = ["FINAL_NODES", "BatchCV", "CVSession", "EngineResult", "build_driver", "cv_session", "execute_plan"]
