"""Same spec, data and seed: identical hashes and bit-identical predictions; another seed changes the folds."""

from __future__ import annotations

import numpy as np

import nirdag

KEY = "chain_id, fold_id, partition, sample_id"


def _predictions(run):
    return run.sql(
        f"SELECT {KEY}, y_pred FROM predictions WHERE run_id = '{run.run_id}' ORDER BY {KEY}"
    )


def test_second_run_is_bit_identical(tecator_run, tecator, tmp_path, example_spec):
    again = nirdag.run(example_spec, tecator, workspace=tmp_path / "ws", seed=0)
    assert again.run_id != tecator_run.run_id
    assert (again.dataset_hash, again.pipeline_hash, again.plan.plan_hash) == (
        tecator_run.dataset_hash, tecator_run.pipeline_hash, tecator_run.plan.plan_hash)
    first, second = _predictions(tecator_run), _predictions(again)
    assert first.column("chain_id").equals(second.column("chain_id"))
    assert first.column("sample_id").equals(second.column("sample_id"))
    a, b = first["y_pred"].to_numpy(), second["y_pred"].to_numpy()
    assert a.tobytes() == b.tobytes()


def test_another_seed_changes_folds_not_identities(tecator_run, tecator, example_spec):
    plan = nirdag.compile(example_spec, tecator, seed=1)
    assert plan.pipeline_hash == tecator_run.pipeline_hash
    assert plan.dataset_hash == tecator_run.dataset_hash
    assert plan.folds != tecator_run.plan.folds
    assert np.array_equal(
        np.sort(np.concatenate([f.val_rows for f in plan.folds])), np.asarray(tecator.rows("train"))
    )
