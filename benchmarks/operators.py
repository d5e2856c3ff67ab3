"""Operator throughput: ns per value of NIRS transforms on 10,000 x 1,000 float64, beside a plain memory copy.

`python -m benchmarks.operators [--rows N --cols P --reps R]`. BLAS pinned to one thread. The copy
(`np.copyto` into a preallocated array) is the physical floor; the goals tracked are SNV within 5x of it and
Savitzky-Golay within 10x.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from threadpoolctl import threadpool_limits

from nirs_core.operators import MSC, SNV, Detrend, SavitzkyGolay

GOALS = {"SNV": 5.0, "SavitzkyGolay(11,2,1)": 10.0}


def _time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def measure(rows: int, cols: int, reps: int) -> list[dict]:
    rng = np.random.default_rng(0)
    X = np.cumsum(rng.normal(size=(rows, cols)), axis=1)
    out = np.empty_like(X)
    cases = {
        "copy (floor)": lambda: np.copyto(out, X),
        "SNV": lambda: SNV().transform(X),
        "MSC (fit+transform)": lambda: MSC().fit(X).transform(X),
        "SavitzkyGolay(11,2,1)": lambda: SavitzkyGolay(11, 2, 1).transform(X),
        "Detrend(1)": lambda: Detrend(1).transform(X),
    }
    with threadpool_limits(1):
        seconds = {name: _time(fn, reps) for name, fn in cases.items()}
    floor = seconds["copy (floor)"]
    return [{"operator": name, "ns_per_value": s / X.size * 1e9, "x_copy": s / floor, "goal_x_copy": GOALS.get(name)}
            for name, s in seconds.items()]


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.operators", description=__doc__)
    p.add_argument("--rows", type=int, default=10_000)
    p.add_argument("--cols", type=int, default=1_000)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    print(f"| operator ({args.rows} x {args.cols}) | ns/value | x copy | goal |")
    print("|---|---|---|---|")
    for r in measure(args.rows, args.cols, args.reps):
        goal = f"<= {r['goal_x_copy']:.0f}x" if r["goal_x_copy"] else ""
        print(f"| {r['operator']} | {r['ns_per_value']:.2f} | {r['x_copy']:.1f} | {goal} |")


if __name__ == "__main__":
    main()
