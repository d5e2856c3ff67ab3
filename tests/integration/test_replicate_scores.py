"""A run on a dataset with replicates: folds keep samples together, the `scores` table holds per-spectrum and
per-sample rows (the per-sample ones equal a plain numpy computation from the stored per-spectrum predictions), the
ranking is on the sample level by default, the views and the CLI report both levels."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nirdag
from datafusion_engine.spectra_store import load_stored_dataset
from nirdag.report import build_report
from nirdag.run_counterfactual import model_what_if
from nirs_core.data import SpectraDataset, tecator

N_SAMPLES, N_REPS = 60, 3
SPEC = {"name": "reps", "target": "fat", "seed": 3, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 4}}, {"op": "snv"}, {"model": {"op": "pls", "n_components": [2, 4, 6]}}]}


def _replicated() -> SpectraDataset:
    """The first 60 Tecator samples scanned 3 times (small noise each time), the last 15 of them test."""
    base, rng = tecator(), np.random.default_rng(7)
    sample = np.repeat(np.arange(N_SAMPLES), N_REPS)
    X = base.spectra[sample] + rng.normal(scale=0.004, size=(sample.size, base.n_wavelengths))
    return SpectraDataset(
        name="reps", sample_ids=[f"s{s}_{r}" for s, r in zip(sample, np.tile(np.arange(N_REPS), N_SAMPLES),
                                                             strict=True)],
        spectra=X, wavelengths=base.wavelengths, wavelength_unit="nm", targets={"fat": base.target("fat")[sample]},
        partition=np.where(sample >= 45, "test", "train"), metadata={"cup": np.asarray([f"c{s}" for s in sample])},
        replicates="cup")


@pytest.fixture(scope="module")
def replicate_run(tmp_path_factory):
    return nirdag.run(SPEC, _replicated(), workspace=tmp_path_factory.mktemp("reps") / "ws", cache=False)


def _sample_of(dataset: SpectraDataset) -> dict[str, str]:
    return dict(zip(dataset.sample_ids.tolist(), dataset.replicate_groups.tolist(), strict=True))


def _per_sample(rows: list[dict], sample_of: dict[str, str]) -> tuple[np.ndarray, np.ndarray]:
    """The mean y_pred of each sample's rows (and its y_true), with numpy only."""
    keys = sorted({sample_of[r["sample_id"]] for r in rows})
    true = np.asarray([np.mean([r["y_true"] for r in rows if sample_of[r["sample_id"]] == k]) for k in keys])
    pred = np.asarray([np.mean([r["y_pred"] for r in rows if sample_of[r["sample_id"]] == k]) for k in keys])
    return true, pred


def _scores(run, level: str) -> dict[tuple[str, str, str, str], float]:
    rows = run.sql(f"SELECT chain_id, fold_id, partition, metric, value FROM scores WHERE run_id = '{run.run_id}' "
                   f"AND level = '{level}'").to_pylist()
    return {(r["chain_id"], r["fold_id"], r["partition"], r["metric"]): r["value"] for r in rows}


def test_no_fold_splits_a_sample(replicate_run):
    groups = replicate_run.dataset.replicate_groups
    for fold in replicate_run.plan.folds:
        assert not set(groups[list(fold.train_rows)]) & set(groups[list(fold.val_rows)])


def test_per_sample_scores_equal_numpy_from_the_spectrum_predictions(replicate_run):
    run = replicate_run
    sample_of = _sample_of(run.dataset)
    predictions = run.sql(f"SELECT chain_id, fold_id, partition, sample_id, y_true, y_pred FROM predictions "
                          f"WHERE run_id = '{run.run_id}'").to_pylist()
    sample = _scores(run, "sample")
    spectrum = _scores(run, "spectrum")
    refit = [c.chain_id for c in run.plan.chains if (c.chain_id, "fold_final", "test", "rmse") in sample]
    assert refit
    for chain in run.plan.chains:
        mine = [r for r in predictions if r["chain_id"] == chain.chain_id]
        pooled_true, pooled_pred = [], []
        for fold in run.plan.folds:  # each fold's val spectra averaged per sample, then pooled over the folds
            true, pred = _per_sample([r for r in mine if r["fold_id"] == fold.fold_id and r["partition"] == "val"],
                                     sample_of)
            assert sample[(chain.chain_id, fold.fold_id, "val", "n")] == true.size
            assert sample[(chain.chain_id, fold.fold_id, "val", "rmse")] == pytest.approx(
                np.sqrt(np.mean((pred - true) ** 2)), rel=1e-10)
            pooled_true.append(true)
            pooled_pred.append(pred)
        true, pred = np.concatenate(pooled_true), np.concatenate(pooled_pred)
        assert sample[(chain.chain_id, "cv", "val", "rmse")] == pytest.approx(np.sqrt(np.mean((pred - true) ** 2)),
                                                                             rel=1e-10)
        assert sample[(chain.chain_id, "cv", "val", "bias")] == pytest.approx(np.mean(pred - true), abs=1e-10)
        r2 = 1 - np.sum((pred - true) ** 2) / np.sum((true - true.mean()) ** 2)
        assert sample[(chain.chain_id, "cv", "val", "r2")] == pytest.approx(r2, rel=1e-10)
        val = [r for r in mine if r["fold_id"] != "fold_final" and r["partition"] == "val"]
        raw = np.asarray([r["y_pred"] - r["y_true"] for r in val])
        assert spectrum[(chain.chain_id, "cv", "val", "rmse")] == pytest.approx(np.sqrt(np.mean(raw**2)), rel=1e-10)
    for chain_id in refit:
        true, pred = _per_sample([r for r in predictions if r["chain_id"] == chain_id and r["fold_id"] == "fold_final"
                                  and r["partition"] == "test"], sample_of)
        assert true.size == 15
        assert sample[(chain_id, "fold_final", "test", "rmse")] == pytest.approx(np.sqrt(np.mean((pred - true) ** 2)),
                                                                                rel=1e-10)


