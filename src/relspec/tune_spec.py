"""The tuning language: the top-level ``tune:`` block and the ``{_tune_: ...}`` markers written where a value goes.

A marker is ``{_tune_: {low: 1, high: 20}}`` (an integer when both bounds are integers, a float otherwise; ``log:
true`` samples on a log scale, ``step`` on a lattice from ``low``) or ``{_tune_: {choices: [a, b, c]}}``. Markers
are found in the raw spec (before decoding) and replaced by a trial's values (:func:`substitute`); what a value may
be is then checked by decoding the spec as for any other value, so the operator's own constraints apply. msgspec
and numpy only: no Optuna here.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, Literal

import msgspec
import numpy as np

from relspec.errors import SpecError
from relspec.generators import is_generator

_STRICT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}
TUNE_KEY = "_tune_"
Sampler = Literal["tpe", "random", "cmaes", "grid"]
Pruner = Literal["median", "hyperband"]
Choice = str | int | float | bool | None
MAX_GRID = 100_000  # points a `grid` study enumerates at most (counted before any is built)


class TuneBlock(msgspec.Struct, **_STRICT):
    """The study: ``sampler`` (Optuna's TPE, random, CMA-ES or the grid of the markers), ``n_trials`` (at most),
    ``timeout`` (seconds after which no new batch is asked), ``pruner`` (median or hyperband, on the per-fold
    losses), ``seed`` (the sampler's; default: the spec's seed) and ``batch`` (trials asked, compiled and run
    together; default: the run's workers)."""

    sampler: Sampler = "tpe"
    n_trials: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 20
    timeout: Annotated[float, msgspec.Meta(gt=0)] | None = None
    pruner: Pruner | None = None
    seed: Annotated[int, msgspec.Meta(ge=0)] | None = None
    batch: Annotated[int, msgspec.Meta(ge=1, le=1024)] | None = None


class _Marker(msgspec.Struct, **_STRICT):
    """The body of a ``_tune_`` marker as written."""

    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    step: int | float | None = None
    choices: list[Choice] | None = None


class TunedParam(msgspec.Struct, **_STRICT):
    """One tuned value: where it is written (its spec path, also its name in the study) and its distribution."""

    path: str
    kind: Literal["int", "float", "categorical"]
    low: int | float | None = None
    high: int | float | None = None
    log: bool = False
    step: int | float | None = None
    choices: tuple[Choice, ...] = ()

    def points(self) -> tuple[Choice, ...]:
        """The values that bound what a trial may be: low and high, or every choice (checked by decoding)."""
        if self.kind == "categorical":
            return self.choices
        return (self.low, self.high) if self.low != self.high else (self.low,)

    def grid_count(self) -> int:
        """How many values :meth:`grid_values` gives, counted without building them."""
        if self.kind == "categorical":
            return len(self.choices)
        if self.kind == "int":
            return (int(self.high) - int(self.low)) // int(self.step or 1) + 1
        if self.step is None:
            self.grid_values()  # raises the error naming the path
        return math.floor((self.high - self.low) / self.step + 1e-9) + 1

    def grid_values(self) -> list[Choice]:
        """Every value of a ``grid`` study: the choices, or the range on its step (1 for integers)."""
        if self.kind == "categorical":
            return list(self.choices)
        if self.kind == "int":
            step = int(self.step or 1)
            return list(range(int(self.low), int(self.high) + 1, step))
        if self.step is None:
            raise SpecError(f"invalid pipeline spec: sampler `grid` enumerates choices and stepped ranges; a float "
                            f"range needs a `step` (or `choices`) - at `{self.path}.{TUNE_KEY}`")
        n = math.floor((self.high - self.low) / self.step + 1e-9) + 1
        return [float(v) for v in self.low + self.step * np.arange(n)]


def _fail(path: str, message: str) -> SpecError:
    return SpecError(f"invalid pipeline spec: {message} - at `{path}`")


def _param(body: Any, path: str) -> TunedParam:
    where = f"{path}.{TUNE_KEY}"
    try:
        m = msgspec.convert(body, _Marker)
    except msgspec.ValidationError as exc:
        raise _fail(where, f"a `_tune_` value is {{low, high[, log, step]}} or {{choices: [...]}}: {exc}") from None
    if m.choices is not None:
        if m.low is not None or m.high is not None or m.log or m.step is not None:
            raise _fail(where, "`choices` stands alone: no low, high, log or step beside it")
        if not m.choices:
            raise _fail(where, "`choices` is empty: nothing can be sampled")
        return TunedParam(path=path, kind="categorical", choices=tuple(m.choices))
    if m.low is None or m.high is None:
        raise _fail(where, "a `_tune_` range needs both `low` and `high` (or write `choices`)")
    if m.low > m.high:
        raise _fail(where, f"low={m.low!r} is above high={m.high!r}: nothing can be sampled")
    if m.log and m.low <= 0:
        raise _fail(where, f"`log: true` needs low > 0, got low={m.low!r}")
    if m.step is not None and m.step <= 0:
        raise _fail(where, f"`step` must be positive, got {m.step!r}")
    if m.step is not None and m.log:
        raise _fail(where, "`step` and `log: true` cannot be combined (Optuna samples one or the other)")
    integer = all(isinstance(v, int) for v in (m.low, m.high)) and (m.step is None or isinstance(m.step, int))
    return TunedParam(path=path, kind="int" if integer else "float", low=m.low if integer else float(m.low),
                      high=m.high if integer else float(m.high), log=m.log, step=m.step)


def _walk(value: Any, path: str, found: list[TunedParam], in_split: bool) -> None:
    if isinstance(value, dict):
        if TUNE_KEY in value:
            if len(value) != 1:
                raise _fail(path, f"a `_tune_` value is a mapping of the one key `_tune_`, got keys {sorted(value)}")
            if in_split:
                raise _fail(path, "the split cannot be tuned: every trial is scored by the same folds")
            found.append(_param(value[TUNE_KEY], path))
            return
        if is_generator(value):
            raise _fail(path, "a tuned spec cannot use generators (`_or_`, `_range_`...): write the alternatives "
                              "as `_tune_: {choices: [...]}` or tune in another run")
        for key, item in value.items():
            _walk(item, f"{path}.{key}", found, in_split or key == "split")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            _walk(item, f"{path}[{i}]", found, in_split)


def tuned_params(obj: dict[str, Any]) -> tuple[TunedParam, ...]:
    """The markers of a raw spec, in the order written; raises SpecError naming the path of a malformed one, of a
    marker outside the pipeline or in its split, or of a generator beside markers."""
    for key, value in obj.items():
        if key not in ("pipeline", "tune") and _has_marker(value):
            raise _fail(f"$.{key}", "only values of the pipeline's steps can be tuned")
    found: list[TunedParam] = []
    if not _has_marker(obj.get("pipeline")):
        return ()
    _walk(obj["pipeline"], "$.pipeline", found, in_split=False)
    return tuple(found)


def _has_marker(value: Any) -> bool:
    """Whether ``value`` holds a ``_tune_`` marker anywhere (a loop, not recursion: a hostile spec may nest deeper
    than Python's stack; the decoder reports its depth)."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, dict):
            if TUNE_KEY in item:
                return True
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def substitute(obj: Any, values: dict[str, Any], path: str = "$") -> Any:
    """``obj`` (a raw spec or part of it) with the marker at each path of ``values`` replaced by its value, and
    without the ``tune`` block at the top. Markers absent from ``values`` are an error (a trial sets them all)."""
    if isinstance(obj, dict):
        if TUNE_KEY in obj:
            if path not in values:
                raise SpecError(f"invalid pipeline spec: no value for the tuned value at `{path}`")
            return values[path]
        return {k: substitute(v, values, f"{path}.{k}") for k, v in obj.items() if not (path == "$" and k == "tune")}
    if isinstance(obj, list):
        return [substitute(v, values, f"{path}[{i}]") for i, v in enumerate(obj)]
    return obj


def corners(params: tuple[TunedParam, ...]) -> list[tuple[str | None, dict[str, Any]]]:
    """The points the bounds are checked at: every marker at its first point, then each marker in turn at each of
    its other points (the others at their first). Each comes with the path it moves (None for the first)."""
    first = {p.path: p.points()[0] for p in params}
    out: list[tuple[str | None, dict[str, Any]]] = [(None, first)]
    for p in params:
        out += [(p.path, {**first, p.path: point}) for point in p.points()[1:]]
    return out


def grid_size(params: tuple[TunedParam, ...]) -> int:
    """How many points a ``grid`` study enumerates; refused above MAX_GRID (counted before any is built)."""
    total = math.prod(p.grid_count() for p in params)
    if total > MAX_GRID:
        raise SpecError(f"invalid pipeline spec: the grid of the tuned values has {total} points, more than "
                        f"{MAX_GRID} - at `$.tune.sampler`")
    return total
