"""The pipeline language: frozen msgspec structs, decoded once from YAML, JSON or Python dicts.

The transform steps (``op: snv``...) are not written here: they are derived from an operator registry
(:mod:`relspec.operator_specs`); the splits are in :mod:`relspec.split_specs`, the models in
:mod:`relspec.model_specs`; target transforms and the step shapes are here.
"""

from __future__ import annotations

import difflib
import re
import typing
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Annotated, Any, Literal

import msgspec
import msgspec.inspect
import numpy as np
import yaml

from nirs_core.augment import Augmenter
from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry
from relspec.errors import SpecError
from relspec.generators import expand, is_generator
from relspec.model_specs import ModelSpec
from relspec.operator_specs import TransformSpecs, TransformStep, transform_specs
from relspec.refit_spec import RefitSpec
from relspec.split_specs import SplitSpec
from relspec.tune_spec import TuneBlock, TunedParam, corners, substitute, tuned_params

_STRICT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


class SplitStep(msgspec.Struct, **_STRICT):
    split: SplitSpec


class ModelStep(msgspec.Struct, **_STRICT):
    model: ModelSpec


class BranchStep(msgspec.Struct, **_STRICT):
    """Alternatives, each a list of transforms or nested branches: named (mapping) or positional (list).

    Built by :func:`decode_spec`, never decoded directly (msgspec cannot decode a union of tagged transforms and
    this untagged struct).
    """

    branch: dict[str, list[BranchItem]] | list[list[BranchItem]]

    def named(self) -> tuple[tuple[str, tuple[BranchItem, ...]], ...]:
        if isinstance(self.branch, dict):
            return tuple((name, tuple(steps)) for name, steps in self.branch.items())
        return tuple((f"branch_{i}", tuple(steps)) for i, steps in enumerate(self.branch))


BranchItem = TransformStep | BranchStep | ModelStep  # a model only ends an alternative that feeds `merge`


class _YTransform(msgspec.Struct, tag_field="op", **_STRICT):
    """Base of the target transforms: fitted on each fold's training targets, inverted before scoring."""


class StandardY(_YTransform, tag="standard"):
    """Centre the target and scale it to unit variance."""


class MinMaxY(_YTransform, tag="minmax"):
    """Scale the target to [0, 1] over the fold's training rows."""


class PowerY(_YTransform, tag="power"):
    """Yeo-Johnson (any sign) or Box-Cox (positive targets) power transform, standardised after."""

    method: Literal["yeo-johnson", "box-cox"] = "yeo-johnson"


YTransformSpec = StandardY | MinMaxY | PowerY
Y_TRANSFORM_NAMES: tuple[str, ...] = tuple(t.__struct_config__.tag for t in (StandardY, MinMaxY, PowerY))


class YProcessingStep(msgspec.Struct, **_STRICT):
    y_processing: YTransformSpec


class MergeStep(msgspec.Struct, **_STRICT):
    """Right after a branch. ``predictions``: its alternatives end with a model and the next step, the meta-model,
    is trained on their out-of-fold predictions (stacking). ``features``: its alternatives' outputs are
    concatenated column-wise into one matrix that the following steps and the model see."""

    merge: Literal["predictions", "features"]


class AugmentStep(msgspec.Struct, **_STRICT):
    """Synthetic training spectra (:mod:`nirs_core.augment`): after the preprocessing, before the model; applied to
    each fold's training rows and to the refit's, never to validation or test rows, never at predict time."""

    augment: Augmenter


Step = TransformStep | SplitStep | BranchStep | YProcessingStep | MergeStep | AugmentStep | ModelStep
class TargetSpec(msgspec.Struct, **_STRICT):
    """One target with its kind said explicitly: ``{name: grade, kind: label}`` models integer-coded classes
    (grades 1/2/3) as labels; ``numeric`` refuses a column of labels."""

    name: str
    kind: Literal["numeric", "label"] = "numeric"


