"""With replicates declared, every split kind keeps a sample's spectra on one side of every fold (and equals
scikit-learn's group splitters where they define the same folds); `group_replicates: false` warns."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.model_selection import GroupShuffleSplit, KFold, LeaveOneGroupOut

from nirs_core.data import SpectraDataset
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

KINDS = ["kfold", "loo", "repeated_kfold", "venetian_blinds", "contiguous_blocks", "shuffle_split",
         "kennard_stone", "spxy", "stratified"]


def _dataset(seed: int = 0, n_samples: int = 24, shuffle_rows: bool = True) -> SpectraDataset:
    """Samples with 1-4 replicates each (rows interleaved), a reference per sample, a quarter of samples test."""
    rng = np.random.default_rng(seed)
    counts = rng.integers(1, 5, size=n_samples)
    sample = np.repeat(np.arange(n_samples), counts)
    order = rng.permutation(sample.size) if shuffle_rows else np.arange(sample.size)
    sample = sample[order]
    names = np.asarray([f"S{s:03d}" for s in sample])
    y = rng.normal(size=n_samples)[sample]
    X = rng.normal(size=(n_samples, 16))[sample] + 0.01 * rng.normal(size=(sample.size, 16))
    test = np.isin(sample, np.arange(0, n_samples, 4))
    return SpectraDataset(name="reps", sample_ids=[f"r{i}" for i in range(sample.size)], spectra=X,
                          wavelengths=np.arange(16.0), wavelength_unit="nm", targets={"y": y},
                          partition=np.where(test, "test", "train"), metadata={"sample": names},
                          replicates="sample")


def _plan(dataset: SpectraDataset, split: dict, seed: int = 0, refit: dict | None = None):
    spec = {"target": "y", "pipeline": [{"split": split}, {"model": {"op": "pls", "n_components": 2}}]}
    if refit is not None:
        spec["refit"] = refit
    return compile_plan(decode_spec(spec, seed=seed), dataset.schema(), dataset=dataset)


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("seed", [0, 1])
def test_no_sample_is_on_both_sides_of_any_fold(kind, seed):
    dataset = _dataset(seed)
    groups = dataset.replicate_groups
    train = set(dataset.rows("train").tolist())
    plan = _plan(dataset, {"kind": kind, "n_splits": 3} if kind != "loo" else {"kind": kind}, seed=seed)
    for fold in plan.folds:
        fitted, validated = set(groups[list(fold.train_rows)]), set(groups[list(fold.val_rows)])
        assert validated and not fitted & validated
        assert set(fold.train_rows) | set(fold.val_rows) <= train
    again = _plan(dataset, {"kind": kind, "n_splits": 3} if kind != "loo" else {"kind": kind}, seed=seed)
    assert again.folds == plan.folds  # seeded: the same folds every time


def test_group_kfold_on_a_coarser_column_keeps_samples_together():
    base = _dataset(13)
    groups = base.replicate_groups
    batch = np.asarray([f"b{int(g[1:]) % 5}" for g in groups])  # every sample in one of 5 batches
    data = SpectraDataset(name="b", sample_ids=base.sample_ids, spectra=base.spectra, wavelengths=base.wavelengths,
                          wavelength_unit="nm", targets={"y": base.target("y")}, partition=base.partition,
                          metadata={"sample": groups, "batch": batch}, replicates="sample")
    plan = _plan(data, {"kind": "group_kfold", "groups": "batch", "n_splits": 3})
    for fold in plan.folds:
        assert not set(groups[list(fold.train_rows)]) & set(groups[list(fold.val_rows)])
        assert not set(batch[list(fold.train_rows)]) & set(batch[list(fold.val_rows)])


def _train_groups(dataset: SpectraDataset) -> tuple[np.ndarray, np.ndarray]:
    train = dataset.rows("train")
    return train, dataset.replicate_groups[train]


def test_loo_is_leave_one_group_out():
    dataset = _dataset(3)
    train, groups = _train_groups(dataset)
    expected = [train[va].tolist() for _, va in LeaveOneGroupOut().split(np.zeros(train.size), groups=groups)]
    assert [list(f.val_rows) for f in _plan(dataset, {"kind": "loo"}).folds] == expected


def test_shuffle_split_is_group_shuffle_split():
    dataset = _dataset(4)
    train, groups = _train_groups(dataset)
    splitter = GroupShuffleSplit(n_splits=6, test_size=0.2, random_state=11)
    expected = [(train[tr].tolist(), train[va].tolist()) for tr, va in splitter.split(np.zeros(train.size),
                                                                                        groups=groups)]
    plan = _plan(dataset, {"kind": "shuffle_split", "n_splits": 6, "test_size": 0.2}, seed=11)
    assert [(list(f.train_rows), list(f.val_rows)) for f in plan.folds] == expected


def test_kfold_is_kfold_over_the_sorted_samples():
    dataset = _dataset(5)
    train, groups = _train_groups(dataset)
    names = np.unique(groups)
    expected = [np.sort(train[np.isin(groups, names[va])]).tolist()
                for _, va in KFold(4, shuffle=True, random_state=2).split(names)]
    assert [list(f.val_rows) for f in _plan(dataset, {"kind": "kfold", "n_splits": 4}, seed=2).folds] == expected


def test_venetian_blinds_deal_samples_in_dataset_order():
    dataset = _dataset(6)
    train, groups = _train_groups(dataset)
    _, first = np.unique(groups, return_index=True)
    in_order = groups[np.sort(first)]  # samples by their first train row
    position = {s: i for i, s in enumerate(in_order)}
    plan = _plan(dataset, {"kind": "venetian_blinds", "n_splits": 3, "thickness": 2})
    for i, fold in enumerate(plan.folds):
        expected = [r for r, g in zip(train, groups, strict=True) if (position[g] // 2) % 3 == i]
        assert list(fold.val_rows) == expected


def test_group_replicates_false_keeps_row_folds_and_warns():
    dataset = _dataset(7)
    plan = _plan(dataset, {"kind": "kfold", "n_splits": 3, "group_replicates": False})
    train = dataset.rows("train")
    expected = [train[va].tolist() for _, va in KFold(3, shuffle=True, random_state=0).split(train)]
    assert [list(f.val_rows) for f in plan.folds] == expected
    warnings = [f for f in plan.validation.findings if f.code == "replicates_split"]
    assert len(warnings) == 1 and warnings[0].severity == "warning"
    assert warnings[0].path == "$.pipeline[0].split.group_replicates" and "'sample'" in warnings[0].message
    grouped = _plan(dataset, {"kind": "kfold", "n_splits": 3})
    assert not [f for f in grouped.validation.findings if f.code == "replicates_split"]


def test_ranking_level_defaults_to_sample_and_is_recorded():
    dataset = _dataset(8)
    plan = _plan(dataset, {"kind": "kfold", "n_splits": 3})
    assert plan.rank_level == "sample" and plan.replicate_groups.column == "sample"
    assert [f for f in plan.validation.findings if f.code == "rank_level"]
    assert _plan(dataset, {"kind": "kfold"}, refit={"level": "spectrum"}).rank_level == "spectrum"


def test_a_plan_without_replicates_keeps_its_hash_fields_unset():
    dataset = _dataset(9).with_replicates(None)
    plan = _plan(dataset, {"kind": "kfold", "n_splits": 3})
    assert plan.replicate_groups is None and plan.rank_level == "spectrum"
    with pytest.raises(CompileError, match=r"declares no replicate.*\$\.refit\.level"):
        _plan(dataset, {"kind": "kfold"}, refit={"level": "sample"})


def test_a_reference_that_differs_between_replicates_is_refused():
    base = _dataset(10)
    y = base.target("y").copy()
    groups = base.replicate_groups
    twice = next(g for g in np.unique(groups) if (groups == g).sum() > 1 and base.partition[groups == g][0] == "train")
    y[np.flatnonzero(groups == twice)[0]] += 1.0
    bad = SpectraDataset(name="bad", sample_ids=base.sample_ids, spectra=base.spectra, wavelengths=base.wavelengths,
                         wavelength_unit="nm", targets={"y": y}, partition=base.partition,
                         metadata={"sample": groups}, replicates="sample")
    with pytest.raises(CompileError, match=rf"different reference values, e.g. \['{twice}'\]"):
        _plan(bad, {"kind": "kfold", "n_splits": 3})


def test_group_kfold_splitting_a_sample_is_refused():
    base = _dataset(11)
    groups = base.replicate_groups
    batch = np.asarray([f"b{i % 2}" for i in range(groups.size)])  # alternating: replicates fall in two batches
    data = SpectraDataset(name="b", sample_ids=base.sample_ids, spectra=base.spectra, wavelengths=base.wavelengths,
                          wavelength_unit="nm", targets={"y": base.target("y")}, partition=base.partition,
                          metadata={"sample": groups, "batch": batch}, replicates="sample")
    with pytest.raises(CompileError, match="puts the replicates of"):
        _plan(data, {"kind": "group_kfold", "groups": "batch", "n_splits": 2})


def test_too_few_samples_for_the_folds_is_refused():
    dataset = _dataset(12, n_samples=4)
    with pytest.raises(CompileError, match="3 train samples, fewer than n_splits=5"):
        _plan(dataset, {"kind": "kfold", "n_splits": 5})


def test_group_replicates_written_true_is_the_default_spec():
    dataset = _dataset(14)
    written = _plan(dataset, {"kind": "kfold", "n_splits": 3, "group_replicates": True})
    default = _plan(dataset, {"kind": "kfold", "n_splits": 3})
    leaky = _plan(dataset, {"kind": "kfold", "n_splits": 3, "group_replicates": False})
    assert written.pipeline_hash == default.pipeline_hash != leaky.pipeline_hash
    assert written.folds == default.folds != leaky.folds
