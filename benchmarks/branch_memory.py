"""Peak memory against the number of branches: does branching copy the spectra?

`python -m benchmarks.branch_memory [--samples N] [--wavelengths P] [--branches 1 2 4 8 16]`. Each point runs in
its own fresh Python process (so peaks do not mix): the engine alone (compile + execute the Hamilton DAG, no
workspace writes) on a synthetic N x P dataset, with B branches. Two families:

- ``fitted``: B alternatives of fitted steps (MSC, EMSC, autoscale... cycled), each fitted per fold on the raw
  spectra: the branches read the one raw matrix (no copy per branch);
- ``hoisted``: B row-wise stateless alternatives (Savitzky-Golay windows), each computed once above the folds: every
  branch produces a new N x P matrix by design, held until the run ends.

Reported: peak RSS (MB, `ru_maxrss`) and its growth per branch over the B=1 point, against the size of one spectra
matrix.
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
n, p, b, family = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
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
execute_plan(nirdag.compile(spec, data), data)
print(json.dumps({"baseline_mb": before / 1024, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _point(n: int, p: int, b: int, family: str) -> dict[str, float]:
    env = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", _CHILD, str(n), str(p), str(b), family], capture_output=True,
                         text=True, check=True, env={**os.environ, **env})
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--wavelengths", type=int, default=1000)
    parser.add_argument("--branches", type=int, nargs="+", default=[1, 2, 4, 8, 16])
    args = parser.parse_args()
    matrix_mb = args.samples * args.wavelengths * 8 / 2**20
    print(f"synthetic {args.samples} x {args.wavelengths}: one spectra matrix = {matrix_mb:.1f} MB")
    print("| family | branches | peak RSS MB | growth per branch over B=1 (MB) |")
    print("|---|---|---|---|")
    for family in ("fitted", "hoisted"):
        first = None
        for b in args.branches:
            peak = _point(args.samples, args.wavelengths, b, family)["peak_mb"]
            first = peak if first is None else first
            per = (peak - first) / (b - args.branches[0]) if b != args.branches[0] else 0.0
            print(f"| {family} | {b} | {peak:.0f} | {per:.1f} |", flush=True)


if __name__ == "__main__":
    main()
