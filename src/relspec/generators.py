"""Generator keywords: one raw spec value expands into a list of alternatives, deterministically for a seed.

A generator is a mapping holding exactly one generator keyword (and its modifiers):

- ``{_or_: [a, b, ...]}``: the alternatives a, b, ... (each expanded in turn). Modifiers: ``pick: k`` (every
  combination of k alternatives, as a list), ``arrange: k`` (every ordered arrangement of k), ``count: n`` (a seeded
  random sample of n of the results, in expansion order).
- ``{_range_: [start, stop]}`` or ``[start, stop, step]``: integers from start to stop, both included.
- ``{_log_range_: [low, high, n]}``: n values spaced evenly on a log scale from low to high, both included.
- ``{_grid_: {name: values, ...}}``: one mapping per combination of the values (cartesian product).
- ``{_zip_: {name: values, ...}}``: one mapping per position of equally long value lists.
- ``{_sample_: {distribution: uniform | log_uniform | int, low, high, n}}``: n seeded random values.

A mapping or list without generators expands to the product of its members' expansions. Expansion uses one
``numpy.random.Generator`` made from the spec seed, so the same spec and seed always give the same alternatives.
"""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np

from relspec.errors import SpecError

GENERATOR_KEYS = ("_or_", "_range_", "_log_range_", "_grid_", "_zip_", "_sample_")
_MODIFIERS = {"_or_": {"pick", "arrange", "count"}}
MAX_DEPTH = 64  # nesting of mappings and lists in a spec value (a real spec nests a few levels)
# `_or_` with `count` samples from its alternatives, which are built first: at most this many
SAMPLE_POOL = 200_000


def is_generator(value: Any) -> bool:
    return isinstance(value, dict) and any(k in GENERATOR_KEYS for k in value)


def _fail(path: str, message: str) -> SpecError:
    return SpecError(f"invalid pipeline spec: {message} - at `{path}`")


def _numbers(value: Any, path: str, n: tuple[int, ...]) -> list[float]:
    if not isinstance(value, list) or len(value) not in n or not all(isinstance(v, int | float) for v in value):
        raise _fail(path, f"expected a list of {' or '.join(map(str, n))} numbers, got {value!r}")
    return value


def _or(node: dict[str, Any], path: str, rng: np.random.Generator, cap: int) -> list[Any]:
    options = node["_or_"]
    if not isinstance(options, list) or not options:
        raise _fail(f"{path}._or_", "expected a non-empty list of alternatives")
    # with `count` the alternatives are sampled afterwards: a larger pool may be built, up to SAMPLE_POOL
    pool = max(cap, SAMPLE_POOL) if "count" in node else cap
    flat: list[Any] = []
    for i, opt in enumerate(options):
        flat += expand(opt, f"{path}._or_[{i}]", rng, pool)
        if len(flat) > pool:
            raise _fail(path, f"expands to more than {pool} alternatives (max_chains={cap})")
    if "pick" in node and "arrange" in node:
        raise _fail(path, "use either `pick` or `arrange`, not both")
    size = node.get("pick", node.get("arrange"))
    if size is not None:
        if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= len(flat):
            raise _fail(path, f"pick/arrange must be an integer in [1, {len(flat)}], got {size!r}")
        total = math.comb(len(flat), size) if "pick" in node else math.perm(len(flat), size)
        if total > pool:  # counted before any is built
            word = "pick" if "pick" in node else "arrange"
            raise _fail(path, f"{word}: {size} of {len(flat)} alternatives gives {total} combinations, more than "
                              f"{pool} (max_chains={cap}{', sampled with count' if 'count' in node else ''})")
        chooser = itertools.combinations if "pick" in node else itertools.permutations
        flat = [list(group) for group in chooser(flat, size)]
    if "count" in node:
        count = node["count"]
        if not isinstance(count, int) or count < 1:
            raise _fail(path, f"count must be a positive integer, got {count!r}")
        if count < len(flat):
            keep = np.sort(rng.choice(len(flat), size=count, replace=False))
            flat = [flat[i] for i in keep]
    return flat


def _range(node: dict[str, Any], path: str, cap: int) -> list[int]:
    bounds = _numbers(node["_range_"], f"{path}._range_", (2, 3))
    if not all(isinstance(v, int) for v in bounds):
        raise _fail(f"{path}._range_", f"expected integers, got {bounds!r}")
    start, stop, step = (*bounds, 1) if len(bounds) == 2 else bounds
    if step == 0:
        raise _fail(f"{path}._range_", "step must not be 0")
    values = range(start, stop + (1 if step > 0 else -1), step)
    if len(values) > cap:  # len of a range is arithmetic: nothing is built
        raise _fail(f"{path}._range_", f"expands to {len(values)} values, more than max_chains={cap}")
    return list(values)


def _log_range(node: dict[str, Any], path: str, cap: int) -> list[float]:
    low, high, n = _numbers(node["_log_range_"], f"{path}._log_range_", (3,))
    if low <= 0 or high <= 0 or not isinstance(n, int) or n < 1:
        raise _fail(f"{path}._log_range_", "expected [low > 0, high > 0, n >= 1]")
    if n > cap:
        raise _fail(f"{path}._log_range_", f"expands to {n} values, more than max_chains={cap}")
    return [float(v) for v in np.geomspace(low, high, n)]


