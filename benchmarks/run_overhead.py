"""Where the wall time of one small run goes: imports, compile, engine, store writes, views, provenance.

`python -m benchmarks.run_overhead [--reps 3]` (the tecator_grid workload). Each rep is a fresh Python process (as a
user's `nirdag run` is) with BLAS pinned to one thread. The child times its imports library by library (in
dependency order, so each figure is what that library adds), then one `nirdag.run` into an empty workspace with the
phases of `nirdag.api.run` timed by wrapping the functions it calls, then the ranking query (`RunResult.best`).
Prints a Markdown table of medians (and min-max) per phase; the benchmark harness (`benchmarks.compare`) gives the
ratios against scikit-learn and nirs4all.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys

_CHILD = r"""
import json, tempfile, time
t = {}
def mark(name, start):
    t[name] = time.perf_counter() - start
    return time.perf_counter()
s0 = s = time.perf_counter()
import numpy; s = mark("import numpy", s)
import sklearn.base, scipy.stats; s = mark("import scikit-learn + scipy.stats", s)
import hamilton.driver; s = mark("import hamilton (+ pandas)", s)
import datafusion, deltalake; s = mark("import datafusion + deltalake", s)
import skops.io; s = mark("import skops.io", s)
import nirdag, nirdag.api as api, nirdag.run_service as service
from datafusion_engine.store import WorkspaceStore
from datafusion_engine.workspace import Workspace
s = mark("import nirdag", s)
data = nirdag.datasets.tecator()
# tecator_grid of benchmarks.workloads: 4 preprocessings x PLS 1..20 x KFold(5), refit
SPEC = {"name": "tecator_grid", "target": "fat", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}],
                "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2, "deriv": 1}],
                "detrend": [{"op": "detrend", "order": 1}]}},
    {"model": {"op": "pls", "n_components": list(range(1, 21))}}]}
s = mark("load dataset", s)

def timed(owner, name, label):
    inner = getattr(owner, name)
    def wrapper(*args, **kwargs):
        start = time.perf_counter()
        try:
            return inner(*args, **kwargs)
        finally:
            t[label] = t.get(label, 0.0) + time.perf_counter() - start
    setattr(owner, name, wrapper)

timed(api, "compile", "compile (decode, fold plan, probes)")
timed(service, "execute_plan", "engine (Hamilton DAG)")
timed(service, "save_dataset", "store: dataset + spectra tables")
timed(service, "persist_fits", "store: fitted objects as skops blobs")
timed(WorkspaceStore, "write_results", "store: result tables (Delta merges)")
timed(service, "open_session", "views: session with the compiled views")
timed(service, "view_decisions", "views: join decisions")
timed(service, "run_provenance", "provenance graph")
timed(WorkspaceStore, "begin_run", "store: runs row (running)")
timed(WorkspaceStore, "complete_run", "store: runs row (completed)")
timed(Workspace, "write_document", "store: JSON documents")
with tempfile.TemporaryDirectory() as workspace:
    start = time.perf_counter()
    result = api.run(SPEC, data, workspace=workspace)
    t["nirdag.run total"] = time.perf_counter() - start
    s = time.perf_counter()
    result.best
    s = mark("ranking query (RunResult.best)", s)
t["process total (after interpreter start)"] = time.perf_counter() - s0
print(json.dumps(t))
"""


def _rep() -> dict[str, float]:
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
           "HAMILTON_AUTOLOAD_EXTENSIONS": "0"}
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True,
                         env=env, cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return json.loads(out.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)
    reps = [_rep() for _ in range(args.reps)]
    print(f"| phase (tecator_grid, {args.reps} fresh processes) | median s | min-max s |")
    print("|---|---|---|")
    names = list(dict.fromkeys(n for r in reps for n in r))
    for name in names:
        values = [r.get(name, 0.0) for r in reps]
        print(f"| {name} | {statistics.median(values):.3f} | {min(values):.3f}-{max(values):.3f} |")


if __name__ == "__main__":
    main()