class _SpecHeader(msgspec.Struct, **_STRICT):
    """Everything of a spec but its steps (decoded strictly by msgspec)."""

    # one target (a name, or {name, kind}), or several numeric targets predicted together (distinct names)
    target: str | TargetSpec | Annotated[tuple[str, ...], msgspec.Meta(min_length=1)]
    name: str = "pipeline"
    seed: Annotated[int, msgspec.Meta(ge=0)] = 0
    refit: RefitSpec = msgspec.field(default_factory=RefitSpec)
    max_chains: Annotated[int, msgspec.Meta(ge=1)] = 10_000
    # which chains get the diagnostics tables (T², Q, VIP, component curves...): the refit ones, or every chain
    diagnostics: Literal["refit", "all"] = "refit"
    # a study over the `{_tune_: ...}` values of the steps (relspec.tune_spec: the decoded steps hold each value's
    # first point; `tuned_params` of the source lists them); None: the spec runs as written
    tune: TuneBlock | None = None


class PipelineSpec(_SpecHeader, **_STRICT):
    """A whole pipeline as the chemometrician wrote it: the header fields and the ordered steps.

    Steps are decoded one by one by :func:`decode_spec` (a step's kind is given by its key: ``op``, ``split``,
    ``branch`` or ``model``), so this struct is built, never decoded directly.
    """

    pipeline: tuple[Step, ...]


_STEP_KEYS: dict[str, type] = {
    "split": SplitStep, "branch": BranchStep, "y_processing": YProcessingStep, "merge": MergeStep,
    "augment": AugmentStep, "model": ModelStep,
}
_PATH = re.compile(r"`\$(.*)`")


_UNKNOWN = re.compile(r"^Object contains unknown field `([^`]*)`")


_SEGMENT = re.compile(r"\.([A-Za-z_][A-Za-z0-9_]*)|\[(\d+)\]")


def _structs(info: Any, obj: Any) -> list[msgspec.inspect.StructType]:
    """The struct types ``info`` may decode ``obj`` as (a tagged union: the variant ``obj``'s tag names)."""
    options = list(info.types) if isinstance(info, msgspec.inspect.UnionType) else [info]
    structs = [o for o in options if isinstance(o, msgspec.inspect.StructType)]
    tagged = [o for o in structs if o.tag_field and isinstance(obj, dict) and obj.get(o.tag_field) == o.tag]
    return tagged or structs


def _fields_at(typ: Any, obj: Any, where: str, base: str) -> set[str]:
    """The field names allowed at ``where`` (a spec path under ``base``) for ``obj`` decoded as ``typ``."""
    info, node = msgspec.inspect.type_info(typ), obj
    for name, index in _SEGMENT.findall(where[len(base):] if where.startswith(base) else ""):
        if index:
            node = node[int(index)] if isinstance(node, list) and int(index) < len(node) else None
            item = getattr(info, "item_type", None)
            if item is None:
                return set()
            info = item
            continue
        found = [f for st in _structs(info, node) for f in st.fields if f.name == name]
        if not found:
            return set()
        info, node = found[0].type, node.get(name) if isinstance(node, dict) else None
    return {f.name for st in _structs(info, node) for f in st.fields}


def unknown_field(name: str, known: Iterable[str], where: str) -> SpecError:
    """The error of an unknown key, with the closest known one and the keys allowed there."""
    known = sorted(set(known))
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean `{close[0]}`?)" if close else ""
    listed = f"; expected one of: {', '.join(known)}" if known and len(known) <= 12 else ""
    return SpecError(f"invalid pipeline spec: unknown field `{name}`{hint}{listed} - at `{where}`")


