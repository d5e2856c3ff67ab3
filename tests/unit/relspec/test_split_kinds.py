"""The row-count split kinds compile to the folds of their reference scheme, from the schema alone."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import KFold, LeaveOneOut, RepeatedKFold, ShuffleSplit

from nirs_core.data import tecator
from nirs_core.operators import VenetianBlindsKFold
from relspec import CompileError, SpecError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

SCHEMA = tecator().schema()
TRAIN = np.asarray(SCHEMA.train_rows)


def _plan(split: dict, seed: int = 0):
    spec = decode_spec({"target": "fat", "pipeline": [{"split": split}, {"model": {"op": "pls", "n_components": 2}}]},
                       seed=seed)
    return compile_plan(spec, SCHEMA)


def _val(plan) -> list[list[int]]:
    return [list(f.val_rows) for f in plan.folds]


def _expected(splitter) -> list[list[int]]:
    return [TRAIN[va].tolist() for _, va in splitter.split(np.zeros((TRAIN.size, 1)))]


def test_loo_is_leave_one_out():
    assert _val(_plan({"kind": "loo"})) == _expected(LeaveOneOut())


def test_repeated_kfold_is_repeated_kfold_with_the_run_seed():
    plan = _plan({"kind": "repeated_kfold", "n_splits": 3, "n_repeats": 2}, seed=11)
    assert _val(plan) == _expected(RepeatedKFold(n_splits=3, n_repeats=2, random_state=11))
    assert [f.fold_id for f in plan.folds] == [f"fold_{i}" for i in range(6)]


def test_contiguous_blocks_are_kfold_without_shuffling():
    assert _val(_plan({"kind": "contiguous_blocks", "n_splits": 4})) == _expected(KFold(4, shuffle=False))


def test_shuffle_split_is_shuffle_split_with_the_run_seed():
    plan = _plan({"kind": "shuffle_split", "n_splits": 5, "test_size": 0.3}, seed=4)
    assert _val(plan) == _expected(ShuffleSplit(n_splits=5, test_size=0.3, random_state=4))


@pytest.mark.parametrize("thickness", [1, 3])
def test_venetian_blinds_deal_blinds_of_rows_to_the_folds_in_turn(thickness):
    plan = _plan({"kind": "venetian_blinds", "n_splits": 5, "thickness": thickness})
    positions = np.arange(TRAIN.size)
    expected = [TRAIN[(positions // thickness) % 5 == k].tolist() for k in range(5)]  # the scheme, re-derived
    assert _val(plan) == expected
    for fold in plan.folds:
        assert sorted((*fold.train_rows, *fold.val_rows)) == TRAIN.tolist()


def test_venetian_blinds_refuse_an_empty_fold():
    with pytest.raises(ValueError, match="fold 2 is empty"):
        list(VenetianBlindsKFold(n_splits=3, thickness=2).split(np.zeros((4, 1))))
    with pytest.raises(CompileError, match="venetian_blinds"):
        _plan({"kind": "venetian_blinds", "n_splits": 2, "thickness": 1000})


@pytest.mark.parametrize(("split", "field"), [
    ({"kind": "repeated_kfold", "n_repeats": 0}, "n_repeats"),
    ({"kind": "shuffle_split", "test_size": 1.5}, "test_size"),
    ({"kind": "venetian_blinds", "thickness": 0}, "thickness"),
])
def test_bad_split_options_name_their_spec_path(split, field):
    with pytest.raises(SpecError, match=rf"\$\.pipeline\[0\]\.split\.{field}"):
        _plan(split)


def test_loo_takes_no_n_splits():
    with pytest.raises(SpecError, match=r"unknown field `n_splits`.*\$\.pipeline\[0\]\.split`"):
        _plan({"kind": "loo", "n_splits": 3})
