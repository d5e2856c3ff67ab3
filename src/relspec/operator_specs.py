"""The transform steps of the pipeline language, derived from an operator registry (never written by hand).

Each operator class gives one frozen msgspec struct: tag = its ``spec_name``, one field per declared parameter the
spec writes (in ``__init__`` order), typed and bounded from its ``Param`` (``Annotated[int, Meta(ge=3)]``,
``Literal`` options), defaulting as ``__init__`` does unless the declaration says a spec must give it. The struct
holds its class as the ClassVar ``operator``: that is the compiler's struct -> class map.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from operator import or_
from typing import Annotated, Any, ClassVar, Literal

import msgspec

from nirs_core.operators.base import SpecOperator
from nirs_core.operators.params import Param
from nirs_core.operators.registry import DEFAULT_OPERATORS, OperatorRegistry


class TransformStep(msgspec.Struct, tag_field="op", frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Base of the transform steps (one struct per registered operator); ``op`` selects the operator."""

    operator: ClassVar[type[SpecOperator]]

    def __reduce__(self) -> tuple[Any, ...]:
        # Derived structs live in no module namespace: pickle them through their operator class, which does.
        return _restore, (self.operator, msgspec.structs.asdict(self))


def _restore(cls: type[SpecOperator], fields: dict[str, Any]) -> TransformStep:
    return step_type(cls)(**fields)


def _annotation(param: Param) -> Any:
    if param.options:
        return Literal[param.options]
    annotation = Annotated[param.type, msgspec.Meta(**param.bounds)] if param.bounds else param.type
    return annotation | None if param.optional else annotation  # e.g. a threshold a spec may leave out


def _summary(cls: type) -> str:
    doc = inspect.getdoc(cls) or cls.__name__
    return doc.split("\n\n", 1)[0].replace("\n", " ")


@functools.cache
def step_type(cls: type[SpecOperator]) -> type[TransformStep]:
    """The spec struct of one operator class (the same struct every time, so equal specs compare equal)."""
    defaults = {name: p.default for name, p in inspect.signature(cls.__init__).parameters.items()}
    fields: list[tuple[Any, ...]] = []
    for name, param in cls.parameter_constraints.items():
        if not param.in_spec:
            continue
        default = defaults[name]
        required = param.required or default is inspect.Parameter.empty
        fields.append((name, _annotation(param)) if required else (name, _annotation(param), default))
    return msgspec.defstruct(
        f"{cls.__name__}Step", fields, bases=(TransformStep,), module=__name__, tag=cls.spec_name,
        frozen=True, forbid_unknown_fields=True, kw_only=True,
        namespace={"operator": cls, "__doc__": _summary(cls)},
    )


@dataclass(frozen=True)
class TransformSpecs:
    """The spec side of one registry: its step structs, their tagged union and their names."""

    operators: OperatorRegistry
    types: tuple[type[TransformStep], ...]
    union: Any  # the tagged union msgspec decodes a transform step into (built once: msgspec caches per type)

    @property
    def names(self) -> tuple[str, ...]:
        return self.operators.names

    def of(self, name: str) -> type[TransformStep]:
        """The struct of the operator named ``name`` (``specs.of("savgol")(window_length=11)``)."""
        return step_type(self.operators.get(name))


@functools.cache
def transform_specs(operators: OperatorRegistry = DEFAULT_OPERATORS) -> TransformSpecs:
    """The step structs of ``operators`` (derived once per registry)."""
    types = tuple(step_type(cls) for cls in operators.operators)
    return TransformSpecs(operators=operators, types=types, union=functools.reduce(or_, types))
