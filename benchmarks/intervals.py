"""Coverage and width of split-conformal prediction intervals, and the time of `nirdag explain`:
`python -m benchmarks.intervals [--samples N] [--wavelengths P] [--seeds S]`.

Runs PLS 1..8 (5-fold shuffled KFold, refit of the best) on seeded synthetic spectra (default 5,000 rows, 40 % for
calibration, 60 % held out), exports the best chain and prints, per seed, interval scale and nominal coverage
(80/90/95 %), the empirical coverage of the held-out rows and the mean interval width; then times each explanation
method on the same run (shap only when the optional extra is installed).
"""

from __future__ import annotations

import argparse
import importlib.util
import tempfile
import time
from pathlib import Path

import numpy as np

import nirdag
from nirdag.explanations import ExplainOptions
from nirs_core.data.synthetic import synthetic

SPEC = {
    "name": "bench_intervals", "target": "y", "seed": 0,
    "pipeline": [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
                 {"model": {"op": "pls", "n_components": {"_range_": [1, 8]}}}],
    "refit": {"metric": "rmse", "top_k": 1},
}


def coverage_rows(root: Path, samples: int, wavelengths: int, seed: int) -> tuple[list[dict], object]:
    data = synthetic(samples, wavelengths, seed=seed, test_fraction=0.6, noise=2e-3)
    run = nirdag.run(SPEC, data, workspace=root / f"ws{seed}", seed=seed)
    bundle = run.export(root / f"m{seed}.nirdag")
    test = data.select("test", copy=True)
    y = test.target("y")
    rows = []
    for scale in ("absolute", "leverage"):
        for coverage in (0.8, 0.9, 0.95):
            out = nirdag.predict(bundle, test, interval=coverage, interval_scale=scale)
            lower, upper = out.column("y_lower").to_numpy(), out.column("y_upper").to_numpy()
            rows.append({"seed": seed, "scale": scale, "nominal": coverage,
                         "empirical": float(np.mean((y >= lower) & (y <= upper))),
                         "width": float(np.mean(upper - lower))})
    return rows, run


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=5000)
    parser.add_argument("--wavelengths", type=int, default=64)
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"{'seed':>4} {'scale':>9} {'nominal':>7} {'empirical':>9} {'width':>8}")
        for seed in range(args.seeds):
            rows, run = coverage_rows(root, args.samples, args.wavelengths, seed)
            for r in rows:
                print(f"{r['seed']:>4} {r['scale']:>9} {r['nominal']:>7.2f} {r['empirical']:>9.4f} "
                      f"{r['width']:>8.3f}")
        methods = ["coefficients", "vip", "permutation"]
        if importlib.util.find_spec("shap") is not None:
            methods.append("shap")
        for method in methods:
            start = time.perf_counter()
            out = nirdag.explain(run.workspace, run.run_id, method=method, options=ExplainOptions(n_repeats=2))
            print(f"explain {method:>12}: {time.perf_counter() - start:6.2f} s, {out.table.num_rows} rows "
                  f"(block size {out.block_size})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
