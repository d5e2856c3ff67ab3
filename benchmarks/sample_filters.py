"""Sample filter cost per fold fit: x_outliers (PCA T²/Q) and leverage on n x p spectra, beside one PLS fit of the
same rows (the work a fold does anyway).

`python -m benchmarks.sample_filters [--rows N --cols P --components K --reps R]`. BLAS pinned to one thread.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from nirs_core.operators import Leverage, PLSSweep, XOutliers, YOutliers


def _time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(rows: int, cols: int, components: int, reps: int) -> dict[str, float]:
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(size=(rows, cols)), axis=1)
    y = X[:, cols // 2] + rng.normal(size=rows)
    cases = {
        f"PLS fit, {components} components (reference)": lambda: PLSSweep(components).fit(X, y),
        f"x_outliers(n_components={components})": lambda: XOutliers(n_components=components).fit(X),
        f"leverage(n_components={components})": lambda: Leverage(n_components=components).fit(X),
        "y_outliers(method=mad)": lambda: YOutliers().fit(X, y),
    }
    with threadpool_limits(1):
        return {name: _time(fn, reps) for name, fn in cases.items()}


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.sample_filters", description=__doc__)
    p.add_argument("--rows", type=int, default=800)
    p.add_argument("--cols", type=int, default=1_000)
    p.add_argument("--components", type=int, default=5)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    seconds = measure(args.rows, args.cols, args.components, args.reps)
    print(f"| step ({args.rows} x {args.cols}) | ms (median of {args.reps}) |")
    print("|---|---|")
    for name, s in seconds.items():
        print(f"| {name} | {s * 1e3:.1f} |")


if __name__ == "__main__":
    main()
