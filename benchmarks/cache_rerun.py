"""Cached re-run: the first run of a workload into a fresh workspace against a re-run of it in the same workspace.

`python -m benchmarks.cache_rerun [--case tecator_grid|synthetic_grid_M] [--reps R]`. In one process (imports and
first-call costs paid by a warm-up run in a throwaway workspace), each repetition runs the workload twice into a
fresh workspace: cold cache, then warm. Reported (median, min-max): the whole `nirdag.run` (compile, dataset and
result writes to Delta, cache I/O) and its engine part (`RunResult.seconds`: building and executing the Hamilton
DAG), their ratios, and where the engine time of each run went (sum of node seconds by cache outcome, SQL over the
`events` table). Re-runs measured: the identical one (nirdag returns the finished run), the identical one with
`reuse=False` (served by the node cache only) and one with only the model's parameters changed. Then the Tecator
example as `nirdag run` processes, first and identical re-run (imports included). Goals: an identical re-run >= 10x
faster than the first run in one process and >= 5x as a process.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
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


def _one(spec, dataset, workspace: Path, **kwargs) -> dict:
    start = time.perf_counter()
    result = nirdag.run(spec, dataset, workspace=workspace, **kwargs)
    total = time.perf_counter() - start
    by_cache = result.sql(f"SELECT cache, count(*) AS n, sum(seconds) AS s FROM events "
                          f"WHERE run_id = '{result.run_id}' GROUP BY cache").to_pylist()
    return {"total": total, "engine": 0.0 if result.reused else result.seconds, "reused": result.reused,
            "nodes": {r["cache"]: (r["n"], r["s"]) for r in by_cache}}


def _other_model(spec: dict) -> dict:
    """The same spec with only the model's parameters changed (PLS 1..15 instead of 1..20)."""
    return {**spec, "pipeline": [*spec["pipeline"][:-1], {"model": {"op": "pls", "n_components": list(range(1, 16))}}]}


KINDS = ("first", "identical", "identical_no_reuse", "model_changed")
LABELS = {"first": "first run (fresh workspace)", "identical": "identical re-run (returns the finished run)",
          "identical_no_reuse": "identical re-run, reuse=False (node cache only)",
          "model_changed": "re-run with only the model's parameters changed"}


def measure(name: str, reps: int) -> list[dict[str, dict]]:
    spec, dataset = _workload(name)
    out = []
    with tempfile.TemporaryDirectory(prefix="nirdag-cache-bench-") as tmp:
        _one(spec, dataset, Path(tmp) / "warmup")
        for rep in range(reps):
            workspace = Path(tmp) / f"ws{rep}"
            first = _one(spec, dataset, workspace)
            out.append({"first": first, "identical": _one(spec, dataset, workspace),
                        "identical_no_reuse": _one(spec, dataset, workspace, reuse=False),
                        "model_changed": _one(_other_model(spec), dataset, workspace)})
    return out


def processes(reps: int) -> list[tuple[float, float]]:
    """Wall time of `nirdag run` (the Tecator example) as a fresh process: first run, then the identical re-run."""
    spec = Path(__file__).resolve().parents[1] / "examples" / "tecator_pls.yaml"
    pairs = []
    with tempfile.TemporaryDirectory(prefix="nirdag-cache-bench-") as tmp:
        for rep in range(reps):
            cli = [sys.executable, "-m", "nirdag", "run", str(spec), "-w", str(Path(tmp) / f"ws{rep}"), "--quiet"]
            walls = []
            for _ in range(2):
                start = time.perf_counter()
                subprocess.run(cli, check=True, capture_output=True)
                walls.append(time.perf_counter() - start)
            pairs.append((walls[0], walls[1]))
    return pairs


def _spread(values: list[float]) -> str:
    return f"{statistics.median(values):.3f} s ({min(values):.3f}-{max(values):.3f})"


def _nodes(run: dict) -> str:
    return ", ".join(f"{k} {n} nodes {s:.3f} s" for k, (n, s) in sorted(run["nodes"].items()))


def report(name: str, runs: list[dict[str, dict]], walls: list[tuple[float, float]]) -> None:
    print(f"## {name}: first run vs re-runs in one process, {len(runs)} repetitions (median, min-max)\n")
    print("| run | whole nirdag.run | ratio first / this | engine | ratio first / this |")
    print("|---|---|---|---|---|")
    for kind in KINDS:
        total = [r[kind]["total"] for r in runs]
        engine = [r[kind]["engine"] for r in runs]
        ratio = statistics.median(r["first"]["total"] / r[kind]["total"] for r in runs)
        eng = (statistics.median(r["first"]["engine"] / r[kind]["engine"] for r in runs)
               if all(e > 0 for e in engine) else None)
        print(f"| {LABELS[kind]} | {_spread(total)} | {ratio:.1f}x | {_spread(engine)} | "
              f"{'no engine' if eng is None else f'{eng:.1f}x'} |")
    last = runs[-1]
    print(f"\nnode seconds by cache outcome (last repetition): first run: {_nodes(last['first'])}; re-run with the "
          f"model changed: {_nodes(last['model_changed'])}")
    ratio = statistics.median(r["first"]["total"] / r["identical"]["total"] for r in runs)
    print(f"goal >= {GOAL:.0f}x on the whole run: {'met' if ratio >= GOAL else 'NOT met'} ({ratio:.1f}x)")
    if walls:
        print(f"\n`nirdag run examples/tecator_pls.yaml` as a process, {len(walls)} repetitions: first "
              f"{_spread([w[0] for w in walls])}, identical re-run {_spread([w[1] for w in walls])}, ratio "
              f"{statistics.median(a / b for a, b in walls):.1f}x (imports included; goal >= 5x)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="tecator_grid", choices=["tecator_grid", "synthetic_grid_M"])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--no-processes", action="store_true", help="skip the CLI processes (first vs re-run)")
    args = parser.parse_args()
    report(args.case, measure(args.case, args.reps), [] if args.no_processes else processes(args.reps))


if __name__ == "__main__":
    main()
