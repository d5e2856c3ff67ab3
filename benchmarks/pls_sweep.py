"""PLS component sweep: one PLSSweep(20) fit + predict_all against PLSRegression(k, scale=False) fitted for k = 1..20.

`python -m benchmarks.pls_sweep [--reps R]`. BLAS pinned to one thread. Both sides produce the in-sample
predictions of all 20 models; the table gives the median time of one whole sweep, sweeps per second and the ratio.
The goal tracked is a sweep at least 10x faster than the scikit-learn loop.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
from sklearn.cross_decomposition import PLSRegression
from threadpoolctl import threadpool_limits

from nirdag import datasets
from nirs_core.operators import PLSSweep

K = 20
GOAL = 10.0


def _sweep(X: np.ndarray, y: np.ndarray) -> np.ndarray:
    return PLSSweep(K).fit(X, y).predict_all(X)


def _sklearn_loop(X: np.ndarray, y: np.ndarray) -> list[np.ndarray]:
    return [PLSRegression(n_components=k, scale=False).fit(X, y).predict(X) for k in range(1, K + 1)]


def _cases() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    tecator = datasets.tecator()
    train = tecator.rows("train")
    synthetic = datasets.synthetic(2_000, 1_000, seed=0)
    return {
        "tecator fat (train)": (np.asarray(tecator.spectra[train]), np.asarray(tecator.target("fat")[train])),
        "synthetic seed 0": (np.asarray(synthetic.spectra), np.asarray(synthetic.target("y"))),
    }


def measure(reps: int) -> list[dict]:
    rows = []
    with threadpool_limits(1):
        for name, (X, y) in _cases().items():
            _sweep(X, y)  # warm-up: first-call costs (imports, page faults) are not what is compared
            times: dict[str, list[float]] = {"sweep": [], "sklearn": []}
            for rep in range(reps):
                # Alternate which side runs first so that drift in the machine's load hits both alike.
                order = [("sweep", _sweep), ("sklearn", _sklearn_loop)]
                for side, fn in order if rep % 2 == 0 else order[::-1]:
                    start = time.perf_counter()
                    fn(X, y)
                    times[side].append(time.perf_counter() - start)
            sweep, loop = statistics.median(times["sweep"]), statistics.median(times["sklearn"])
            rows.append({"case": name, "shape": X.shape, "sweep_s": sweep, "sklearn_s": loop, "ratio": loop / sweep})
    return rows


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.pls_sweep", description=__doc__)
    p.add_argument("--reps", type=int, default=5)
    args = p.parse_args(argv)
    print(f"| case | n x p | PLSSweep({K}) ms | sklearn k=1..{K} ms | sweeps/s ours | sweeps/s sklearn | ratio |")
    print("|---|---|---|---|---|---|---|")
    for r in measure(args.reps):
        n, p_ = r["shape"]
        print(f"| {r['case']} | {n} x {p_} | {r['sweep_s'] * 1e3:.1f} | {r['sklearn_s'] * 1e3:.1f} | "
              f"{1 / r['sweep_s']:.1f} | {1 / r['sklearn_s']:.2f} | {r['ratio']:.1f}x |")
    print(f"median of {args.reps} repetitions, BLAS pinned to 1 thread; goal: ratio >= {GOAL:.0f}x")


if __name__ == "__main__":
    main()
