"""Which chains carry an applicability domain, from real runs: a PLS-DA classifier does; a stacked chain, a model
without latent structure and a run made before domains were stored do not, and predict says why."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import nirdag
from nirdag.bundle import domain_report, read_bundle

DOMAIN_COLUMNS = ["t2", "q", "t2_ratio", "q_ratio", "domain"]
MODELS = {
    "pls": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 6}}],
    "ridge": [{"op": "snv"}, {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.Ridge",
                                        "params": {"alpha": 0.001}}}],
}
STACK = {"target": "fat", "seed": 0, "refit": {"top_k": 3}, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}},
    {"branch": MODELS},
    {"merge": "predictions"},
    {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LinearRegression"}}]}
PLSDA = {"target": "grade", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 3, "shuffle": True}}, {"op": "snv"},
    {"model": {"op": "plsda", "n_components": [3, 6]}}]}


def _unjudged(table: pa.Table) -> bool:
    return all(table.column(c).null_count == table.num_rows for c in DOMAIN_COLUMNS)


@pytest.fixture(scope="module")
def stack_run(tecator_ds, tmp_path_factory):
    return nirdag.run(STACK, tecator_ds, workspace=tmp_path_factory.mktemp("stack") / "ws")


def _chain_of(run, branch: str) -> str:
    return run.sql(f"SELECT chain_id FROM chains WHERE run_id = '{run.run_id}' AND branch_name = '{branch}' AND refit"
                   ).column("chain_id").to_pylist()[0]


def test_a_plsda_bundle_judges_its_spectra_as_the_run_did(labelled, tmp_path):
    run = nirdag.run(PLSDA, labelled, workspace=tmp_path / "ws")
    chain_id = run.best["chain_id"]
    bundle = read_bundle(run.export(tmp_path / "plsda.nirdag"))
    assert bundle.manifest.task == "classification" and bundle.manifest.domain is not None
    test = labelled.select("test", copy=True)
    out = nirdag.predict(bundle, test)
    assert set(out.column("y_pred").to_pylist()) <= {"high", "low", "mid"}
    assert out.column("domain").null_count == 0 and out.column("t2").null_count == 0
    stored = run.sql(f"SELECT sample_id, domain FROM sample_diagnostics WHERE run_id = '{run.run_id}' AND chain_id = "
                     f"'{chain_id}' AND partition = 'test'").to_pylist()
    verdict = {r["sample_id"]: r["domain"] for r in stored}
    assert out.column("domain").to_pylist() == [verdict[s] for s in out.column("sample_id").to_pylist()]


def test_a_stacked_chain_carries_no_domain_and_says_why(stack_run, tecator_ds, tmp_path):
    bundle = read_bundle(stack_run.export(tmp_path / "stack.nirdag", chain=_chain_of(stack_run, "stack")))
    assert bundle.manifest.base_chains and bundle.manifest.domain is None
    out = nirdag.predict(bundle, tecator_ds.select("test", copy=True))
    assert _unjudged(out) and "a stacked chain" in domain_report(out).absent


def test_a_model_without_latent_structure_carries_no_domain_and_says_why(stack_run, tecator_ds, tmp_path):
    ridge = _chain_of(stack_run, "ridge")
    assert stack_run.sql(f"SELECT count(*) AS n FROM domains WHERE chain_id = '{ridge}'").column("n")[0].as_py() == 0
    path = stack_run.export(tmp_path / "ridge.nirdag", chain=ridge)
    assert read_bundle(path).manifest.domain is None
    test = tecator_ds.select("test", copy=True)
    out = nirdag.predict(path, test)
    assert _unjudged(out) and "(Ridge) is not a latent-variable model" in domain_report(out).absent
    columns = {"id": pa.array(test.sample_ids)}
    columns.update({repr(float(w)): pa.array(c) for w, c in zip(test.wavelengths, test.spectra.T, strict=True)})
    pacsv.write_csv(pa.table(columns), tmp_path / "new.csv")
    done = subprocess.run([sys.executable, "-m", "nirdag", "predict", str(path), "new.csv", "--id-column", "id"],
                          capture_output=True, text=True, timeout=300, check=False, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "domain: not judged: the model carries no applicability domain (its model (Ridge) is not a " \
        "latent-variable model" in done.stderr


def test_replay_of_a_run_made_before_domains_were_stored_says_so(tecator_ds, tmp_path):
    spec = {"target": "fat", "seed": 0, "pipeline": [{"split": {"kind": "kfold", "n_splits": 3}}, *MODELS["pls"]]}
    run = nirdag.run(spec, tecator_ds, workspace=tmp_path / "ws")
    shutil.rmtree(tmp_path / "ws" / "tables" / "domains")  # the workspace as an older nirdag left it
    test = tecator_ds.select("test", copy=True)
    out = nirdag.replay(tmp_path / "ws", run.run_id, test)
    assert _unjudged(out) and f"run {run.run_id} stored no applicability domain" in domain_report(out).absent
    path = nirdag.export(tmp_path / "ws", run.run_id, tmp_path / "old.nirdag")
    assert read_bundle(path).manifest.domain is None
    assert out.column("y_pred").equals(nirdag.predict(path, test).column("y_pred"))