def test_ranking_is_on_the_sample_level_by_default(replicate_run):
    run = replicate_run
    sample = _scores(run, "sample")
    chains = run.sql(f"SELECT chain_id, n_components, rank, rank_level FROM chains WHERE run_id = '{run.run_id}'"
                     ).to_pylist()
    assert {c["rank_level"] for c in chains} == {"sample"}
    expected = sorted(chains, key=lambda c: (sample[(c["chain_id"], "cv", "val", "rmse")], c["n_components"],
                                             c["chain_id"]))
    assert [c["rank"] for c in expected] == list(range(1, len(chains) + 1))
    top = run.top(1).to_pylist()[0]
    assert top["chain_id"] == expected[0]["chain_id"]
    assert top["rmsecv"] == pytest.approx(sample[(top["chain_id"], "cv", "val", "rmse")])
    assert top["rmsep"] == pytest.approx(sample[(top["chain_id"], "fold_final", "test", "rmse")])
    assert "per sample" in run.provenance.get("ranking").summary
    chain_scores = run.sql(f"SELECT chain_id, cv_rmse FROM v_chain_scores WHERE run_id = '{run.run_id}'").to_pylist()
    spectrum = _scores(run, "spectrum")
    assert all(r["cv_rmse"] == pytest.approx(spectrum[(r["chain_id"], "cv", "val", "rmse")]) for r in chain_scores)


def test_ranking_on_the_spectrum_level_when_asked(tmp_path):
    spec = {**SPEC, "refit": {"level": "spectrum"}}
    run = nirdag.run(spec, _replicated(), workspace=tmp_path / "ws", cache=False)
    spectrum = _scores(run, "spectrum")
    chains = run.sql(f"SELECT chain_id, n_components, rank, rank_level FROM chains WHERE run_id = '{run.run_id}'"
                     ).to_pylist()
    assert {c["rank_level"] for c in chains} == {"spectrum"}
    best = min(chains, key=lambda c: (spectrum[(c["chain_id"], "cv", "val", "rmse")], c["n_components"]))
    assert best["rank"] == 1
    assert _scores(run, "sample")  # the per-sample rows are there too


def test_the_stored_dataset_keeps_its_replicates(replicate_run):
    stored = load_stored_dataset(replicate_run.handle, replicate_run.dataset_hash)
    assert stored.replicate_column == "cup" and stored.content_hash == replicate_run.dataset_hash


def test_the_cli_reports_both_levels_and_warns_on_ungrouped_folds(tmp_path):
    data = _replicated()
    path = tmp_path / "reps.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write("sample_id,cup,partition,fat," + ",".join(f"{w:g}" for w in data.wavelengths) + "\n")
        for i in range(data.n_samples):
            fh.write(f"{data.sample_ids[i]},{data.replicate_groups[i]},{data.partition[i]},{data.target('fat')[i]},"
                     + ",".join(repr(float(v)) for v in data.spectra[i]) + "\n")
    spec = tmp_path / "spec.yaml"
    spec.write_text("target: fat\npipeline:\n  - split: {kind: kfold, n_splits: 4, group_replicates: false}\n"
                    "  - model: {op: pls, n_components: [2, 4]}\n", encoding="utf-8")
    out = subprocess.run([sys.executable, "-m", "nirdag", "run", str(spec), "--data", str(path), "--sample-column",
                          "cup", "--workspace", str(tmp_path / "ws")], capture_output=True, text=True, timeout=300,
                         check=False)
    assert out.returncode == 0, out.stderr
    assert "replicates: 60 samples in column 'cup'" in out.stdout
    assert "warning [replicates_split]" in out.stderr and "group_replicates is false" in out.stderr
    assert "rmsecv_sample" in out.stdout and "rmsecv_spectrum" in out.stdout
    assert "by per-sample RMSECV" in out.stdout


def test_the_component_rule_and_a_re_ranking_read_the_sample_level(tmp_path):
    """one_se reads per-sample RMSECV (its evidence equals the per-sample scores); re-deciding the run from its
    stored per-spectrum predictions gives the recorded (per-sample) ranking."""
    spec = {**SPEC, "refit": {"select": "one_se"}}
    run = nirdag.run(spec, _replicated(), workspace=tmp_path / "ws", cache=False)
    sample = _scores(run, "sample")
    (choice,) = run.provenance.get("refit_selection").evidence["choices"]
    by_count = {c.n_components: c.chain_id for c in run.plan.chains}
    assert choice["rmsecv"] == pytest.approx([sample[(by_count[k], "cv", "val", "rmse")] for k in (2, 4, 6)],
                                             rel=1e-12)
    answer, _ = model_what_if(run.workspace, run.run_id, "refit.select=one_se")
    assert answer.changes == () and list(answer.recorded.ranking) == run.provenance.get("ranking").evidence[
        "chain_ids"]


def test_the_report_states_both_levels(replicate_run):
    html = build_report(replicate_run.workspace, replicate_run.run_id)
    assert "CV (pooled), per spectrum" in html and "CV (pooled), per sample" in html
    assert "test (refit), per sample" in html
