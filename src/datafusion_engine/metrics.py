"""Chemometric metrics as DataFusion aggregate functions: rmse, mae, bias, sep, r2, rpd, rpiq (y_true, y_pred).

Each is a vectorised UDAF over Arrow arrays. All but rpiq keep additive sufficient statistics (n, sums of errors,
squared errors, absolute errors, y and y^2), so partial aggregates merge exactly; rpiq needs the quartiles of y_true
and keeps the values. Definitions (e = y_pred - y_true): rmse = sqrt(mean e^2), mae = mean |e|, bias = mean e,
sep = std(e, ddof=1), r2 = 1 - SSE/SST, rpd = std(y_true, ddof=1) / sep, rpiq = (Q3 - Q1 of y_true) / rmse.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
from datafusion import Accumulator, AggregateUDF, udaf

from relspec.policy import MetricFunction

_F64 = pa.float64()


def _values(array: pa.Array) -> np.ndarray:
    return array.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)


class _Moments(Accumulator):
    """n, sum e, sum e^2, sum |e|, sum y, sum y^2 — enough for every metric but rpiq."""

    def __init__(self, finish: Callable[[np.ndarray], float]):
        self._s = np.zeros(6)
        self._finish = finish

    def update(self, y_true: pa.Array, y_pred: pa.Array) -> None:
        y, p = _values(y_true), _values(y_pred)
        keep = ~(np.isnan(y) | np.isnan(p))
        y, e = y[keep], p[keep] - y[keep]
        self._s += (y.size, e.sum(), e @ e, np.abs(e).sum(), y.sum(), y @ y)

    def merge(self, states: list[pa.Array]) -> None:
        self._s += [float(np.sum(_values(s))) for s in states]

    def state(self) -> list[pa.Scalar]:
        return [pa.scalar(float(v), _F64) for v in self._s]

    def evaluate(self) -> pa.Scalar:
        return pa.scalar(self._finish(self._s) if self._s[0] > 0 else None, _F64)


def _sep(s: np.ndarray) -> float:
    n, se, se2 = s[0], s[1], s[2]
    return float(np.sqrt(max(se2 - se * se / n, 0.0) / (n - 1))) if n > 1 else float("nan")


def _sst(s: np.ndarray) -> float:
    n, sy, sy2 = s[0], s[4], s[5]
    return max(sy2 - sy * sy / n, 0.0)


_FINISH: dict[MetricFunction, Callable[[np.ndarray], float]] = {
    "rmse": lambda s: float(np.sqrt(s[2] / s[0])),
    "mae": lambda s: float(s[3] / s[0]),
    "bias": lambda s: float(s[1] / s[0]),
    "sep": _sep,
    "r2": lambda s: 1.0 - s[2] / _sst(s) if _sst(s) > 0 else float("nan"),
    "rpd": lambda s: float(np.sqrt(_sst(s) / (s[0] - 1)) / _sep(s)) if s[0] > 1 and _sep(s) > 0 else float("nan"),
}


class _Rpiq(Accumulator):
    """Keeps y_true and the squared errors: the interquartile range needs every value."""

    def __init__(self) -> None:
        self._y: list[np.ndarray] = []
        self._e2: list[np.ndarray] = []

    def update(self, y_true: pa.Array, y_pred: pa.Array) -> None:
        y, p = _values(y_true), _values(y_pred)
        keep = ~(np.isnan(y) | np.isnan(p))
        self._y.append(y[keep])
        self._e2.append((p[keep] - y[keep]) ** 2)

    def merge(self, states: list[pa.Array]) -> None:
        for ys, es in zip(states[0].to_pylist(), states[1].to_pylist(), strict=True):
            self._y.append(np.asarray(ys or [], dtype=np.float64))
            self._e2.append(np.asarray(es or [], dtype=np.float64))

    def state(self) -> list[pa.Scalar]:
        y = np.concatenate(self._y) if self._y else np.empty(0)
        e2 = np.concatenate(self._e2) if self._e2 else np.empty(0)
        return [pa.scalar(y, pa.list_(_F64)), pa.scalar(e2, pa.list_(_F64))]

    def evaluate(self) -> pa.Scalar:
        y = np.concatenate(self._y) if self._y else np.empty(0)
        if y.size == 0:
            return pa.scalar(None, _F64)
        rmse = float(np.sqrt(np.mean(np.concatenate(self._e2))))
        q1, q3 = np.percentile(y, [25, 75])
        return pa.scalar(float((q3 - q1) / rmse) if rmse > 0 else float("nan"), _F64)


def metric_udafs() -> dict[MetricFunction, AggregateUDF]:
    """The metric functions by name, each called as ``name(y_true, y_pred)`` in SQL."""
    functions: dict[MetricFunction, AggregateUDF] = {
        name: udaf(lambda finish=finish: _Moments(finish), [_F64, _F64], _F64, [_F64] * 6, "immutable", name=name)
        for name, finish in _FINISH.items()
    }
    functions["rpiq"] = udaf(_Rpiq, [_F64, _F64], _F64, [pa.list_(_F64), pa.list_(_F64)], "immutable", name="rpiq")
    return functions
