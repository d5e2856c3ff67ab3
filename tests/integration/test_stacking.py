"""Stacking (`merge: predictions`): the meta-model learns from out-of-fold predictions only, at CV and at refit."""

from __future__ import annotations

import copy
import csv
import subprocess
import sys
import zipfile

import jsonschema
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from sklearn.linear_model import LinearRegression

import nirdag
from nirdag.bundle import BundleError, TamperedBundleError, read_bundle
from nirdag.bundle.signing import KEY_ENV
from relspec import CompileError, SpecError
from relspec.json_schema import spec_json_schema

BASES = {
    "snv": [{"op": "snv"}, {"model": {"op": "pls", "n_components": 9}}],
    "msc": [{"op": "msc"}, {"model": {"op": "pls", "n_components": 7}}],
    "sg": [{"op": "savgol", "window_length": 15, "deriv": 1}, {"model": {"op": "pls", "n_components": 8}}],
}
SPEC = {"target": "fat", "seed": 1, "refit": {"top_k": 2}, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"branch": BASES},
    {"merge": "predictions"},
    {"model": {"op": "sklearn", "estimator": "sklearn.linear_model.LinearRegression"}}]}


@pytest.fixture(scope="module")
def run(tecator, tmp_path_factory):
    return nirdag.run(SPEC, tecator, workspace=tmp_path_factory.mktemp("stack") / "ws")


def _preds(run, chain_id: str, fold_id: str, partition: str) -> dict[str, float]:
    rows = run.sql(f"SELECT sample_id, y_pred FROM predictions WHERE chain_id = '{chain_id}' AND fold_id = "
                   f"'{fold_id}' AND partition = '{partition}'").to_pylist()
    return {r["sample_id"]: r["y_pred"] for r in rows}


def _chains(run) -> tuple[list[str], str]:
    rows = run.sql("SELECT chain_id, branch_name FROM chains").to_pylist()
    by_name = {r["branch_name"]: r["chain_id"] for r in rows}
    return [by_name[n] for n in BASES], by_name["stack"]


def test_the_stack_is_ranked_and_scored_like_any_chain(run):
    names = {r["branch_name"] for r in run.top(10).to_pylist()}
    assert names == {"snv", "msc", "sg", "stack"}
    (stack,) = [p for p in run.plan.stacks]
    assert len(stack.base_chains) == 3


def test_meta_model_is_trained_on_out_of_fold_predictions_only(run, tecator):
    """Rebuild each fold's meta-model from the stored out-of-fold base predictions: the same numbers, to 1e-9.

    Had any in-fold (training) prediction of a base model reached the meta-model, these would differ.
    """
    bases, stack = _chains(run)
    y = dict(zip(tecator.sample_ids.tolist(), tecator.target("fat").tolist(), strict=True))
    oof = [{} for _ in bases]
    for fold in run.plan.folds:
        for b, chain in enumerate(bases):
            oof[b].update(_preds(run, chain, fold.fold_id, "val"))
    for fold in run.plan.folds:
        val = _preds(run, stack, fold.fold_id, "val")
        train_ids = [s for s in oof[0] if s not in val]
        X = np.array([[oof[b][s] for b in range(len(bases))] for s in train_ids])
        meta = LinearRegression().fit(X, [y[s] for s in train_ids])
        expected = meta.predict(np.array([[oof[b][s] for b in range(len(bases))] for s in val]))
        assert np.allclose(list(val.values()), expected, rtol=0, atol=1e-9)
        tests = [_preds(run, chain, fold.fold_id, "test") for chain in bases]
        stack_test = _preds(run, stack, fold.fold_id, "test")
        expected_test = meta.predict(np.array([[t[s] for t in tests] for s in stack_test]))
        assert np.allclose(list(stack_test.values()), expected_test, rtol=0, atol=1e-9)


