"""Latent-variable models and CARS beside a reference implementation, in one run, on synthetic spectra.

`python -m benchmarks.models [--rows 2000 --cols 1000 --components 10 --queries 100 --cars-runs 20 --uve-runs 50
--intervals 10 --reps 3]`.
BLAS pinned to one
thread. Each row times nirdag's estimator and a reference that computes the same predictions another way, and
reports the largest difference between them:

- OPLS, one fit with K - 1 orthogonal components predicting every count (`predict_all`), against scikit-learn's
  `PLSRegression(k, scale=False)` fitted for k = 1..K (OPLS with k components predicts as PLS with k; Trygg & Wold
  2002). The difference grows with k, as the two deflations drift apart in floating point.
- LWPLS, K components for `--queries` new spectra, against ikpls' PLS fitted once per query with the similarity
  weights as sample weights (the same locally weighted model, Kim et al. 2013).
- CARS with `--cars-runs` Monte Carlo runs (5 components, 5-fold CV of each subset), against the same algorithm
  written here with scikit-learn's `PLSRegression` and the same seeded draws; the difference column is the number
  of wavelengths on which the two selections differ.
- MC-UVE with `--uve-runs` sub-samples (80 % of the rows, 5 components, the 50 most stable wavelengths kept) and
  forward iPLS with `--intervals` intervals (5 components, 5-fold CV of each candidate set), each against its
  algorithm written here with `PLSRegression` (no PyPI package implements either); the difference column is again
  the number of wavelengths chosen apart.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import numpy as np
from ikpls.numpy import PLS as IKPLS
from sklearn.cross_decomposition import PLSRegression
from threadpoolctl import threadpool_limits

from nirs_core.data import synthetic
from nirs_core.operators import CARS, LWPLS, MCUVE, OPLS, IntervalPLS
from nirs_core.operators.selection import cars_ratios


def _time(fn: Callable[[], np.ndarray], reps: int) -> tuple[float, np.ndarray]:
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def _pls_loop(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, K: int) -> np.ndarray:
    return np.stack([PLSRegression(k, scale=False).fit(X, y).predict(X_new).ravel() for k in range(1, K + 1)])


def _weighted_ikpls(X: np.ndarray, y: np.ndarray, X_new: np.ndarray, K: int, bandwidth: float) -> np.ndarray:
    out = np.empty((K, X_new.shape[0]))
    for i, x in enumerate(X_new):
        d = np.linalg.norm(X - x, axis=1)
        weights = np.exp(-d / (bandwidth * d.std(ddof=1)))
        model = IKPLS(algorithm=1, center_X=True, center_Y=True, scale_X=False, scale_Y=False)
        out[:, i] = model.fit(X, y, K, sample_weight=weights).predict(x[None, :])[:, 0, 0]
    return out


def _pls_b(X: np.ndarray, y: np.ndarray, k: int) -> np.ndarray:
    return PLSRegression(min(k, X.shape[0] - 1, X.shape[1]), scale=False).fit(X, y).coef_.ravel()


def _cars_reference(X: np.ndarray, y: np.ndarray, runs: int, seed: int, k: int = 5, folds: int = 5,
                    min_keep: int = 10) -> np.ndarray:
    """CARS (Li et al. 2009) with scikit-learn's PLS: the selection as a 0/1 mask over the columns."""
    rng = np.random.default_rng(seed)
    n, p = X.shape
    kept, subsets = np.arange(p), []
    for ratio in cars_ratios(p, runs):
        rows = rng.choice(n, size=max(2, int(np.rint(0.8 * n))), replace=False)
        w = np.abs(_pls_b(X[np.ix_(rows, kept)], y[rows], k))
        w /= w.sum()
        count = min(kept.size, max(int(np.rint(ratio * p)), min_keep))
        top = np.argsort(-w, kind="stable")[:count]
        kept = kept[np.unique(rng.choice(top, size=count, replace=True, p=w[top] / w[top].sum()))]
        subsets.append(kept)
    scores = []
    for s in subsets:
        pred = np.empty(n)
        for val in np.array_split(np.arange(n), folds):
            train = np.setdiff1d(np.arange(n), val)
            model = PLSRegression(min(k, train.size - 1, s.size), scale=False).fit(X[np.ix_(train, s)], y[train])
            pred[val] = model.predict(X[np.ix_(val, s)]).ravel()
        scores.append(np.sqrt(np.mean((pred - y) ** 2)) if s.size >= min_keep else np.inf)
    best = min(range(runs), key=lambda i: (scores[i], subsets[i].size, i))
    mask = np.zeros(p)
    mask[subsets[best]] = 1.0
    return mask


def _cars_mask(X: np.ndarray, y: np.ndarray, runs: int, seed: int) -> np.ndarray:
    mask = np.zeros(X.shape[1])
    mask[CARS(n_components=5, n_runs=runs, random_state=seed).fit(X, y).support_] = 1.0
    return mask


def _mask(p: int, support: np.ndarray) -> np.ndarray:
    mask = np.zeros(p)
    mask[support] = 1.0
    return mask


