"""Generator keywords: one raw spec value expands into a list of alternatives, deterministically for a seed.

A generator is a mapping holding exactly one generator keyword (and its modifiers):

- ``{_or_: [a, b, ...]}``: the alternatives a, b, ... (each expanded in turn). Modifiers: ``pick: k`` (every
  combination of k alternatives, as a list), ``arrange: k`` (every ordered arrangement of k), then optionally
  ``then_pick: m`` / ``then_arrange: m`` (a second stage, as nirs4all: every combination / arrangement of m of the
  first stage's results; a result of one option stands for the option itself), ``count: n`` (a seeded random sample
  of n of the results, in expansion order).
- ``{_range_: [start, stop]}`` or ``[start, stop, step]``: integers from start to stop, both included.
- ``{_log_range_: [low, high, n]}``: n values spaced evenly on a log scale from low to high, both included.
- ``{_grid_: {name: values, ...}}``: one mapping per combination of the values (cartesian product).
- ``{_zip_: {name: values, ...}}``: one mapping per position of equally long value lists.
- ``{_sample_: {distribution: uniform | log_uniform | int, low, high, n}}``: n seeded random values.
- ``{_cartesian_: [stage, ...]}``: one list per combination of one option of each stage (each stage expanded; a
  ``null`` option is no item), i.e. every pipeline through the stages. Modifier ``count: n`` as for ``_or_``.
- ``{_chain_: [a, b, ...]}``: the alternatives a, b, ... in the order written; ``count: n`` keeps the first n.

Constraints filter the combinations of ``_or_`` with ``pick``/``arrange`` (before a second stage) and the pipelines
of ``_cartesian_`` (before ``count`` samples them): ``_mutex_: [[a, b], ...]`` (never all of a group together),
``_requires_: [[a, b, ...], ...]`` (a only with b, ...), ``_exclude_: [[a, b], ...]`` (not exactly this set). Their
items are written as the options are and must be options of the generator.

A mapping or list without generators expands to the product of its members' expansions. Expansion uses one
``numpy.random.Generator`` made from the spec seed, so the same spec and seed always give the same alternatives.
"""

from __future__ import annotations

import itertools
import json
import math
from typing import Any

import numpy as np

from relspec.errors import SpecError

GENERATOR_KEYS = ("_or_", "_range_", "_log_range_", "_grid_", "_zip_", "_sample_", "_cartesian_", "_chain_")
CONSTRAINT_KEYS = ("_mutex_", "_requires_", "_exclude_")
SECOND_STAGE_KEYS = ("then_pick", "then_arrange")
_MODIFIERS = {"_or_": {"pick", "arrange", *SECOND_STAGE_KEYS, "count", *CONSTRAINT_KEYS},
              "_cartesian_": {"count", *CONSTRAINT_KEYS},
              "_chain_": {"count"}}
MAX_DEPTH = 64  # nesting of mappings and lists in a spec value (a real spec nests a few levels)
# `_or_` with `count` samples from its alternatives, which are built first: at most this many
SAMPLE_POOL = 200_000


def is_generator(value: Any) -> bool:
    return isinstance(value, dict) and any(k in GENERATOR_KEYS for k in value)


def _key(item: Any) -> str:
    """A canonical, hashable form of one option (mappings compared regardless of key order)."""
    return json.dumps(item, sort_keys=True)


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
    second = _second_stage_key(node, path)
    # sampled (`count`), filtered (constraints) or a second stage's options afterwards: a larger pool may be built,
    # up to SAMPLE_POOL
    filtered = "count" in node or second is not None or any(k in node for k in CONSTRAINT_KEYS)
    pool = max(cap, SAMPLE_POOL) if filtered else cap
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
                              f"{pool} (max_chains={cap}{', filtered or sampled' if filtered else ''})")
        chooser = itertools.combinations if "pick" in node else itertools.permutations
        alternatives, flat = flat, [list(group) for group in chooser(flat, size)]
    elif any(k in node for k in CONSTRAINT_KEYS):
        raise _fail(path, "constraints (_mutex_, _requires_, _exclude_) filter combinations: they need pick or "
                          "arrange")
    else:
        alternatives = flat
    flat = _constrained(node, flat, alternatives, path)
    if second is not None:
        flat = _then(node, second, flat, path, cap)
    return _sampled(node, flat, path, rng)


def _second_stage_key(node: dict[str, Any], path: str) -> str | None:
    """``then_pick`` or ``then_arrange`` when the node has one (it needs ``pick`` or ``arrange``), else None."""
    keys = [k for k in SECOND_STAGE_KEYS if k in node]
    if not keys:
        return None
    if len(keys) > 1:
        raise _fail(path, "use either `then_pick` or `then_arrange`, not both")
    if "pick" not in node and "arrange" not in node:
        raise _fail(path, f"`{keys[0]}` is a second stage on the results of `pick` or `arrange`: give one of them")
    return keys[0]


