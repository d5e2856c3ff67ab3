"""Parameter constraints declared once per operator, as data: checked at fit and turned into spec fields by relspec.

An operator class maps each ``__init__`` parameter to a :class:`Param` in ``parameter_constraints`` (the shape of
scikit-learn's ``_parameter_constraints``) and calls :func:`check_params` where it validates (at fit). relspec
derives the spec struct field of each parameter from the same object (msgspec bounds, ``Literal`` options), so the
spec, the JSON Schema and the operator cannot disagree.
"""

from __future__ import annotations

import math
import typing
from dataclasses import dataclass
from numbers import Integral, Real
from typing import Any


@dataclass(frozen=True)
class Param:
    """The type and bounds of one operator parameter.

    Parameters
    ----------
    type : type
        ``int``, ``float`` or ``str`` (checked here), or a container annotation such as ``list[float]`` for an
        array-like value whose shape the operator checks against the data at fit.
    ge, gt, le, lt : float, optional
        Inclusive (``ge``, ``le``) and exclusive (``gt``, ``lt``) bounds of a number.
    odd : bool
        An ``int`` must be odd.
    finite : bool
        A ``float`` must be finite (NaN is always refused).
    options : tuple of str
        The values a ``str`` may take.
    required : bool
        A spec must give the value even though the class has a default (the default serves Python users).
    in_spec : bool
        False for a parameter the engine sets (the wavelength axis, a seed), never written in a spec.
    optional : bool
        None is accepted too (a seed left to the caller).

    Examples
    --------
    >>> window = Param(int, ge=3, odd=True)
    >>> window.describe()
    'an odd integer >= 3'
    >>> window.check("window_length", 4, "SavitzkyGolay")
    Traceback (most recent call last):
    ...
    ValueError: SavitzkyGolay: window_length must be an odd integer >= 3, got 4
    """

    type: Any
    ge: float | None = None
    gt: float | None = None
    le: float | None = None
    lt: float | None = None
    odd: bool = False
    finite: bool = False
    options: tuple[str, ...] = ()
    required: bool = False
    in_spec: bool = True
    optional: bool = False

    @property
    def bounds(self) -> dict[str, float]:
        """The bounds that are set, by msgspec's names (``ge``, ``gt``, ``le``, ``lt``)."""
        values = {"ge": self.ge, "gt": self.gt, "le": self.le, "lt": self.lt}
        return {name: value for name, value in values.items() if value is not None}

    @property
    def checked_here(self) -> bool:
        """False for a container: its shape is the operator's to check, against the data."""
        return typing.get_origin(self.type) is None

    def describe(self) -> str:
        """What a valid value is, in words (the end of the error message)."""
        if self.type is str:
            return _either(self.options) if self.options else "a string"
        if self.type is int:
            kind = "an odd integer" if self.odd else "an integer"
        elif self.type is float:
            kind = "a finite number" if self.finite else "a number"
        else:
            return f"a {getattr(self.type, '__name__', self.type)}"
        return kind + _range(self.ge, self.gt, self.le, self.lt) + (" or None" if self.optional else "")

    def accepts(self, value: object) -> bool:
        """Whether ``value`` satisfies the declaration (always true for a container, see :attr:`checked_here`)."""
        if not self.checked_here:
            return True
        if value is None:
            return self.optional
        if self.type is str:
            return isinstance(value, str) and (not self.options or value in self.options)
        if isinstance(value, bool) or not isinstance(value, Integral if self.type is int else Real):
            return False
        if isinstance(value, Integral):  # exact: never NaN or infinite, and may exceed the float range
            if self.odd and value % 2 != 1:
                return False
        elif math.isnan(value) or (self.finite and math.isinf(value)):
            return False
        return all(_within(value, name, bound) for name, bound in self.bounds.items())

    def check(self, name: str, value: object, owner: str) -> None:
        """Raise ValueError ``<owner>: <name> must be <what>, got <value>`` unless ``value`` is accepted."""
        if not self.accepts(value):
            raise ValueError(f"{owner}: {name} must be {self.describe()}, got {value!r}")


def _within(value: Any, name: str, bound: float) -> bool:
    return {"ge": value >= bound, "gt": value > bound, "le": value <= bound, "lt": value < bound}[name]


def _range(ge: float | None, gt: float | None, le: float | None, lt: float | None) -> str:
    low = ("[", ge) if ge is not None else ("(", gt) if gt is not None else None
    high = ("]", le) if le is not None else (")", lt) if lt is not None else None
    if low and high:
        return f" in {low[0]}{low[1]:g}, {high[1]:g}{high[0]}"
    if low:
        return f" {'>=' if low[0] == '[' else '>'} {low[1]:g}"
    if high:
        return f" {'<=' if high[0] == ']' else '<'} {high[1]:g}"
    return ""


def _either(options: tuple[str, ...]) -> str:
    quoted = [repr(o) for o in options]
    return quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} or {quoted[-1]}"


def check_params(estimator: Any) -> None:
    """Check every parameter of ``estimator`` against its class's ``parameter_constraints`` (ValueError if one
    fails, naming the class, the parameter and the value)."""
    owner = type(estimator).__name__
    for name, param in type(estimator).parameter_constraints.items():
        param.check(name, getattr(estimator, name), owner)
