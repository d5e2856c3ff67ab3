"""The fold fit's side of sample filters and selections: rows followed through filters, the record's arrays, the
columns a selection kept, and the typed error of a filter that leaves the model too few rows."""

from __future__ import annotations

import msgspec
import numpy as np
import pytest

from nirs_core.operators import SNV, Crop, VIPSelect
from nirs_core.operators.base import OperatorTraits
from nirs_modelling.compute import fit_group
from nirs_modelling.errors import SampleFilterError
from nirs_modelling.fold_filters import column_support
from relspec.model_specs import PLSModel
from relspec.operator_map import model_ref, transform_ref
from relspec.operator_specs import transform_specs
from relspec.plan import SweepGroup


def _group(*steps: tuple[str, dict], k: int = 2) -> SweepGroup:
    specs = transform_specs()
    refs = tuple(msgspec.structs.replace(transform_ref(specs.of(op)(**params)), where=f"$.pipeline[{i + 1}]")
                 for i, (op, params) in enumerate(steps))
    return SweepGroup(group_id="g", input_node=None, fitted_steps=refs,
                      model=model_ref(PLSModel(n_components=[k]), k, 0), component_values=(k,))


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 12))
    y = (X[:, 3] + 0.1 * rng.normal(size=40))[:, None]
    y[[5, 30]] = 50.0  # two target outliers
    return X, y


def test_a_filter_drops_training_rows_from_the_later_fits_and_predicts_every_block(data):
    X, y = data
    group = _group(("y_outliers", {"method": "mad"}), ("vip_select", {"n_components": 2, "n_keep": 4}))
    fit_rows, val_rows = np.arange(0, 32), np.arange(32, 40)
    fitted, (val_pred, train_pred) = fit_group(group, (2,), fit_rows, [val_rows, fit_rows], X, y)
    record = fitted.record
    assert record.excluded_rows.tolist() == [5, 30] and record.excluded_step.tolist() == [0, 0]
    assert val_pred.shape == (1, 8, 1) and train_pred.shape == (1, 32, 1)  # every row of every block predicted
    kept = np.setdiff1d(fit_rows, [5, 30])
    vip = VIPSelect(n_components=2, n_keep=4).fit(X[kept], y[kept, 0])
    assert record.selected_column.tolist() == vip.support_.tolist() and record.selected_step.tolist() == [1] * 4
    assert record.selection_step.tolist() == [1] and record.selection_width.tolist() == [12]
    assert len(fitted.steps) == 1 and isinstance(fitted.steps[0], VIPSelect)  # the filter is no fitted step


def test_a_filter_leaving_too_few_rows_is_a_typed_error_naming_its_path_and_counts(data):
    X, y = data
    group = _group(("y_outliers", {"method": "iqr", "threshold": 1e-9}), k=30)
    with pytest.raises(SampleFilterError, match=r"at `\$.pipeline\[1\]` drops \d+ of 32 training rows, leaving "
                                                r"\d+; the model pls\(n_components=30, scale=False\) needs at least "
                                                r"31"):
        fit_group(group, (30,), np.arange(32), [], X, y)


class _BooleanSelection:
    traits = OperatorTraits(row_wise_stateless=False, changes_axis=True, y_aware=True)
    support_ = np.array([True, False, True, False])


def test_column_support_reads_data_driven_selections_only(data):
    X, y = data
    vip = VIPSelect(n_components=2, n_keep=3).fit(X, y[:, 0])
    assert column_support(vip).tolist() == vip.support_.tolist()
    assert column_support(_BooleanSelection()).tolist() == [0, 2]
    axis = [float(i) for i in range(12)]
    assert column_support(Crop(start=2.0, stop=5.0, wavelengths=axis).fit(X)) is None  # fixed: same in every fold
    assert column_support(SNV().fit(X)) is None
