"""sklearn_loop: the plain script a chemometrician writes — make_pipeline + cross_val_predict for every config.

Transforms are written here with numpy/scipy (no nirdag code), as such a script would.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
from scipy.signal import detrend, savgol_filter
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cross_decomposition import PLSRegression
from sklearn.model_selection import KFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import FunctionTransformer

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import read_task, rmse, write_result


def snv(X):
    return (X - X.mean(axis=1, keepdims=True)) / X.std(axis=1, keepdims=True)


class MSC(TransformerMixin, BaseEstimator):
    """Regress each spectrum on the mean training spectrum: x = a + b * ref; return (x - a) / b."""

    def fit(self, X, y=None):
        self.ref_ = X.mean(axis=0)
        return self

    def transform(self, X):
        design = np.column_stack([np.ones_like(self.ref_), self.ref_])
        coef, *_ = np.linalg.lstsq(design, X.T, rcond=None)
        return (X - coef[0][:, None]) / coef[1][:, None]


def transform(name: str, task: dict):
    if name == "snv":
        return FunctionTransformer(snv)
    if name == "msc":
        return MSC()
    if name == "sg1":
        sg = task["sg"]
        return FunctionTransformer(
            lambda X: savgol_filter(X, sg["window_length"], sg["polyorder"], deriv=sg["deriv"], axis=1))
    if name == "detrend":
        if task["detrend_order"] != 1:
            raise SystemExit("sklearn_loop: only linear detrend (order 1) is written here")
        return FunctionTransformer(lambda X: detrend(X, axis=1, type="linear"))
    raise SystemExit(f"sklearn_loop: unknown preprocessing {name!r}")


def evaluate(task: dict, data: dict) -> tuple[float, int, str, float, int]:
    """Every configuration's pooled RMSECV, the best one refit on all train rows: (RMSECV, k, name, RMSEP, n)."""
    X, y = data["X_train"], data["y_train"]
    folds = KFold(task["n_splits"], shuffle=True, random_state=task["seed"])
    results = []
    for name in task["preprocessings"]:
        for k in task["components"]:
            model = make_pipeline(transform(name, task), PLSRegression(k, scale=False))
            results.append((rmse(y, cross_val_predict(model, X, y, cv=folds)), k, name))
    best_rmsecv, k, name = min(results, key=lambda r: (r[0], r[1]))
    final = make_pipeline(transform(name, task), PLSRegression(k, scale=False)).fit(X, y)
    rmsep = rmse(data["y_test"], final.predict(data["X_test"]))
    return best_rmsecv, k, name, rmsep, len(results)


def main() -> None:
    task, data, out = read_task()
    start = time.perf_counter()
    best_rmsecv, k, name, rmsep, n_chains = evaluate(task, data)
    compute_s = time.perf_counter() - start
    second_s = None
    if task.get("calls", 1) > 1:  # the in-process measure: the same work once more in this process
        again = time.perf_counter()
        evaluate(task, data)
        second_s = time.perf_counter() - again
    write_result(out, contender="sklearn_loop", best_rmsecv=best_rmsecv, best_rmsep=rmsep,
                 best_chain=f"{name}|k={k}", n_chains=n_chains, compute_s=compute_s, second_s=second_s,
                 rmsecv_kind="pooled")


if __name__ == "__main__":
    main()