def _mapping_of_lists(node: dict[str, Any], key: str, path: str, rng: np.random.Generator, cap: int
                      ) -> dict[str, list[Any]]:
    body = node[key]
    if not isinstance(body, dict) or not body:
        raise _fail(f"{path}.{key}", "expected a non-empty mapping of name -> list of values")
    out = {}
    for name, values in body.items():
        if not isinstance(values, list):
            values = expand(values, f"{path}.{key}.{name}", rng, cap)
        out[name] = [alt for i, v in enumerate(values) for alt in expand(v, f"{path}.{key}.{name}[{i}]", rng, cap)]
    return out


def _sample(node: dict[str, Any], path: str, rng: np.random.Generator, cap: int) -> list[float | int]:
    body = node["_sample_"]
    where = f"{path}._sample_"
    if not isinstance(body, dict) or set(body) - {"distribution", "low", "high", "n"}:
        raise _fail(where, "expected {distribution, low, high, n}")
    dist, low, high, n = body.get("distribution", "uniform"), body.get("low"), body.get("high"), body.get("n")
    if not isinstance(n, int) or n < 1 or not isinstance(low, int | float) or not isinstance(high, int | float) \
            or low >= high:
        raise _fail(where, f"need low < high and n >= 1, got low={low!r} high={high!r} n={n!r}")
    if n > cap:
        raise _fail(where, f"draws {n} values, more than max_chains={cap}")
    if dist == "uniform":
        return [float(v) for v in rng.uniform(low, high, n)]
    if dist == "log_uniform" and low > 0:
        return [float(v) for v in np.exp(rng.uniform(math.log(low), math.log(high), n))]
    if dist == "int":
        return [int(v) for v in rng.integers(int(low), int(high), n, endpoint=True)]
    raise _fail(where, f"distribution must be uniform, log_uniform (low > 0) or int, got {dist!r}")


def _generator(node: dict[str, Any], path: str, rng: np.random.Generator, cap: int) -> list[Any]:
    keys = [k for k in node if k in GENERATOR_KEYS]
    if len(keys) != 1:
        raise _fail(path, f"one generator keyword per mapping, got {keys}")
    key = keys[0]
    extra = set(node) - {key} - _MODIFIERS.get(key, set())
    if extra:
        raise _fail(path, f"unknown keys {sorted(extra)} beside {key}")
    if key == "_or_":
        return _or(node, path, rng, cap)
    if key == "_range_":
        return _range(node, path, cap)
    if key == "_log_range_":
        return _log_range(node, path, cap)
    if key == "_sample_":
        return _sample(node, path, rng, cap)
    columns = _mapping_of_lists(node, key, path, rng, cap)
    if key == "_grid_":
        total = math.prod(len(v) for v in columns.values())
        if total > cap:
            raise _fail(f"{path}._grid_", f"expands to {total} combinations, more than max_chains={cap}")
        return [dict(zip(columns, combo, strict=True)) for combo in itertools.product(*columns.values())]
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
        raise _fail(f"{path}._zip_", f"lists must have equal lengths, got {sorted(lengths)}")
    return [dict(zip(columns, combo, strict=True)) for combo in zip(*columns.values(), strict=True)]


def expand(value: Any, path: str, rng: np.random.Generator, cap: int) -> list[Any]:
    """All alternatives of ``value`` (a list of one item when it holds no generator).

    Raises SpecError naming ``path`` when a generator is malformed, expands to nothing, or to more than ``cap``
    (counted before the alternatives are built), or when the value nests deeper than MAX_DEPTH.
    """
    if path.count(".") + path.count("[") > MAX_DEPTH:
        raise _fail(path, f"the spec nests deeper than {MAX_DEPTH} levels")
    if is_generator(value):
        out = _generator(value, path, rng, cap)
    elif isinstance(value, dict):
        keys = list(value)
        parts = [expand(value[k], f"{path}.{k}", rng, cap) for k in keys]
        out = _bounded_product(parts, path, cap, lambda combo: dict(zip(keys, combo, strict=True)))
    elif isinstance(value, list):
        parts = [expand(v, f"{path}[{i}]", rng, cap) for i, v in enumerate(value)]
        out = _bounded_product(parts, path, cap, list)
    else:
        return [value]
    if not out:
        raise _fail(path, "the generator expands to no alternative")
    if len(out) > cap:
        raise _fail(path, f"expands to {len(out)} alternatives, more than max_chains={cap}")
    return out


def _bounded_product(parts: list[list[Any]], path: str, cap: int, build: Any) -> list[Any]:
    total = math.prod(len(p) for p in parts)
    if total > cap:
        raise _fail(path, f"expands to {total} alternatives, more than max_chains={cap}")
    return [build(combo) for combo in itertools.product(*parts)]


def generator_sites(value: Any, path: str = "$") -> list[tuple[str, str, int]]:
    """Where a raw spec uses generators: (spec path, keyword, number of alternatives), outermost first.

    Counts do not depend on the seed (``_sample_`` draws ``n`` values, ``_or_`` with ``count`` keeps ``count``),
    so a throwaway Generator is used; the alternatives themselves come from :func:`expand` while decoding.
    """
    if is_generator(value):
        key = next(k for k in value if k in GENERATOR_KEYS)
        return [(path, key, len(_generator(value, path, np.random.default_rng(0), 10**9)))]
    if isinstance(value, dict):
        return [site for k, v in value.items() for site in generator_sites(v, f"{path}.{k}")]
    if isinstance(value, list):
        return [site for i, v in enumerate(value) for site in generator_sites(v, f"{path}[{i}]")]
    return []
