"""Cached re-run: the first run of a workload into a fresh workspace against a re-run of it in the same workspace.

`python -m benchmarks.cache_rerun [--case tecator_grid|synthetic_grid_M] [--reps R]`. In one process (imports and
first-call costs paid by a warm-up run in a throwaway workspace), each repetition runs the workload twice into a
fresh workspace: cold cache, then warm. Reported (median, min-max): the whole `nirdag.run` (compile, dataset and
result writes to Delta, cache I/O) and its engine part (`RunResult.seconds`: building and executing the Hamilton
DAG), their ratios, and where the engine time of each run went (sum of node seconds by cache outcome, SQL over the
`events` table). The goal tracked is a cached re-run >= 10x faster than the first run on `tecator_grid`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")  # as the nirdag CLI does (before Hamilton is imported)

import nirdag
from benchmarks.workloads import GRID, SG, cases

GOAL = 10.0
_STEPS = {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}], "sg1": [{"op": "savgol", **SG}],
          "detrend": [{"op": "detrend", "order": 1}]}


def _workload(name: str):
    (case,) = [c for c in cases("full") if c.workload == name]
    dataset = nirdag.datasets.tecator() if name == "tecator_grid" else nirdag.datasets.synthetic(
        case.size, case.n_wavelengths, seed=case.seed + case.size)
    spec = {
        "name": name, "target": "fat" if name == "tecator_grid" else "y", "seed": case.seed,
        "pipeline": [
            {"split": {"kind": "kfold", "n_splits": case.n_splits, "shuffle": True}},
            {"branch": {p: _STEPS[p] for p in GRID}},
            {"model": {"op": "pls", "n_components": list(case.components)}},
        ],
    }
    return spec, dataset


def _one(spec, dataset, workspace: Path) -> dict:
    start = time.perf_counter()
    result = nirdag.run(spec, dataset, workspace=workspace)
    total = time.perf_counter() - start
    by_cache = result.sql(f"SELECT cache, count(*) AS n, sum(seconds) AS s FROM events "
                          f"WHERE run_id = '{result.run_id}' GROUP BY cache").to_pylist()
    return {"total": total, "engine": result.seconds, "nodes": {r["cache"]: (r["n"], r["s"]) for r in by_cache}}


def measure(name: str, reps: int) -> list[tuple[dict, dict]]:
    spec, dataset = _workload(name)
    pairs = []
    with tempfile.TemporaryDirectory(prefix="nirdag-cache-bench-") as tmp:
        _one(spec, dataset, Path(tmp) / "warmup")
        for rep in range(reps):
            workspace = Path(tmp) / f"ws{rep}"
            pairs.append((_one(spec, dataset, workspace), _one(spec, dataset, workspace)))
    return pairs


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def _nodes(run: dict) -> str:
    return ", ".join(f"{k} {n} nodes {s:.3f} s" for k, (n, s) in sorted(run["nodes"].items()))


def report(name: str, pairs: list[tuple[dict, dict]]) -> None:
    print(f"## {name}: first run vs cached re-run, {len(pairs)} repetitions (median, min-max)\n")
    print("| part | first run | cached re-run | ratio |")
    print("|---|---|---|---|")
    for part in ("total", "engine"):
        first, again = [p[0][part] for p in pairs], [p[1][part] for p in pairs]
        ratio = statistics.median(f / a for f, a in zip(first, again, strict=True))
        label = "whole nirdag.run" if part == "total" else "engine (build + execute the DAG)"
        print(f"| {label} | {_spread(first)} | {_spread(again)} | {ratio:.1f}x |")
    first, again = pairs[-1]
    print(f"\nnode seconds by cache outcome (last repetition): first run: {_nodes(first)}; re-run: {_nodes(again)}")
    ratio = statistics.median(p[0]["total"] / p[1]["total"] for p in pairs)
    print(f"goal >= {GOAL:.0f}x on the whole run: {'met' if ratio >= GOAL else 'NOT met'} ({ratio:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="tecator_grid", choices=["tecator_grid", "synthetic_grid_M"])
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args()
    report(args.case, measure(args.case, args.reps))


if __name__ == "__main__":
    main()