def _convert(obj: Any, typ: Any, path: str, operator_names: tuple[str, ...]) -> Any:
    try:
        return msgspec.convert(obj, typ)
    except msgspec.ValidationError as exc:
        message = _PATH.sub(lambda m: f"`{path}{m.group(1)}`", str(exc))
        if " - at `" not in message:
            message = f"{message} - at `{path}`"
        unknown = _UNKNOWN.match(message)
        if unknown:
            where = message.rsplit(" - at `", 1)[1][:-1]
            raise unknown_field(unknown.group(1), _fields_at(typ, obj, where, path), where) from None
        if message.startswith("Invalid value") and message.endswith(".op`"):
            bad = message.split("'")[1] if message.count("'") >= 2 else ""
            known = Y_TRANSFORM_NAMES if message.endswith(".y_processing.op`") else operator_names
            close = difflib.get_close_matches(bad.lower(), known, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            message += f"{hint}; known operators: {', '.join(known)}"
        raise SpecError(f"invalid pipeline spec: {message}") from None


@dataclass(frozen=True)
class _Decoding:
    """What decoding one spec carries: the Generator seeded by the spec, the expansion cap and the transforms."""

    rng: np.random.Generator
    cap: int
    transforms: TransformSpecs

    def expand(self, value: Any, path: str) -> list[Any]:
        return expand(value, path, self.rng, self.cap)

    def convert(self, obj: Any, typ: Any, path: str) -> Any:
        return _convert(obj, typ, path, self.transforms.names)

    def transform(self, obj: Any, path: str) -> TransformStep:
        return self.convert(obj, self.transforms.union, path)


def _label(step: dict[str, Any]) -> str:
    params = {k: v for k, v in step.items() if k != "op"}
    inner = ",".join(f"{k}={v}" for k, v in params.items())
    return f"{step.get('op')}({inner})" if inner else str(step.get("op"))


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if names.count(name) == 1 else f"{name}#{seen[name]}")
    return out


def _as_steps(alternative: Any, path: str) -> list[dict[str, Any]]:
    """The steps of one alternative: transforms, nested branches, a final model, or None / [] for no step. A list of
    lists (what ``then_pick`` / ``then_arrange`` make of ``pick`` results) is their steps one after the other."""
    steps = [] if alternative is None else alternative if isinstance(alternative, list) else [alternative]
    while any(isinstance(step, list) for step in steps):
        steps = [s for step in steps for s in (step if isinstance(step, list) else [step])]
    for step in steps:
        if not isinstance(step, dict) or not ("op" in step or set(step) in ({"branch"}, {"model"})):
            raise SpecError(f"invalid pipeline spec: an alternative must be a transform `{{op: ...}}`, a nested "
                            f"`{{branch: ...}}`, a `{{model: ...}}` or a list of them, got {step!r} - at `{path}`")
    return steps


def _transforms(steps: list[dict[str, Any]], path: str, d: _Decoding) -> list[BranchItem]:
    out: list[BranchItem] = []
    for i, step in enumerate(steps):
        where = f"{path}[{i}]"
        if "branch" in step:
            out.append(_branch_step(step["branch"], where, d))
        elif "model" in step:
            out.append(_model_step(step, where, d))
        else:
            out.append(d.transform(step, where))
    return out


def _generated_step(item: dict[str, Any], path: str, d: _Decoding) -> Step:
    """A transform, or a branch of the alternatives its generators expand to."""
    alternatives = d.expand(item, path)
    if len(alternatives) == 1 and isinstance(alternatives[0], dict):
        return d.transform(alternatives[0], path)
    lists = [_as_steps(alt, path) for alt in alternatives]
    names = _unique_names([" > ".join(_label(step) for step in steps) or "none" for steps in lists])
    return BranchStep(branch={name: _transforms(steps, path, d) for name, steps in zip(names, lists, strict=True)})


MAX_BRANCH_DEPTH = 16  # branches inside branches: a real spec nests one or two


