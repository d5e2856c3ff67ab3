"""relspec: the pipeline language (msgspec structs) and its compiler to a frozen, fingerprinted plan."""

from relspec.compile import compile_plan
from relspec.errors import CompileError, SpecError
from relspec.plan import FOLD_FINAL, POOLED_CV, CompiledPlan, fold_key
from relspec.policy import ExecutionPolicy, RuntimePolicy
from relspec.spec import PipelineSpec, decode_spec, load_spec

__all__ = [
    "FOLD_FINAL", "POOLED_CV", "CompileError", "CompiledPlan", "ExecutionPolicy", "PipelineSpec", "RuntimePolicy",
    "SpecError",
    "compile_plan", "decode_spec", "fold_key", "load_spec",
]
