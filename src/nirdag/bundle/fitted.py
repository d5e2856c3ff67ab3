"""A fitted chain in memory (from a bundle or a workspace) and its application to new spectra."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import is_classifier

from nirdag.bundle.errors import BundleError
from nirs_core.conformal import ConformalCalibration, IntervalScale, check_coverage, conformal_quantile, leverage_scale
from nirs_core.diagnostics import Domain, latent_of, sample_statistics
from nirs_core.errors import NirdagError
from nirs_core.operators.base import ComponentSweepMixin
from nirs_core.transfer import SlopeBias, SpectralTransfer
from relspec.plan import FOLD_FINAL

# What predict returns per spectrum about the applicability domain (sample_statistics' names).
DOMAIN_COLUMNS: tuple[str, ...] = ("t2", "q", "t2_ratio", "q_ratio", "domain")


# What numpy and scikit-learn raise when a fitted object's state does not fit the chain (attributes edited inside
# its skops file and re-hashed by someone without the signing key, or objects of one chain mixed with another's).
_OBJECT_FAILURES = (ValueError, TypeError, IndexError, KeyError, AttributeError, ArithmeticError)


@contextmanager
def fitted_objects_of(where: str) -> Iterator[None]:
    """At the trust boundary (a bundle's objects being put together or applied): a failure of the objects
    themselves becomes one BundleError naming ``where``; nirdag's own typed errors pass unchanged."""
    try:
        yield
    except NirdagError:
        raise
    except _OBJECT_FAILURES as exc:  # np.linalg.LinAlgError is a ValueError
        raise BundleError(f"{where}: its fitted objects do not fit together ({type(exc).__name__}: {exc}); the "
                          "bundle's objects are inconsistent with each other or with its manifest") from None


def no_stored_domain(run_id: str) -> str:
    """Why a chain of a latent model has no domain when its run stored none for it."""
    return (f"run {run_id} stored no applicability domain for this chain (a run made before nirdag computed "
            "domains, or too few calibration rows for limits)")


@dataclass(frozen=True)
class FittedStage:
    """One fold's fitted chain: transformers in order (hoisted steps first), the model, and the y transform that
    takes the model's predictions back to the target's scale (None without y processing)."""

    fold_id: str
    steps: tuple[Any, ...]
    model: Any
    y_transform: Any | None = None

    def transform(self, X: np.ndarray) -> np.ndarray:
        """The spectra as the model sees them: each step's ``transform`` in turn (hoisted steps first)."""
        for step in self.steps:
            X = step.transform(X)
        return X

    def predict(self, X: np.ndarray, n_components: int | None) -> np.ndarray:
        """Predictions (n_rows, n_targets) of the chain on the targets' scale; a sweep model predicts the chain's
        count.

        The arithmetic is the engine's (``nirs_modelling.compute``): each step's ``transform`` in turn, then
        ``predict_all(X, select=[k - 1])`` of a sweep model or ``predict`` of any other model, then the inverse y
        transform.
        A classifier predicts class codes (floats, one column).
        """
        return self.predict_transformed(self.transform(X), n_components)

    def predict_transformed(self, X: np.ndarray, n_components: int | None) -> np.ndarray:
        """:meth:`predict` of spectra already through :meth:`transform`."""
        if n_components is None:
            pred = np.asarray(self.model.predict(X), dtype=np.float64).reshape(X.shape[0], -1)
        elif isinstance(self.model, ComponentSweepMixin):  # the chain's count only, with the engine's arithmetic
            pred = self.model.predict_all(X, select=[n_components - 1])[0]
        else:
            every = self.model.predict_all(X)
            pred = every[n_components - 1][:, None] if is_classifier(self.model) else every[n_components - 1]
        if self.y_transform is None:
            return pred
        return np.asarray(self.y_transform.inverse_transform(pred), dtype=np.float64).reshape(pred.shape)


@dataclass(frozen=True)
class FittedChain:
    """Everything needed to predict with one chain: its fitted stages and the facts of its training data."""

    chain_id: str
    targets: tuple[str, ...]  # the predicted targets, in the order of the prediction columns
    wavelengths: np.ndarray
    wavelength_unit: str
    n_components: int | None
    stages: tuple[FittedStage, ...]  # fold_final first, then the CV folds
    classes: tuple[str, ...] = ()  # a classification chain: label of each class code; () for regression
    # A stacked chain: its base chains (fold_final only) in the meta-model's column order; its one stage is the
    # meta-model's (fold_final, no transformers), applied to the base chains' predictions.
    bases: tuple[FittedChain, ...] = ()
    # The applicability domain of the fold_final model (the run's `domains` row); None without one, and then
    # `domain_note` says why when the model alone does not (an old bundle, a run that stored none).
    domain: Domain | None = None
    domain_note: str = ""
    # A derived bundle (nirs_core.transfer): spectra of another instrument go through `transfer` before the chain,
    # the chain's predictions through `correction` (slope/bias) after it; None for a chain used as it was fitted.
    transfer: SpectralTransfer | None = None
    correction: SlopeBias | None = None
    # The conformity scores of the chain's pooled out-of-fold residuals (prediction intervals); None without them,
    # and then `calibration_note` says why (a bundle written before nirdag carried them).
    calibration: ConformalCalibration | None = None
    calibration_note: str = ""

    def __post_init__(self) -> None:
        if not self.stages or self.stages[0].fold_id != FOLD_FINAL:
            raise BundleError(f"chain {self.chain_id}: the first fitted stage must be {FOLD_FINAL!r}")
        if self.bases and (len(self.stages) != 1 or self.final.steps or self.final.y_transform is not None):
            raise BundleError(f"stacked chain {self.chain_id}: its only fitted stage must be the {FOLD_FINAL!r} "
                              "meta-model, without transformers or y transform")
        if self.domain is not None:
            self._check_domain(self.domain)
        if self.calibration is not None and (self.calibration.targets != self.targets or self.classes):
            raise BundleError(f"chain {self.chain_id}: its conformal calibration lists targets "
                              f"{list(self.calibration.targets)}, the chain predicts {list(self.targets)}"
                              f"{' (a classifier has none)' if self.classes else ''}")
        if self.calibration is not None and self.calibration.leverage and self.domain is None:
            raise BundleError(f"chain {self.chain_id}: its calibration has leverage-scaled scores but the chain "
                              "has no applicability domain to compute the leverage of new spectra with")

    def _check_domain(self, domain: Domain) -> None:
        """A domain judges the spectra the fold_final model sees: the chain must have one latent model of k
        components, and the domain one variance and sum of squares per component."""
        latent = None if self.bases else latent_of(self.final.model, self.n_components)
        if latent is None:
            raise BundleError(f"chain {self.chain_id} carries an applicability domain, but its fitted model "
                              f"({type(self.final.model).__name__}{', a stack' if self.bases else ''}) has no "
                              "latent structure to judge spectra by")
        if not domain.k == latent.k == len(domain.score_variances) == len(domain.score_sums_of_squares):
            raise BundleError(f"chain {self.chain_id}: its applicability domain has k={domain.k} "
                              f"({len(domain.score_variances)} score variances), its model {latent.k} components")

    def domain_absence(self) -> str | None:
        """Why predictions of this chain are not judged against an applicability domain; None when they are."""
        if self.domain is not None:
            return None
        if self.bases:
            return "a stacked chain: its meta-model sees the base chains' predictions, not spectra"
        if latent_of(self.final.model, self.n_components) is None:
            return (f"its model ({type(self.final.model).__name__}) is not a latent-variable model (PLS, PCR, "
                    "PLS-DA)")
        return self.domain_note or "no applicability domain was stored for this chain"

    def _final_predict(self, X: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The refit chain's predictions (n_rows, n_targets) and the spectra as its model saw them (None for a
        stack, whose meta-model sees its base chains' refit predictions as columns, base by base and target by
        target: the engine's ``refit_stack``)."""
        if self.bases:
            X = np.concatenate([base.final.predict(X, base.n_components) for base in self.bases], axis=1)
            return self.final.predict(X, self.n_components), None
        seen = self.final.transform(X)
        return self.final.predict_transformed(seen, self.n_components), seen

    def refit_predictions(self, X: np.ndarray) -> np.ndarray:
        """The refit chain's predictions (n_rows, n_targets) alone: no domain, no interval (explanations call it
        many times)."""
        return self._final_predict(X)[0]

    def _statistics(self, seen: np.ndarray | None) -> dict[str, np.ndarray] | None:
        if self.domain is None or seen is None:
            return None
        latent = latent_of(self.final.model, self.n_components)
        return sample_statistics(latent, self.domain, seen, calibration=False)

    def check_interval(self, coverage: float, scale: IntervalScale) -> None:
        """Refuse an interval this chain cannot give: a coverage outside (0, 1), a classifier, no calibration
        scores, no leverage scores."""
        try:
            check_coverage(coverage)
        except ValueError as exc:
            raise BundleError(f"chain {self.chain_id}: {exc}") from None
        if self.classes:
            raise BundleError(f"chain {self.chain_id} is a classifier: prediction intervals are for regression "
                              "chains; predict without an interval")
        if self.calibration is None:
            raise BundleError(f"chain {self.chain_id} carries no calibration residuals for prediction intervals: "
                              f"{self.calibration_note or 'its run stored no out-of-fold predictions'}")
        if scale == "leverage" and not self.calibration.leverage:
            raise BundleError(f"chain {self.chain_id} has no leverage-scaled calibration scores (its model has no "
                              "latent structure with a stored applicability domain, or it is a stack): use the "
                              "interval scale 'absolute'")

    def intervals(self, pred: np.ndarray, leverage: np.ndarray | None, coverage: float, scale: IntervalScale
                  ) -> dict[str, np.ndarray]:
        """``y_lower`` and ``y_upper`` (n_rows, n_targets): ``ŷ ± q`` per target, with ``q`` the conformal quantile
        of its scores at ``coverage`` (times ``sqrt(1 + h)`` of each new spectrum for the ``leverage`` scale); an
        infinite bound when the calibration has too few rows for the coverage."""
        self.check_interval(coverage, scale)
        q = np.asarray([conformal_quantile(np.asarray(s), coverage) for s in self.calibration.scores(scale)])
        half = q[None, :] * (np.ones((pred.shape[0], 1)) if scale == "absolute" else
                             leverage_scale(leverage)[:, None])
        return {"y_lower": pred - half, "y_upper": pred + half}

    @property
    def final(self) -> FittedStage:
        return self.stages[0]

    @property
    def folds(self) -> tuple[FittedStage, ...]:
        return self.stages[1:]

    def predict(self, X: np.ndarray, *, fold_mean: bool = False) -> dict[str, np.ndarray]:
        """``{"y_pred": refit predictions}`` and, with ``fold_mean``, ``"y_pred_fold_mean"`` (mean of fold models),
        each (n_rows, n_targets).

        A classification chain predicts class labels (strings, one column); it has no fold mean (a mean of classes
        is none).
        """
        return self.predict_judged(X, fold_mean=fold_mean)[0]

    def predict_judged(self, X: np.ndarray, *, fold_mean: bool = False, interval: float | None = None,
                       interval_scale: IntervalScale = "absolute"
                       ) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray] | None]:
        """:meth:`predict`, and each spectrum judged against the chain's applicability domain: ``t2``, ``q``,
        ``t2_ratio``, ``q_ratio`` (value / 95 % prediction limit) and ``domain`` (``regular`` / ``extreme`` /
        ``outlier``), each (n_rows,) — None without a domain (see :meth:`domain_absence`).

        The spectra go through the fold_final transformers once; the model predicts and the domain judges from
        that one matrix. With ``interval`` (a coverage in (0, 1)) the predictions also hold ``y_lower`` and
        ``y_upper``, the split-conformal interval (see :meth:`intervals`).
        """
        if interval is not None:
            self.check_interval(interval, interval_scale)
        if self.classes and fold_mean:
            raise BundleError(f"chain {self.chain_id} is a classifier: the mean of its fold models' classes is "
                              "not a class; predict without fold_mean")
        if fold_mean and self.bases:
            raise BundleError(f"chain {self.chain_id} is a stacked chain: only its {FOLD_FINAL} meta-model exists "
                              "(it learns from out-of-fold predictions, so there are no fold meta-models); predict "
                              "without fold_mean")
        if fold_mean and not self.folds:
            raise BundleError(f"chain {self.chain_id} holds no fold models; predict without fold_mean")
        if self.transfer is not None:
            X = self.transfer.apply(X)
        pred, seen = self._final_predict(X)
        stats = self._statistics(seen)
        judged = None if stats is None else {name: stats[name] for name in DOMAIN_COLUMNS}
        if self.classes:
            return {"y_pred": np.asarray(self.classes)[pred[:, :1].astype(np.int64)]}, judged
        out = {"y_pred": self._corrected(pred)}
        if fold_mean:
            out["y_pred_fold_mean"] = self._corrected(
                np.mean([stage.predict(X, self.n_components) for stage in self.folds], axis=0))
        if interval is not None:
            out |= self.intervals(pred, None if stats is None else stats["leverage"], interval, interval_scale)
        return out, judged

    def _corrected(self, pred: np.ndarray) -> np.ndarray:
        return pred if self.correction is None else self.correction.apply(pred)