def _branch_step(body: Any, path: str, d: _Decoding) -> BranchStep:
    """An explicit branch; generators inside an alternative multiply it (names get a ``#i`` suffix)."""
    if path.count(".branch.") >= MAX_BRANCH_DEPTH:
        raise SpecError(f"invalid pipeline spec: branches nest deeper than {MAX_BRANCH_DEPTH} levels - at `{path}`")
    if not isinstance(body, dict | list):
        raise SpecError(f"invalid pipeline spec: `branch` holds named alternatives (a mapping) or a list of them, got "
                        f"{type(body).__name__} - at `{path}.branch`")
    named = body.items() if isinstance(body, dict) else ((f"branch_{i}", v) for i, v in enumerate(body))
    out: dict[str, list[BranchItem]] = {}
    for name, steps in named:
        where = f"{path}.branch.{name}"
        if not isinstance(steps, list):
            raise SpecError(f"invalid pipeline spec: a branch alternative is a list of steps - at `{where}`")
        variants = d.expand(steps, where)
        for i, variant in enumerate(variants):
            out[name if len(variants) == 1 else f"{name}#{i + 1}"] = _transforms(_as_steps(variant, where), where, d)
    if not out:
        raise SpecError(f"invalid pipeline spec: `branch` has no alternatives - at `{path}`")
    return BranchStep(branch=out)


def _model_step(item: dict[str, Any], path: str, d: _Decoding) -> ModelStep:
    """A model step; a generator in ``n_components`` becomes the list of counts one PLS sweep fits."""
    model = item.get("model")
    if isinstance(model, dict):
        kinds = {t.__struct_config__.tag: t for t in typing.get_args(ModelSpec)}
        op = model.get("op")
        kind = kinds.get(op) if isinstance(op, str) else None
        for key in model if kind is not None else ():
            if key != "op" and key not in kind.__struct_fields__:
                raise unknown_field(key, kind.__struct_fields__, f"{path}.model")
        for key, value in model.items():
            if key == "n_components" and is_generator(value):
                model = {**model, key: d.expand(value, f"{path}.model.{key}")}
            elif is_generator(value):
                raise SpecError(f"invalid pipeline spec: only n_components may be generated in a model (yet) - at "
                                f"`{path}.model.{key}`")
    return d.convert({**item, "model": model}, ModelStep, path)


def _decode_step(item: Any, path: str, d: _Decoding) -> Step:
    if not isinstance(item, dict):
        raise SpecError(f"invalid pipeline spec: expected a mapping step, got {item!r} - at `{path}`")
    if "op" in item or is_generator(item):
        return _generated_step(item, path, d)
    kinds = [k for k in item if k in _STEP_KEYS]
    if len(kinds) != 1 or len(item) != 1:
        raise SpecError(
            "invalid pipeline spec: a step is a transform `{op: ...}`, a generator (`_or_`...) or exactly one of "
            f"{sorted(_STEP_KEYS)}, got keys {sorted(item)} - at `{path}`"
        )
    if kinds[0] == "branch":
        return _branch_step(item["branch"], path, d)
    if kinds[0] == "model":
        return _model_step(item, path, d)
    return d.convert(item, _STEP_KEYS[kinds[0]], path)


