"""The target as the engine sees it: numeric values, or class codes (float64 index into ``plan.classes``)."""

from __future__ import annotations

import numpy as np

from nirs_core.data import SpectraDataset
from nirs_modelling.predictions import readonly
from relspec.plan import CompiledPlan


def target_values(plan: CompiledPlan, dataset: SpectraDataset) -> np.ndarray:
    """The plan's targets of every row, ``(n_rows, n_targets)``: the dataset's floats, or for a classification plan
    (one target) the code of each label.

    Labels are encoded once here, so every node, fold fit and cache key works on one float array; a missing label
    (empty, or a label of a row that is neither train nor test and so not among the classes) is NaN. Models fitted
    on the codes order their classes as on the sorted labels, so they predict exactly what they would on the labels.
    """
    if plan.task == "regression":
        return readonly(np.column_stack([dataset.target(t) for t in plan.targets]))
    values = dataset.target(plan.targets[0])
    classes = np.asarray(plan.classes)
    pos = np.searchsorted(classes, values)
    found = (pos < classes.size) & (classes[np.minimum(pos, classes.size - 1)] == values)
    return readonly(np.where(found, pos, np.nan).astype(np.float64)[:, None])


def model_y(y: np.ndarray) -> np.ndarray:
    """The ``y`` a model is fitted on: 1-D for one target (as a plain scikit-learn script passes it), else 2-D."""
    return y[:, 0] if y.shape[1] == 1 else y