def test_refit_uses_all_out_of_fold_predictions_and_the_refit_base_models(run, tecator):
    bases, stack = _chains(run)
    refit = {r["chain_id"] for r in run.sql("SELECT chain_id FROM chains WHERE refit").to_pylist()}
    assert stack in refit and set(bases) <= refit  # refitting the stack refits its base chains
    y = dict(zip(tecator.sample_ids.tolist(), tecator.target("fat").tolist(), strict=True))
    oof = [{} for _ in bases]
    for fold in run.plan.folds:
        for b, chain in enumerate(bases):
            oof[b].update(_preds(run, chain, fold.fold_id, "val"))
    ids = list(oof[0])
    meta = LinearRegression().fit(np.array([[o[s] for o in oof] for s in ids]), [y[s] for s in ids])
    base_test = [_preds(run, chain, "fold_final", "test") for chain in bases]
    stack_test = _preds(run, stack, "fold_final", "test")
    expected = meta.predict(np.array([[t[s] for t in base_test] for s in stack_test]))
    assert np.allclose(list(stack_test.values()), expected, rtol=0, atol=1e-9)
    # the control: a meta-model fitted on the base models' in-sample (fold_final train) predictions differs
    in_sample = [_preds(run, chain, "fold_final", "train") for chain in bases]
    leaky = LinearRegression().fit(np.array([[t[s] for t in in_sample] for s in ids]), [y[s] for s in ids])
    assert not np.allclose(leaky.coef_, meta.coef_, atol=1e-6)


def test_meta_model_artifact_depends_on_its_base_models_in_order(run):
    bases, stack = _chains(run)
    (meta,) = run.sql(f"SELECT artifact_type, depends_on FROM artifacts WHERE chain_id = '{stack}'").to_pylist()
    assert meta["artifact_type"] == "meta_model" and len(meta["depends_on"]) == 3
    models = run.sql("SELECT chain_id, artifact_id FROM artifacts WHERE artifact_type = 'model' AND fold_id = "
                     "'fold_final'").to_pylist()
    by_chain = {r["chain_id"]: r["artifact_id"] for r in models}
    assert meta["depends_on"] == [by_chain[c] for c in bases]


@pytest.fixture(scope="module")
def stack_bundle(run, tmp_path_factory):
    _, stack = _chains(run)
    return run.export(tmp_path_factory.mktemp("stack_bundle") / "stack.nirdag", chain=stack)


def _y_pred(table) -> dict[str, float]:
    return dict(zip(table.column("sample_id").to_pylist(), table.column("y_pred").to_pylist(), strict=True))


def _close(got: dict[str, float], expected: dict[str, float]) -> bool:
    return set(got) == set(expected) and max(abs(got[s] - expected[s]) for s in expected) <= 1e-12


def test_a_stacked_bundle_holds_its_base_chains_in_column_order_and_the_meta_model(run, stack_bundle):
    bases, stack = _chains(run)
    m = read_bundle(stack_bundle).manifest
    assert m.chain.chain_id == stack and m.chain.branch_name == "stack"
    assert [s.role for s in m.chain.steps] == ["meta_model"] and m.chain.steps[0].op == "sklearn:LinearRegression"
    assert [b.chain.chain_id for b in m.base_chains] == list(run.plan.stacks[0].base_chains) == bases
    assert [b.chain.branch_name for b in m.base_chains] == list(BASES)
    assert all(b.fold.fold_id == "fold_final" and b.chain.steps[-1].role == "model" for b in m.base_chains)
    assert [f.fold_id for f in m.folds] == ["fold_final"] and m.folds[0].steps == ()
    referenced = {m.folds[0].model} | {n for b in m.base_chains for n in (*b.fold.steps, b.fold.model)}
    assert referenced == set(m.members)


def test_predicting_with_a_stacked_bundle_equals_the_runs_refit_predictions(run, stack_bundle, tecator):
    _, stack = _chains(run)
    test = tecator.select("test", copy=True)
    expected = _preds(run, stack, "fold_final", "test")
    assert _close(_y_pred(nirdag.predict(stack_bundle, test)), expected)
    replayed = nirdag.replay(run.workspace, run.run_id, test, chain=stack[:10])
    assert _close(_y_pred(replayed), expected)
    assert replayed.equals(nirdag.predict(stack_bundle, test))


def test_a_stack_has_no_fold_mean(run, stack_bundle, tecator):
    _, stack = _chains(run)
    test = tecator.select("test", copy=True)
    with pytest.raises(BundleError, match=r"stacked chain.*only its fold_final meta-model"):
        nirdag.predict(stack_bundle, test, fold_mean=True)
    with pytest.raises(BundleError, match=r"stacked chain.*only its fold_final meta-model"):
        nirdag.replay(run.workspace, run.run_id, test, chain=stack, fold_mean=True)