def decode_spec(obj: Any, *, seed: int | None = None, operators: OperatorRegistry = DEFAULT_OPERATORS
                ) -> PipelineSpec:
    """Decode a dict (from YAML/JSON or Python) into a frozen PipelineSpec, or raise SpecError with its path.

    Generators expand here, with a Generator seeded by ``seed`` (default: the spec's own seed). ``operators`` are the
    transforms a step may name (``op``); a spec decoded with an extended registry compiles and runs like any other.
    """
    if isinstance(obj, PipelineSpec):
        return obj if seed is None else msgspec.structs.replace(obj, seed=seed)
    if not isinstance(obj, dict):
        raise SpecError(f"invalid pipeline spec: expected a mapping at the top level, got {type(obj).__name__}")
    top = (*_SpecHeader.__struct_fields__, "pipeline")
    for key in obj:
        if key not in top:
            raise unknown_field(str(key), top, "$")
    if "pipeline" not in obj:
        raise SpecError("invalid pipeline spec: `$.pipeline` is missing: the list of steps (split, transforms, model)")
    raw_steps = obj.get("pipeline")
    if not isinstance(raw_steps, list):
        raise SpecError("invalid pipeline spec: `$.pipeline` must be a list of steps")
    tuned = tuned_params(obj)
    if tuned or obj.get("tune") is not None:
        return _decode_tuned(obj, tuned, seed, operators)
    rest = {k: v for k, v in obj.items() if k != "pipeline"}
    if seed is not None:
        rest["seed"] = seed
    transforms = transform_specs(operators)
    header = _convert(rest, _SpecHeader, "$", transforms.names)
    d = _Decoding(rng=np.random.default_rng(header.seed), cap=header.max_chains, transforms=transforms)
    steps = tuple(_decode_step(item, f"$.pipeline[{i}]", d) for i, item in enumerate(raw_steps))
    return PipelineSpec(**msgspec.structs.asdict(header), pipeline=steps)


def _decode_tuned(obj: dict[str, Any], tuned: tuple[TunedParam, ...], seed: int | None,
                  operators: OperatorRegistry) -> PipelineSpec:
    """A tuned spec: decoded at every corner of its markers (so a parameter that does not exist, or a bound its
    operator refuses, fails naming the marker's path); the result holds the first point and the block."""
    if obj.get("tune") is None:
        raise SpecError(f"invalid pipeline spec: `_tune_` values need a top-level `tune:` block (sampler, n_trials, "
                        f"...) - at `{tuned[0].path}`")
    if not tuned:
        raise SpecError("invalid pipeline spec: `tune:` has nothing to tune: write `{_tune_: {low: .., high: ..}}` "
                        "or `{_tune_: {choices: [..]}}` where a step's value goes - at `$.tune`")
    block = _convert(obj["tune"], TuneBlock, "$.tune", ())
    first = None
    for moved, point in corners(tuned):
        try:
            decoded = decode_spec(substitute(obj, point), seed=seed, operators=operators)
        except SpecError as exc:
            inner = str(exc).removeprefix("invalid pipeline spec: ")
            if moved is None:
                raise SpecError(f"invalid pipeline spec: with every tuned value at its low / first choice: "
                                f"{inner}") from None
            raise SpecError(f"invalid pipeline spec: the tuned value at `{moved}` cannot be {point[moved]!r}: "
                            f"{inner}") from None
        first = first or decoded
    return msgspec.structs.replace(first, tune=block)


def _check_unique_keys(node: yaml.Node, under: str | None = None) -> None:
    """Refuse a key used twice in one YAML mapping (YAML would silently keep the last one)."""
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_unique_keys(item, under)
    if not isinstance(node, yaml.MappingNode):
        return
    seen: dict[str, int] = {}
    for key_node, value_node in node.value:
        key = str(key_node.value)
        if key in seen:
            kind = "branch name" if under == "branch" else "key"
            raise SpecError(f"invalid pipeline spec: {kind} {key!r} used twice in one mapping (lines "
                            f"{seen[key] + 1} and {key_node.start_mark.line + 1})")
        seen[key] = key_node.start_mark.line
        _check_unique_keys(value_node, key)


class _UniqueKeyLoader(yaml.SafeLoader):
    """A safe YAML loader that checks every mapping for duplicate keys before building Python objects."""

    def construct_document(self, node: yaml.Node) -> Any:
        _check_unique_keys(node)
        return super().construct_document(node)


def parse_yaml(text: str) -> Any:
    """Parse YAML/JSON text with the duplicate-key check; raises yaml.YAMLError or SpecError."""
    return yaml.load(text, Loader=_UniqueKeyLoader)  # a SafeLoader subclass: builds plain data only
