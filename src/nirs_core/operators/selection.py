"""Wavelength selection decided on the fold's training rows: the variables of largest VIP in a PLS model."""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import Operator, OperatorTraits, check_n_components
from nirs_core.operators.params import Param, check_params
from nirs_core.operators.pls import PLSSweep


def vip_scores(pls: PLSSweep, X: np.ndarray) -> np.ndarray:
    """VIP of every variable for a fitted PLS, all targets together (Wold et al. 1993; Chong & Jun 2005):

        VIP_j = sqrt(p * sum_a SS_a (w_ja / |w_a|)^2 / sum_a SS_a),   SS_a = sum over targets of q_a^2 t_a't_a

    with the scores ``t_a`` of the rows ``X`` the model was fitted on. For one target it is the usual VIP, whose
    squares average 1 over the variables."""
    scores = ((X - pls.x_mean_) / pls.x_scale_) @ pls.x_rotations_
    ss = (pls.y_loadings_**2).sum(axis=0) * np.einsum("ij,ij->j", scores, scores)
    weights = pls.x_weights_ / np.linalg.norm(pls.x_weights_, axis=0, keepdims=True)
    return np.sqrt(weights.shape[0] * ((weights**2) @ ss) / ss.sum())


class VIPSelect(Operator):
    """Keep the ``n_keep`` wavelengths of largest VIP in a PLS model of the fold's training rows.

    S. Wold, E. Johansson & M. Cocchi, "PLS - partial least-squares projections to latent structures", in 3D QSAR
    in Drug Design (1993) 523-550; I.-G. Chong & C.-H. Jun, "Performance of some variable selection methods when
    multicollinearity is present", Chemom. Intell. Lab. Syst. 78 (2005) 103-112. A PLS with ``n_components``
    (centred, unscaled, as ``pls``) is fitted on the rows given to ``fit`` only, each variable's VIP computed
    (:func:`vip_scores`), and the ``n_keep`` variables of largest VIP are kept in their original order (ties go to
    the lower column). Validation and test rows are reduced to the same columns. A fixed number, rather than the
    "VIP > 1" rule, keeps the width the same in every fold, so the model's component range can be checked before
    anything runs; ``vip_`` shows how many pass 1. The columns kept differ from fold to fold: they are the
    ``support_`` of each fold's fitted object (stored with the run's fitted objects, and in a bundle), and no
    wavelength-aware step may follow.

    Parameters
    ----------
    n_components : int, default=5
        Components of the PLS whose VIP ranks the variables, in [1, min(n_samples - 1, n_features)].
    n_keep : int, default=20
        Number of variables kept, in [1, n_features].

    Attributes
    ----------
    vip_ : ndarray of shape (n_features,)
        VIP of every input variable on the training rows.
    support_ : ndarray of shape (n_keep,)
        Indices of the kept variables, ascending.
    wavelengths_out_ : ndarray of shape (n_keep,)
        0 .. n_keep - 1: the output columns' index (the kept wavelengths differ between folds).

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import VIPSelect
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(40, 8))
    >>> y = 3 * X[:, 2] - 2 * X[:, 5] + 0.1 * rng.normal(size=40)
    >>> VIPSelect(n_components=1, n_keep=2).fit(X, y).support_  # the two informative columns
    array([2, 5])
    """

    spec_name = "vip_select"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=False, changes_axis=True, y_aware=True)
    parameter_constraints = MappingProxyType({
        "n_components": Param(int, ge=1),
        "n_keep": Param(int, ge=1),
    })

    def __init__(self, n_components: int = 5, n_keep: int = 20):
        self.n_components = n_components
        self.n_keep = n_keep

    def fit(self, X, y):
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True, ensure_min_samples=2)
        check_params(self)
        check_n_components(self.n_components, X.shape, "VIPSelect")
        if self.n_keep > X.shape[1]:
            raise ValueError(f"VIPSelect: n_keep={self.n_keep} is more than the {X.shape[1]} columns "
                             f"(n_features={X.shape[1]})")
        pls = PLSSweep(int(self.n_components)).fit(X, y)
        self.vip_ = vip_scores(pls, X)
        ranked = np.argsort(-self.vip_, kind="stable")  # largest first; ties keep the lower column first
        self.support_ = np.sort(ranked[: int(self.n_keep)])
        self.wavelengths_out_ = np.arange(int(self.n_keep), dtype=np.float64)
        return self

    def axis_after(self, n_features: int) -> np.ndarray:
        """0 .. n_keep - 1, known from the parameter alone (which columns is decided per fold)."""
        check_params(self)
        if self.n_keep > n_features:
            raise ValueError(f"VIPSelect: n_keep={self.n_keep} is more than the {n_features} columns")
        return np.arange(int(self.n_keep), dtype=np.float64)

    def transform(self, X):
        check_is_fitted(self, "support_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X[:, self.support_]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        return tags