def test_a_tampered_base_member_of_a_stacked_bundle_is_refused(run, stack_bundle, tmp_path):
    m = read_bundle(stack_bundle).manifest
    with zipfile.ZipFile(stack_bundle) as zf:
        content = {n: zf.read(n) for n in zf.namelist()}
    for name in (m.base_chains[1].fold.model, *m.base_chains[2].fold.steps, m.folds[0].model):
        flipped = bytearray(content[name])
        flipped[len(flipped) // 2] ^= 0x01
        bad = tmp_path / "bad.nirdag"
        with zipfile.ZipFile(bad, "w") as zf:
            for n, data in {**content, name: bytes(flipped)}.items():
                zf.writestr(n, data)
        with pytest.raises(TamperedBundleError, match=name):
            read_bundle(bad)


def test_a_signed_stacked_bundle_verifies_only_with_its_key(run, tmp_path, monkeypatch):
    monkeypatch.delenv(KEY_ENV, raising=False)
    _, stack = _chains(run)
    path = run.export(tmp_path / "signed.nirdag", chain=stack, key="k" * 32)
    assert read_bundle(path, key="k" * 32).signature_verified
    with pytest.raises(TamperedBundleError):
        read_bundle(path, key="x" * 32)


def test_cli_exports_a_stack_by_id_prefix_and_predicts_with_it(run, tecator, tmp_path):
    _, stack = _chains(run)
    test = tecator.select("test", copy=True)
    spectra = {"id": pa.array(test.sample_ids)}
    spectra.update({repr(float(w)): pa.array(col) for w, col in zip(test.wavelengths, test.spectra.T, strict=True)})
    pacsv.write_csv(pa.table(spectra), tmp_path / "new.csv")

    def cli(*args):
        return subprocess.run([sys.executable, "-m", "nirdag", *args], capture_output=True, text=True, timeout=300,
                              check=False, cwd=tmp_path)

    out = cli("export", "--run", run.run_id, "-w", str(run.workspace), "--chain", stack[:8], "-o", "stack.nirdag")
    assert out.returncode == 0, out.stderr
    out = cli("predict", "stack.nirdag", "new.csv", "--id-column", "id", "-o", "pred.csv")
    assert out.returncode == 0, out.stderr
    with (tmp_path / "pred.csv").open() as fh:
        got = {r["sample_id"]: float(r["y_pred"]) for r in csv.DictReader(fh)}
    assert _close(got, _preds(run, stack, "fold_final", "test"))
    out = cli("predict", "stack.nirdag", "new.csv", "--id-column", "id", "--fold-mean")
    assert out.returncode != 0 and "fold_final meta-model" in out.stderr


def test_the_json_schema_accepts_a_stacking_spec():
    jsonschema.validate(SPEC, spec_json_schema())


def _with(pipeline_edit) -> dict:
    spec = copy.deepcopy(SPEC)
    pipeline_edit(spec["pipeline"])
    return spec


@pytest.mark.parametrize("edit, error, message", [
    (lambda p: p.pop(1), SpecError, r"`merge` without branches - at `\$\.pipeline\[1\]`"),
    (lambda p: p[1]["branch"]["snv"].pop(), SpecError, r"ends with exactly one model; path 'snv'"),
    (lambda p: p[1]["branch"]["snv"][1]["model"].update(n_components=[3, 9]), SpecError, r"one n_components"),
    (lambda p: p.pop(2), SpecError, r"a model inside a branch must end an alternative that feeds `merge"),
    (lambda p: p.insert(3, {"op": "snv"}), SpecError, r"only the meta-model may follow"),
    (lambda p: p[3].update(model={"op": "pls", "n_components": 4}), CompileError, r"exceed its 3 inputs"),
    (lambda p: p[1].update(branch={"snv": BASES["snv"]}), SpecError, r"at least two base chains"),
])
def test_bad_stacking_specs_name_the_problem(tecator, tmp_path, edit, error, message):
    with pytest.raises(error, match=message):
        nirdag.run(_with(edit), tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws").exists()
