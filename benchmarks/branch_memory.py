"""Peak memory against the number of branches: does branching copy the spectra?

`python -m benchmarks.branch_memory [--samples N] [--wavelengths P] [--branches 1 2 4 8 16] [--executor sync]
[--families fitted hoisted]`. Each point runs in its own fresh Python process (so peaks do not mix): the engine
alone (compile + execute the Hamilton DAG, no workspace writes) on a synthetic N x P dataset, with B branches. Two
families:

- ``fitted``: B alternatives of fitted steps (MSC, EMSC, autoscale... cycled), each fitted per fold on the raw
  spectra: the branches read the one raw matrix (no copy per branch);
- ``hoisted``: B row-wise stateless alternatives (Savitzky-Golay windows), each computed once above the folds: every
  branch produces a new N x P matrix, freed once its fold fits have run (the refit rebuilds the input of the
  group it refits).

Reported: peak RSS of the engine's process (MB, `ru_maxrss`) and its growth per branch over the first point, against
the size of one spectra matrix; with ``--executor processes|dask|ray`` (2 workers) also the largest peak of a
worker process this process waited for (`RUSAGE_CHILDREN`; Ray's workers are not such children: not reported).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

_CHILD = r"""
import json, os, resource, sys
os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")
import nirdag
from hamilton_pipeline import execute_plan
n, p, b, family, executor = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4], sys.argv[5]
data = nirdag.datasets.synthetic(n, p, seed=7)
fitted = [[{"op": "msc"}], [{"op": "emsc", "order": 1}], [{"op": "autoscale"}], [{"op": "mean_centre"}],
          [{"op": "emsc", "order": 2}], [{"op": "osc"}]]
if family == "fitted":
    alternatives = {f"f{i}": fitted[i % len(fitted)] + [{"op": "detrend", "order": i // len(fitted)}]
                    for i in range(b)}
else:
    alternatives = {f"s{i}": [{"op": "savgol", "window_length": 5 + 2 * i}] for i in range(b)}
spec = {"target": "y", "pipeline": [{"split": {"kind": "kfold", "n_splits": 5}}, {"branch": alternatives},
                                    {"model": {"op": "pls", "n_components": [5, 10]}}]}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
workers = None if executor == "sync" else 2
execute_plan(nirdag.compile(spec, data, executor=executor, workers=workers), data)
print(json.dumps({"baseline_mb": before / 1024, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "workers_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024}))
"""


def _point(n: int, p: int, b: int, family: str, executor: str) -> dict[str, float]:
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "RAY_USAGE_STATS_ENABLED": "0"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(p), str(b), family, executor],
                         capture_output=True, text=True, check=True, env={**os.environ, **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--wavelengths", type=int, default=1000)
    parser.add_argument("--branches", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    parser.add_argument("--executor", choices=["sync", "threads", "processes", "dask", "ray"], default="sync")
    parser.add_argument("--families", choices=["fitted", "hoisted"], nargs="+", default=["fitted", "hoisted"])
    args = parser.parse_args()
    matrix_mb = args.samples * args.wavelengths * 8 / 2**20
    workers = args.executor in ("processes", "dask")
    print(f"synthetic {args.samples} x {args.wavelengths}: one spectra matrix = {matrix_mb:.1f} MB; "
          f"executor {args.executor}")
    print("| family | branches | peak RSS MB | growth per branch over the first point (MB) |"
          + (" largest worker peak MB |" if workers else ""))
    print("|---|---|---|---|" + ("---|" if workers else ""))
    for family in args.families:
        first = None
        for b in args.branches:
            point = _point(args.samples, args.wavelengths, b, family, args.executor)
            peak = point["peak_mb"]
            first = peak if first is None else first
            per = (peak - first) / (b - args.branches[0]) if b != args.branches[0] else 0.0
            extra = f" {point['workers_mb']:.0f} |" if workers else ""
            print(f"| {family} | {b} | {peak:.0f} | {per:.1f} |{extra}", flush=True)


if __name__ == "__main__":
    main()
