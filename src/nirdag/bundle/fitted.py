"""A fitted chain in memory (from a bundle or a workspace) and its application to new spectra."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import is_classifier

from nirdag.bundle.errors import BundleError
from relspec.plan import FOLD_FINAL


@dataclass(frozen=True)
class FittedStage:
    """One fold's fitted chain: transformers in order (hoisted steps first), the model, and the y transform that
    takes the model's predictions back to the target's scale (None without y processing)."""

    fold_id: str
    steps: tuple[Any, ...]
    model: Any
    y_transform: Any | None = None

    def predict(self, X: np.ndarray, n_components: int | None) -> np.ndarray:
        """Predictions (n_rows, n_targets) of the chain on the targets' scale; a sweep model predicts the chain's
        count.

        The arithmetic is the engine's (``nirs_modelling.compute``): each step's ``transform`` in turn, then
        ``predict_all(X)[k - 1]`` of a sweep model or ``predict`` of any other model, then the inverse y transform.
        A classifier predicts class codes (floats, one column).
        """
        for step in self.steps:
            X = step.transform(X)
        if n_components is None:
            pred = np.asarray(self.model.predict(X), dtype=np.float64).reshape(X.shape[0], -1)
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

    def __post_init__(self) -> None:
        if not self.stages or self.stages[0].fold_id != FOLD_FINAL:
            raise BundleError(f"chain {self.chain_id}: the first fitted stage must be {FOLD_FINAL!r}")
        if self.bases and (len(self.stages) != 1 or self.final.steps or self.final.y_transform is not None):
            raise BundleError(f"stacked chain {self.chain_id}: its only fitted stage must be the {FOLD_FINAL!r} "
                              "meta-model, without transformers or y transform")

    def _final_predict(self, X: np.ndarray) -> np.ndarray:
        """The refit chain's predictions (n_rows, n_targets); a stack's meta-model sees its base chains' refit
        predictions as columns, base by base and target by target (the engine's ``refit_stack``)."""
        if self.bases:
            X = np.concatenate([base.final.predict(X, base.n_components) for base in self.bases], axis=1)
        return self.final.predict(X, self.n_components)

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
        if self.classes:
            if fold_mean:
                raise BundleError(f"chain {self.chain_id} is a classifier: the mean of its fold models' classes is "
                                  "not a class; predict without fold_mean")
            codes = self._final_predict(X)[:, :1].astype(np.int64)
            return {"y_pred": np.asarray(self.classes)[codes]}
        if fold_mean and self.bases:
            raise BundleError(f"chain {self.chain_id} is a stacked chain: only its {FOLD_FINAL} meta-model exists "
                              "(it learns from out-of-fold predictions, so there are no fold meta-models); predict "
                              "without fold_mean")
        out = {"y_pred": self._final_predict(X)}
        if fold_mean:
            if not self.folds:
                raise BundleError(f"chain {self.chain_id} holds no fold models; predict without fold_mean")
            preds = [stage.predict(X, self.n_components) for stage in self.folds]
            out["y_pred_fold_mean"] = np.mean(preds, axis=0)
        return out