def _then(node: dict[str, Any], key: str, first: list[list[Any]], path: str, cap: int) -> list[Any]:
    """The second stage (nirs4all's semantics): every combination (``then_pick``) or arrangement (``then_arrange``)
    of ``node[key]`` of the first stage's results, a result of one option standing for that option itself."""
    items = [combo[0] if len(combo) == 1 else combo for combo in first]
    size = node[key]
    if not isinstance(size, int) or isinstance(size, bool) or not 1 <= size <= len(items):
        raise _fail(f"{path}.{key}", f"expected an integer in [1, {len(items)}] (the first stage's results), "
                                     f"got {size!r}")
    total = math.comb(len(items), size) if key == "then_pick" else math.perm(len(items), size)
    pool = max(cap, SAMPLE_POOL) if "count" in node else cap
    if total > pool:  # counted before any is built
        raise _fail(path, f"{key}: {size} of the {len(items)} results of the first stage gives {total} "
                          f"alternatives, more than {pool} (max_chains={cap}{', sampled' if 'count' in node else ''})")
    chooser = itertools.combinations if key == "then_pick" else itertools.permutations
    return [list(group) for group in chooser(items, size)]


def _sampled(node: dict[str, Any], flat: list[Any], path: str, rng: np.random.Generator) -> list[Any]:
    """``count`` seeded results of ``flat`` kept in expansion order (all of them without ``count``)."""
    if "count" in node:
        count = node["count"]
        if not isinstance(count, int) or count < 1:
            raise _fail(path, f"count must be a positive integer, got {count!r}")
        if count < len(flat):
            keep = np.sort(rng.choice(len(flat), size=count, replace=False))
            flat = [flat[i] for i in keep]
    return flat


def _groups(node: dict[str, Any], key: str, options: set[str], path: str, least: int) -> list[list[str]]:
    """The groups of constraint ``key`` as canonical items, each an option of the generator."""
    groups = node.get(key, [])
    where = f"{path}.{key}"
    if not isinstance(groups, list) or not all(isinstance(g, list) and len(g) >= least for g in groups):
        what = "lists of options" if least == 0 else f"lists of at least {least} options"
        raise _fail(where, f"expected a list of {what}, got {groups!r}")
    keyed = [[_key(item) for item in group] for group in groups]
    for i, group in enumerate(keyed):
        for j, item in enumerate(group):
            if item not in options:
                raise _fail(f"{where}[{i}][{j}]", f"{groups[i][j]!r} is not one of the generator's options")
    return keyed


def _constrained(node: dict[str, Any], combos: list[Any], raw_options: list[Any], path: str) -> list[Any]:
    """The combinations (lists of options) that satisfy the node's ``_mutex_``, ``_requires_`` and ``_exclude_``."""
    if not any(k in node for k in CONSTRAINT_KEYS):
        return combos
    options = {_key(o) for o in raw_options}
    mutex = [set(g) for g in _groups(node, "_mutex_", options, path, 2)]
    requires = [(g[0], set(g[1:])) for g in _groups(node, "_requires_", options, path, 2)]
    exclude = [frozenset(g) for g in _groups(node, "_exclude_", options, path, 0)]  # [] excludes the empty one
    kept = []
    for combo in combos:
        present = {_key(item) for item in combo}
        if any(group <= present for group in mutex):
            continue
        if any(trigger in present and not needed <= present for trigger, needed in requires):
            continue
        if frozenset(present) in exclude:
            continue
        kept.append(combo)
    return kept


def _cartesian(node: dict[str, Any], path: str, rng: np.random.Generator, cap: int) -> list[Any]:
    stages = node["_cartesian_"]
    if not isinstance(stages, list) or not stages:
        raise _fail(f"{path}._cartesian_", "expected a non-empty list of stages")
    filtered = "count" in node or any(k in node for k in CONSTRAINT_KEYS)
    pool = max(cap, SAMPLE_POOL) if filtered else cap
    expanded = [expand(stage, f"{path}._cartesian_[{i}]", rng, pool) for i, stage in enumerate(stages)]
    total = math.prod(len(options) for options in expanded)
    if total > pool:  # counted before any pipeline is built
        raise _fail(path, f"_cartesian_ of {len(stages)} stages gives {total} pipelines, more than {pool} "
                          f"(max_chains={cap}{', filtered or sampled' if filtered else ''})")
    pipelines = [[item for item in combo if item is not None] for combo in itertools.product(*expanded)]
    options = [option for stage in expanded for option in stage if option is not None]
    return _sampled(node, _constrained(node, pipelines, options, path), path, rng)


def _chain(node: dict[str, Any], path: str, rng: np.random.Generator, cap: int) -> list[Any]:
    items = node["_chain_"]
    if not isinstance(items, list) or not items:
        raise _fail(f"{path}._chain_", "expected a non-empty list of alternatives")
    flat: list[Any] = []
    for i, item in enumerate(items):
        flat += expand(item, f"{path}._chain_[{i}]", rng, cap)
        if len(flat) > cap:
            raise _fail(path, f"expands to more than {cap} alternatives (max_chains={cap})")
    count = node.get("count", len(flat))
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        raise _fail(path, f"count must be a positive integer, got {count!r}")
    return flat[:count]  # the first ones, in the order written


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
    if key == "_cartesian_":
        return _cartesian(node, path, rng, cap)
    if key == "_chain_":
        return _chain(node, path, rng, cap)
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
