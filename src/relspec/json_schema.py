"""JSON Schema of the YAML/JSON form of a pipeline spec, generated from the msgspec structs (for editors).

The step structs give their own schemas (msgspec); this module only assembles what msgspec cannot express: a step
is one of several shapes told apart by its key, branches nest, and a generator (``_or_``, ``_range_``...) may stand
for a step or for a parameter value, and a `_tune_` value for a parameter value.
"""

from __future__ import annotations

from typing import Any

import msgspec

from nirs_core.augment import Augmenter
from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry
from relspec.generators import CONSTRAINT_KEYS, GENERATOR_KEYS, SECOND_STAGE_KEYS
from relspec.model_specs import ModelSpec
from relspec.operator_specs import TransformSpecs, transform_specs
from relspec.spec import RefitSpec, YTransformSpec, _SpecHeader
from relspec.split_specs import SplitSpec
from relspec.tune_spec import TUNE_KEY

_REF = "#/$defs/{name}"
_GENERATOR = {"$ref": "#/$defs/Generator"}
_TUNED = {"$ref": "#/$defs/Tuned"}
# regression sweep models: only n_components may be a generator (one fit serves the counts)
_SWEEP_MODELS = {"PLSModel", "PCRModel", "OPLSModel", "LWPLSModel", "KernelPLSModel", "OPLSDAModel"}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF.format(name=name)}


def _generator_schema() -> dict[str, Any]:
    return {
        "description": "A generator: expands into alternatives (seeded). Keywords: " + ", ".join(GENERATOR_KEYS),
        "type": "object",
        "minProperties": 1,
        "propertyNames": {"enum": [*GENERATOR_KEYS, *CONSTRAINT_KEYS, "pick", "arrange", *SECOND_STAGE_KEYS,
                                   "count"]},
    }


def _allow_generators(struct_schema: dict[str, Any], only: tuple[str, ...] | None = None) -> None:
    """Let each parameter of a step (or only the named ones) be written as a generator."""
    for name, prop in struct_schema.get("properties", {}).items():
        if name != "op" and (only is None or name in only):
            struct_schema["properties"][name] = {"anyOf": [prop, _GENERATOR]}


def _tuned_schema() -> dict[str, Any]:
    """A value a `tune:` study chooses: ``{_tune_: {low, high[, log, step]}}`` or ``{_tune_: {choices: [...]}}``."""
    number = {"type": "number"}
    body = {"type": "object", "additionalProperties": False, "properties": {
        "low": number, "high": number, "log": {"type": "boolean"}, "step": {**number, "exclusiveMinimum": 0},
        "choices": {"type": "array", "minItems": 1}}}
    return {"description": "A value the spec's `tune:` study chooses (relspec.tune_spec)", "type": "object",
            "properties": {TUNE_KEY: body}, "required": [TUNE_KEY], "additionalProperties": False}


def _allow_tuned(struct_schema: dict[str, Any]) -> None:
    """Let each parameter of a transform or model be written as a `_tune_` value."""
    for name, prop in struct_schema.get("properties", {}).items():
        if name == "op":
            continue
        if _GENERATOR in prop.get("anyOf", ()):  # already [value, generator]: one more alternative
            prop["anyOf"].append(_TUNED)
        else:
            struct_schema["properties"][name] = {"anyOf": [prop, _TUNED]}


def _one_key(key: str, value: dict[str, Any], description: str) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": {key: value}, "required": [key],
            "additionalProperties": False}


def _state_odd(defs: dict[str, Any], transforms: TransformSpecs) -> None:
    """Odd integer parameters (msgspec has no bound for it): not a multiple of 2."""
    for step in transforms.types:
        for name, param in step.operator.parameter_constraints.items():
            if param.odd and param.in_spec:
                defs[step.__name__]["properties"][name]["not"] = {"multipleOf": 2}


def spec_json_schema(operators: OperatorRegistry = DEFAULT_OPERATORS) -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a pipeline spec file whose transforms are ``operators``."""
    transforms = transform_specs(operators)
    roots, defs = msgspec.json.schema_components(
        [_SpecHeader, transforms.union, SplitSpec, ModelSpec, YTransformSpec, RefitSpec, Augmenter], ref_template=_REF)
    header, transform, split, model, y_transform, _, augment = roots
    _state_odd(defs, transforms)
    for name, struct_schema in defs.items():
        if "op" in struct_schema.get("properties", {}) and name not in _SWEEP_MODELS | {"SklearnModel"}:
            _allow_generators(struct_schema)
    for name in sorted(_SWEEP_MODELS):
        _allow_generators(defs[name], only=("n_components",))
    for struct_schema in defs.values():
        if "op" in struct_schema.get("properties", {}):
            _allow_tuned(struct_schema)
    model_step = _one_key("model", model, "The model (the last step; or the base model ending an alternative that "
                                          "feeds `merge: predictions`)")
    alternative_item = {"anyOf": [_ref("Transform"), _ref("BranchStep"), _ref("ModelStep"), _GENERATOR]}
    defs.update({
        "Generator": _generator_schema(),
        "Tuned": _tuned_schema(),
        "Transform": transform,
        "BranchStep": _one_key("branch", {"anyOf": [
            {"type": "object", "additionalProperties": _ref("Alternative")},
            {"type": "array", "items": _ref("Alternative")},
        ]}, "Alternatives (named or positional), each a list of transforms or nested branches"),
        "Alternative": {"anyOf": [{"type": "null"}, alternative_item, {"type": "array", "items": alternative_item}]},
        "Step": {"anyOf": [
            _ref("Transform"), _GENERATOR, _ref("BranchStep"),
            _one_key("split", split, "The cross-validation scheme over the train rows (exactly one)"),
            _one_key("y_processing", y_transform, "A target transform fitted per fold, inverted before scoring"),
            _one_key("augment", augment, "Synthetic training spectra (after the preprocessing, before the model): "
                     "added to each fold's training rows only"),
            _one_key("merge", {"enum": ["predictions", "features"]}, "After a branch: `predictions` stacks its "
                     "base models (the next model is trained on their out-of-fold predictions); `features` "
                     "concatenates its outputs column-wise"),
            _ref("ModelStep"),
        ]},
        "ModelStep": model_step,
    })
    header_def = defs.pop(header["$ref"].rsplit("/", 1)[1])
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "nirdag pipeline spec",
        "type": "object",
        "properties": {**header_def["properties"], "pipeline": {"type": "array", "items": _ref("Step")}},
        "required": sorted({*header_def.get("required", []), "pipeline"}),
        "additionalProperties": False,
        "$defs": defs,
    }
