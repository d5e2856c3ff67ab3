"""The models of the pipeline language (``model: {op: ...}``): frozen msgspec structs, one per model kind."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

_STRICT = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


_Components = Annotated[int, msgspec.Meta(ge=1)] | Annotated[
    list[Annotated[int, msgspec.Meta(ge=1)]], msgspec.Meta(min_length=1)]


class _Model(msgspec.Struct, tag_field="op", **_STRICT):
    """Base of the model steps; ``op`` selects the model."""

    def component_values(self) -> tuple[int | None, ...]:
        """Component counts one fit serves (a sweep); ``(None,)`` for a model without components."""
        return (None,)


class _SweepModel(_Model):
    n_components: _Components

    def component_values(self) -> tuple[int | None, ...]:
        nc = self.n_components
        return tuple(sorted({nc} if isinstance(nc, int) else set(nc)))


class PLSModel(_SweepModel, tag="pls"):
    """PLS regression, centred; ``scale`` true also scales X and y columns to unit variance (as scikit-learn)."""

    scale: bool = False


class PCRModel(_SweepModel, tag="pcr"):
    """Principal component regression (centred X, the first k components)."""


class OPLSModel(_SweepModel, tag="opls"):
    """OPLS regression of one numeric target (Trygg & Wold 2002): ``n_components`` counts all components, one
    predictive and ``n_components - 1`` orthogonal; one fit serves the sweep."""


class LWPLSModel(_SweepModel, tag="lwpls"):
    """Locally weighted PLS of one numeric target (Kim et al. 2013): a weighted PLS per predicted spectrum, the
    training rows weighted by ``exp(-distance / (bandwidth * sd(distances)))``."""

    bandwidth: Annotated[float, msgspec.Meta(gt=0.0)] = 1.0


class KernelPLSModel(_SweepModel, tag="kernel_pls"):
    """Kernel PLS of one numeric target (Rosipal & Trejo 2001) with an RBF, polynomial or linear kernel
    (``gamma`` 0 = 1 / n_features)."""

    kernel: Literal["rbf", "poly", "linear"] = "rbf"
    gamma: Annotated[float, msgspec.Meta(ge=0.0)] = 0.0
    degree: Annotated[int, msgspec.Meta(ge=1)] = 2
    coef0: float = 1.0


class PLSDAModel(_SweepModel, tag="plsda"):
    """PLS discriminant analysis on a label target: PLS2 on one-hot class indicators, the largest score wins.

    ``scale`` true also scales X and indicator columns to unit variance (as ``pls``).
    """

    scale: bool = False


class SklearnModel(_Model, tag="sklearn"):
    """Any scikit-learn regressor (numeric target) or classifier (label target), named by its import path
    (``sklearn.linear_model.Ridge``, ``sklearn.linear_model.LogisticRegression``), with its params."""

    estimator: str
    params: dict[str, Any] = msgspec.field(default_factory=dict)


class OPLSDAModel(_SweepModel, tag="oplsda"):
    """OPLS-DA of a label target with two classes (Bylesjö et al. 2006): OPLS of the 0/1 class indicator;
    ``n_components`` counts one predictive and ``n_components - 1`` orthogonal components."""


ModelSpec = (PLSModel | PCRModel | OPLSModel | LWPLSModel | KernelPLSModel | PLSDAModel | OPLSDAModel
             | SklearnModel)
# Sweep models of one numeric target (refused with several targets)
SINGLE_TARGET_MODELS = (OPLSModel, LWPLSModel, KernelPLSModel)
