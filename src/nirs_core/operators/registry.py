"""The operators a pipeline spec can name: one explicit, immutable list, from which relspec derives the language.

Adding an operator to the language is one line in :data:`DEFAULT_OPERATORS`. Code outside this package extends the
language with :meth:`OperatorRegistry.with_operators` (a new registry; the default one never changes) and passes the
result where specs are decoded (``relspec.spec.decode_spec(..., operators=...)``) or described
(``relspec.json_schema.spec_json_schema(operators)``).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass

from sklearn.base import BaseEstimator

from nirs_core.operators.base import OperatorTraits, SpecOperator
from nirs_core.operators.baseline import ASLS, AirPLS
from nirs_core.operators.concat import FeatureConcat
from nirs_core.operators.conversion import KubelkaMunk, ReflectanceToAbsorbance
from nirs_core.operators.derivative import Detrend, SavitzkyGolay
from nirs_core.operators.emsc import EMSC
from nirs_core.operators.features import PCAFeatures
from nirs_core.operators.filters import Leverage, XOutliers, YOutliers
from nirs_core.operators.ipls import IntervalPLS
from nirs_core.operators.kernel_pls import KernelPLS
from nirs_core.operators.library_baselines import ARPLS, SNIP, IModPoly, ModPoly, RollingBall
from nirs_core.operators.lwpls import LWPLS
from nirs_core.operators.mc_uve import MCUVE
from nirs_core.operators.normalise import RNV, AreaNormalise, Autoscale, MaxNormalise, MeanCentre, VectorNormalise
from nirs_core.operators.opls import OPLS, OPLSDA
from nirs_core.operators.orthogonal import EPO, OSC
from nirs_core.operators.params import Param
from nirs_core.operators.pcr import PCR
from nirs_core.operators.pls import PLSSweep
from nirs_core.operators.plsda import PLSDA
from nirs_core.operators.scaling import BlockScale, MinMaxScale, ParetoScale, RangeScale
from nirs_core.operators.scatter import MSC, SNV, LocalSNV
from nirs_core.operators.selection import CARS, VIPSelect
from nirs_core.operators.selectivity import SRSelect
from nirs_core.operators.smoothing import FiniteDifference, GapSegmentDerivative, GaussianSmooth
from nirs_core.operators.wavelength import Crop, MaskBands, Resample
from nirs_core.operators.wavelets import DWTFeatures, WaveletDenoise


def class_path(cls: type) -> str:
    """The import path of a class (``nirs_core.operators.scatter.SNV``): part of every step hash."""
    return f"{cls.__module__}.{cls.__qualname__}"


def check_operator(cls: object) -> type[SpecOperator]:
    """``cls`` if it declares itself a spec operator; TypeError naming what is missing or inconsistent otherwise.

    An operator is a :class:`SpecOperator` subclass (a transform, ``Operator``, or a sample filter, ``RowFilter``)
    with a ``spec_name`` of its own, ``traits``, and
    ``parameter_constraints`` naming exactly its ``__init__`` parameters in order, each default satisfying its
    constraint.
    """
    if not (isinstance(cls, type) and issubclass(cls, SpecOperator)):
        raise TypeError(f"{cls!r} is not an operator class (a subclass of nirs_core.operators.base.SpecOperator)")
    name = cls.__dict__.get("spec_name")
    if not (isinstance(name, str) and name.isidentifier() and name.islower()):
        raise TypeError(f"{cls.__name__} must declare its own spec_name, a lower-case identifier, got {name!r}")
    if not isinstance(getattr(cls, "traits", None), OperatorTraits):
        raise TypeError(f"{cls.__name__} must declare traits (an OperatorTraits)")
    constraints = cls.parameter_constraints
    if not isinstance(constraints, Mapping) or not all(isinstance(p, Param) for p in constraints.values()):
        raise TypeError(f"{cls.__name__}.parameter_constraints must map parameter names to Param")
    signature = inspect.signature(cls.__init__).parameters.values()
    params = [p for p in signature if p.name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if [p.name for p in params] != list(constraints):
        raise TypeError(f"{cls.__name__}.parameter_constraints names {list(constraints)}, but __init__ takes "
                        f"{[p.name for p in params]} (the same names, in the same order)")
    for p in params:
        declared = constraints[p.name]
        if p.default is not inspect.Parameter.empty and declared.in_spec and not declared.accepts(p.default):
            raise TypeError(f"{cls.__name__}: the default {p.name}={p.default!r} is not {declared.describe()}")
    return cls


@dataclass(frozen=True)
class OperatorRegistry:
    """An ordered, immutable list of operator classes, each named in specs by its ``spec_name``.

    Parameters
    ----------
    operators : tuple of SpecOperator subclasses
        The classes, in the order their names are listed to users; each is checked by :func:`check_operator` and
        no two share a ``spec_name``.

    Examples
    --------
    >>> from nirs_core.operators.registry import DEFAULT_OPERATORS
    >>> DEFAULT_OPERATORS.names[:3]
    ('snv', 'savgol', 'detrend')
    >>> DEFAULT_OPERATORS.get("snv").__name__
    'SNV'
    """

    operators: tuple[type[SpecOperator], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.operators, tuple):
            raise TypeError(f"operators must be a tuple of classes, got {type(self.operators).__name__}")
        names = [check_operator(cls).spec_name for cls in self.operators]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"spec names used by more than one operator: {twice}")

    @property
    def names(self) -> tuple[str, ...]:
        """The spec names, in registry order (for "known operators" and "did you mean" messages)."""
        return tuple(cls.spec_name for cls in self.operators)

    def get(self, name: str) -> type[SpecOperator]:
        """The class named ``name`` in specs; KeyError listing the known names otherwise."""
        for cls in self.operators:
            if cls.spec_name == name:
                return cls
        raise KeyError(f"no operator named {name!r}; known operators: {', '.join(self.names)}")

    def with_operators(self, *operators: type[SpecOperator]) -> OperatorRegistry:
        """A new registry: these operators after the current ones (this registry is unchanged)."""
        return OperatorRegistry((*self.operators, *operators))


# One line per operator, in the order "known operators" lists them.
DEFAULT_OPERATORS = OperatorRegistry((
    SNV,
    SavitzkyGolay,
    Detrend,
    MSC,
    RNV,
    EMSC,
    AreaNormalise,
    VectorNormalise,
    MaxNormalise,
    MeanCentre,
    Autoscale,
    ReflectanceToAbsorbance,
    KubelkaMunk,
    GapSegmentDerivative,
    FiniteDifference,
    GaussianSmooth,
    ASLS,
    AirPLS,
    Crop,
    MaskBands,
    Resample,
    OSC,
    ARPLS,
    SNIP,
    RollingBall,
    ModPoly,
    IModPoly,
    WaveletDenoise,
    DWTFeatures,
    LocalSNV,
    MinMaxScale,
    ParetoScale,
    RangeScale,
    BlockScale,
    PCAFeatures,
    EPO,
    VIPSelect,
    CARS,
    MCUVE,
    IntervalPLS,
    SRSelect,
    XOutliers,
    YOutliers,
    Leverage,
))

# The models a `model:` step fits (relspec maps the spec's `pls`, `pcr`, `opls`, `lwpls`, `kernel_pls`, `plsda`,
# `oplsda` onto them).
MODELS: tuple[type[BaseEstimator], ...] = (PLSSweep, PCR, OPLS, LWPLS, KernelPLS, PLSDA, OPLSDA)

# Estimators no spec names: FeatureConcat is built by the compiler (`merge: features`).
UNNAMED: tuple[type[BaseEstimator], ...] = (FeatureConcat,)


def estimator_classes(operators: OperatorRegistry = DEFAULT_OPERATORS) -> tuple[type[BaseEstimator], ...]:
    """Every estimator class of ours a plan or a fitted bundle may hold: the registry's, the models, the unnamed."""
    return (*operators.operators, *MODELS, *UNNAMED)
