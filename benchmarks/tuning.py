"""A 100-trial TPE study against the equivalent grid, on 2,000 x 1,000 synthetic spectra.

`python -m benchmarks.tuning [--trials 100] [--rows 2000] [--wavelengths 1000] [--executor sync] [--workers N]`.
The search space: Savitzky-Golay window 5..31 (odd), derivative 0/1/2, PLS 1..20 components (14 x 3 x 20 = 840
points), scored by the same 5 shuffled folds. The grid is the plain spec of every point (a branch of the 42
Savitzky-Golay settings x PLS 1..20: one fit per fold serves the 20 counts); the study is the tuned spec
(`tune: {sampler: tpe, n_trials: 100}`; a random study of as many trials for reference). Each runs once in this
process into a fresh workspace, cache off, after a warm-up run (imports and first-call costs excluded). Printed:
best RMSECV, its point, where it ranks in the grid, chains, wall and CPU seconds of `nirdag.run` (the CPU time of
this process is the fairer figure on a shared machine with the sync executor).
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")  # as the nirdag CLI does (before Hamilton is imported)

import nirdag

WINDOWS = list(range(5, 32, 2))
DERIVS = [0, 1, 2]
COMPONENTS = (1, 20)
SPLIT = {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}
SEED = 11


def grid_spec() -> dict:
    branch = {f"w{w}_d{d}": [{"op": "savgol", "window_length": w, "polyorder": 2, "deriv": d}]
              for w in WINDOWS for d in DERIVS}
    return {"name": "grid", "target": "y", "seed": SEED, "pipeline": [
        SPLIT, {"branch": branch}, {"model": {"op": "pls", "n_components": list(range(COMPONENTS[0],
                                                                                      COMPONENTS[1] + 1))}}]}


def tuned_spec(sampler: str, trials: int, batch: int | None) -> dict:
    tune = {"sampler": sampler, "n_trials": trials, "seed": SEED, **({"batch": batch} if batch else {})}
    return {"name": f"tune_{sampler}", "target": "y", "seed": SEED, "tune": tune, "pipeline": [
        SPLIT,
        {"op": "savgol", "window_length": {"_tune_": {"low": WINDOWS[0], "high": WINDOWS[-1], "step": 2}},
         "polyorder": 2, "deriv": {"_tune_": {"choices": DERIVS}}},
        {"model": {"op": "pls", "n_components": {"_tune_": {"low": COMPONENTS[0], "high": COMPONENTS[1]}}}}]}


def _best(run) -> tuple[float, str, int]:
    row = run.sql(f"SELECT c.preprocessing, c.n_components, s.value FROM chains c JOIN scores s ON s.run_id = "
                  f"c.run_id AND s.chain_id = c.chain_id WHERE c.run_id = '{run.run_id}' AND s.fold_id = 'cv' "
                  "AND s.partition = 'val' AND s.metric = 'rmse' ORDER BY s.value LIMIT 1").to_pylist()[0]
    return row["value"], row["preprocessing"], row["n_components"]


def _run(spec: dict, dataset, root: Path, **kwargs) -> tuple[object, float, float]:
    start, cpu = time.perf_counter(), time.process_time()
    run = nirdag.run(spec, dataset, workspace=root / spec["name"], cache=False, calibration="off", **kwargs)
    return run, time.perf_counter() - start, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=100)
    parser.add_argument("--rows", type=int, default=2_000)
    parser.add_argument("--wavelengths", type=int, default=1_000)
    parser.add_argument("--executor", default="sync")
    parser.add_argument("--workers", type=int, default=None)
    parser.add_argument("--no-random", action="store_true", help="skip the random study")
    args = parser.parse_args()
    dataset = nirdag.datasets.synthetic(args.rows, args.wavelengths, seed=SEED)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        warm = nirdag.datasets.synthetic(120, 60, seed=1)
        _run({**tuned_spec("tpe", 4, None), "name": "warm"}, warm, root)
        grid, grid_s, grid_cpu = _run(grid_spec(), dataset, root, executor=args.executor, workers=args.workers)
        grid_rmse = sorted(r["value"] for r in grid.sql(
            f"SELECT value FROM scores WHERE run_id = '{grid.run_id}' AND fold_id = 'cv' AND partition = 'val' "
            "AND metric = 'rmse'").to_pylist())
        rows = [("grid", len(grid.plan.chains), grid_s, grid_cpu, *_best(grid))]
        for sampler in ("tpe",) if args.no_random else ("tpe", "random"):
            study, study_s, study_cpu = _run(tuned_spec(sampler, args.trials, None), dataset, root,
                                             executor=args.executor, workers=args.workers)
            rows.append((f"{sampler} {args.trials} trials", len(study.plan.chains), study_s, study_cpu,
                         *_best(study)))
    print(f"{args.rows} x {args.wavelengths} synthetic, {len(WINDOWS) * len(DERIVS) * 20} points, executor "
          f"{args.executor}")
    print("| search | chains | wall s | cpu s (this process) | best RMSECV | its rank in the grid | best point |")
    print("|---|---|---|---|---|---|---|")
    for name, chains, seconds, cpu, rmse, prep, k in rows:
        rank = sum(v < rmse - 1e-12 for v in grid_rmse) + 1
        print(f"| {name} | {chains} | {seconds:.1f} | {cpu:.1f} | {rmse:.6f} | {rank} of {len(grid_rmse)} | "
              f"{prep}, {k} LV |")


if __name__ == "__main__":
    main()