def _mc_uve_reference(X: np.ndarray, y: np.ndarray, runs: int, seed: int, n_keep: int = 50) -> np.ndarray:
    """MC-UVE (Cai et al. 2008) with scikit-learn's PLS and the same seeded draws, as a 0/1 mask."""
    rng = np.random.default_rng(seed)
    n = X.shape[0]
    draw = min(n - 1, max(2, int(np.rint(0.8 * n))))
    B = np.array([_pls_b(X[rows], y[rows], 5) for rows in (rng.choice(n, size=draw, replace=False)
                                                           for _ in range(runs))])
    stability = np.abs(B.mean(axis=0) / B.std(axis=0, ddof=1))
    return _mask(X.shape[1], np.argsort(-stability, kind="stable")[:n_keep])


def _cv_rmse(X: np.ndarray, y: np.ndarray, k: int = 5, folds: int = 5) -> float:
    pred = np.empty(y.size)
    for val in np.array_split(np.arange(y.size), folds):
        train = np.setdiff1d(np.arange(y.size), val)
        model = PLSRegression(min(k, train.size - 1, X.shape[1]), scale=False).fit(X[train], y[train])
        pred[val] = model.predict(X[val]).ravel()
    return float(np.sqrt(np.mean((pred - y) ** 2)))


def _ipls_reference(X: np.ndarray, y: np.ndarray, n_intervals: int) -> np.ndarray:
    """Forward iPLS (Nørgaard et al. 2000) with scikit-learn's PLS, as a 0/1 mask."""
    intervals = np.array_split(np.arange(X.shape[1]), n_intervals)
    kept: list[int] = []
    best = np.inf
    while len(kept) < n_intervals:
        rmse, i = min((_cv_rmse(X[:, np.concatenate([intervals[j] for j in sorted([*kept, i])])], y), i)
                      for i in range(n_intervals) if i not in kept)
        if rmse >= best:
            break
        kept, best = [*kept, i], rmse
    return _mask(X.shape[1], np.concatenate([intervals[j] for j in kept]))


def measure(rows: int, cols: int, K: int, queries: int, reps: int, bandwidth: float = 1.0,
            cars_runs: int = 20, uve_runs: int = 50, intervals: int = 10) -> list[dict]:
    data = synthetic(rows, cols, seed=0)
    train, test = data.rows("train"), data.rows("test")
    X, y, X_new = np.array(data.spectra[train]), data.target("y")[train], np.array(data.spectra[test])
    cases = [
        ("OPLS (1 fit, every k)", lambda: OPLS(K).fit(X, y).predict_all(X_new)[:, :, 0],
         "PLSRegression x K fits", lambda: _pls_loop(X, y, X_new, K)),
        (f"LWPLS ({queries} queries)", lambda: LWPLS(K, bandwidth).fit(X, y).predict_all(X_new[:queries])[:, :, 0],
         "ikpls weighted, 1 fit per query", lambda: _weighted_ikpls(X, y, X_new[:queries], K, bandwidth)),
        (f"CARS ({cars_runs} runs)", lambda: _cars_mask(X, y, cars_runs, 0),
         "the algorithm with PLSRegression", lambda: _cars_reference(X, y, cars_runs, 0)),
        (f"MC-UVE ({uve_runs} runs)",
         lambda: _mask(X.shape[1], MCUVE(5, uve_runs, 0.8, n_keep=50, random_state=0).fit(X, y).support_),
         "the algorithm with PLSRegression", lambda: _mc_uve_reference(X, y, uve_runs, 0)),
        (f"iPLS forward ({intervals} intervals)",
         lambda: _mask(X.shape[1], IntervalPLS(intervals, "forward", 5, 5).fit(X, y).support_),
         "the algorithm with PLSRegression", lambda: _ipls_reference(X, y, intervals)),
    ]
    out = []
    with threadpool_limits(1):
        for name, ours, reference, theirs in cases:
            ours_s, ours_pred = _time(ours, reps)
            ref_s, ref_pred = _time(theirs, reps)
            gap = np.abs(ours_pred - ref_pred)  # selections: 0/1 masks, so the sum counts the wavelengths apart
            selection = name.startswith(("CARS", "MC-UVE", "iPLS"))
            out.append({"model": name, "seconds": ours_s, "reference": reference, "reference_seconds": ref_s,
                        "speedup": ref_s / ours_s, "difference": float(gap.sum() if selection else gap.max()),
                        "y_range": float(np.ptp(y))})
    return out


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(prog="python -m benchmarks.models", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=2_000)
    p.add_argument("--cols", type=int, default=1_000)
    p.add_argument("--components", type=int, default=10)
    p.add_argument("--queries", type=int, default=100)
    p.add_argument("--cars-runs", type=int, default=20)
    p.add_argument("--uve-runs", type=int, default=50)
    p.add_argument("--intervals", type=int, default=10)
    p.add_argument("--reps", type=int, default=3)
    args = p.parse_args(argv)
    print(f"| model ({args.rows} x {args.cols}, K={args.components}) | s | reference | s | reference / ours "
          "| max abs diff (y range); selections: wavelengths chosen apart |")
    print("|---|---|---|---|---|---|")
    for r in measure(args.rows, args.cols, args.components, args.queries, args.reps, cars_runs=args.cars_runs,
                     uve_runs=args.uve_runs, intervals=args.intervals):
        print(f"| {r['model']} | {r['seconds']:.3f} | {r['reference']} | {r['reference_seconds']:.3f} | "
              f"{r['speedup']:.1f}x | {r['difference']:.1e} ({r['y_range']:.0f}) |")


if __name__ == "__main__":
    main()
