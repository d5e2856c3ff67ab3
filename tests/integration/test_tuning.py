"""Tuned runs on Tecator: the same trials twice and on every executor, every trial's CV equal to the same chain run
as a plain spec (and to scipy + scikit-learn), the trials table and the study's provenance, bad bounds refused."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import yaml
from scipy.signal import savgol_filter
from sklearn.cross_decomposition import PLSRegression
from typer.testing import CliRunner

import nirdag
from nirdag.cli import app
from nirs_core.errors import NirdagError
from relspec.errors import CompileError

SPLIT = {"split": {"kind": "kfold", "n_splits": 5}}
SPEC = {
    "target": "fat", "seed": 0, "tune": {"sampler": "tpe", "n_trials": 12, "seed": 3, "batch": 4},
    "pipeline": [
        SPLIT,
        {"op": "savgol", "window_length": {"_tune_": {"low": 5, "high": 21, "step": 2}},
         "deriv": {"_tune_": {"choices": [0, 1, 2]}}},
        {"model": {"op": "pls", "n_components": {"_tune_": {"low": 1, "high": 15}}}},
    ],
}
WINDOW, DERIV, COMPONENTS = "$.pipeline[1].window_length", "$.pipeline[1].deriv", "$.pipeline[2].model.n_components"


def _tuned(**tune) -> dict:
    spec = copy.deepcopy(SPEC)
    spec["tune"].update(tune)
    return spec


def _trials(run) -> list[dict]:
    return run.sql(f"SELECT trial, params_json, value, state, chain_id, batch FROM trials "
                   f"WHERE run_id = '{run.run_id}' ORDER BY trial").to_pylist()


def _rmsecv(run) -> dict[str, float]:
    rows = run.sql(f"SELECT chain_id, value FROM scores WHERE run_id = '{run.run_id}' AND fold_id = 'cv' "
                   "AND partition = 'val' AND metric = 'rmse'").to_pylist()
    return {r["chain_id"]: r["value"] for r in rows}


@pytest.fixture(scope="module")
def study(tmp_path_factory, tecator):
    return nirdag.run(_tuned(), tecator, workspace=tmp_path_factory.mktemp("tune") / "ws")


def test_the_same_seed_gives_the_same_trials_twice(study, tecator, tmp_path):
    again = nirdag.run(_tuned(), tecator, workspace=tmp_path / "ws")
    assert _trials(again) == _trials(study)
    assert again.study == study.study


def test_sync_and_processes_give_the_same_trials_and_best(study, tecator, tmp_path):
    parallel = nirdag.run(_tuned(), tecator, workspace=tmp_path / "ws", executor="processes", workers=2)
    assert parallel.plan.policy.executor == "processes"
    assert _trials(parallel) == _trials(study)
    assert parallel.best["chain_id"] == study.best["chain_id"] == study.study["chain_id"]


def test_the_trials_table_and_the_study_provenance(study):
    trials = _trials(study)
    assert [t["trial"] for t in trials] == list(range(12))
    assert [t["batch"] for t in trials] == [0] * 4 + [1] * 4 + [2] * 4
    assert {t["state"] for t in trials} == {"complete"}
    best = min(trials, key=lambda t: (t["value"], t["trial"]))
    assert study.study["trial"] == best["trial"] and study.study["chain_id"] == best["chain_id"]
    decision = study.provenance.get("tuning")
    assert decision.kind == "tuning"
    assert decision.evidence["sampler"] == "tpe" and decision.evidence["stopped"] == "n_trials"
    assert decision.evidence["best_trial"] == best["trial"] and decision.evidence["n_trials"] == 12
    # every trial's chain is in `chains`, ranked together; the refit chain is the best trial's
    chains = study.sql(f"SELECT chain_id, rank, refit FROM chains WHERE run_id = '{study.run_id}'").to_pylist()
    assert {t["chain_id"] for t in trials} <= {c["chain_id"] for c in chains}
    assert [c["chain_id"] for c in chains if c["refit"]] == [best["chain_id"]]
    assert next(c["rank"] for c in chains if c["chain_id"] == best["chain_id"]) == 1


def test_every_trial_scores_as_the_same_chain_in_a_plain_grid(study, tecator, tmp_path):
    trials = [{**t, "params": json.loads(t["params_json"])} for t in _trials(study)]
    pairs = sorted({(t["params"][WINDOW], t["params"][DERIV]) for t in trials})
    counts = sorted({t["params"][COMPONENTS] for t in trials})
    grid = {"target": "fat", "seed": 0, "pipeline": [
        SPLIT, {"branch": {f"w{w}d{d}": [{"op": "savgol", "window_length": w, "deriv": d}] for w, d in pairs}},
        {"model": {"op": "pls", "n_components": counts}}]}
    plain = nirdag.run(grid, tecator, workspace=tmp_path / "grid")
    rows = plain.sql(f"SELECT c.branch_name, c.n_components, s.value FROM chains c JOIN scores s ON "
                     f"s.run_id = c.run_id AND s.chain_id = c.chain_id WHERE c.run_id = '{plain.run_id}' AND "
                     "s.fold_id = 'cv' AND s.partition = 'val' AND s.metric = 'rmse'").to_pylist()
    by_chain = {(r["branch_name"], r["n_components"]): r["value"] for r in rows}
    tuned = _rmsecv(study)
    for t in trials:
        p = t["params"]
        expected = by_chain[(f"w{p[WINDOW]}d{p[DERIV]}", p[COMPONENTS])]
        assert abs(t["value"] - expected) <= 1e-12, t
        assert abs(tuned[t["chain_id"]] - expected) <= 1e-12, t


def test_the_best_trial_is_the_chain_of_its_plain_spec_and_of_scikit_learn(study, tecator, tmp_path):
    p = study.study["params"]
    spec = {"target": "fat", "seed": 0, "pipeline": [
        SPLIT, {"op": "savgol", "window_length": p[WINDOW], "deriv": p[DERIV]},
        {"model": {"op": "pls", "n_components": p[COMPONENTS]}}]}
    plain = nirdag.run(spec, tecator, workspace=tmp_path / "plain")
    assert plain.best["chain_id"] == study.study["chain_id"]
    assert plain.best["rmsep"] == study.best["rmsep"]
    # an independent reference: scipy's Savitzky-Golay and scikit-learn's PLS on the run's own folds
    X = savgol_filter(tecator.spectra, p[WINDOW], 2, deriv=p[DERIV], axis=1)
    y = tecator.target("fat")
    squared = []
    for fold in study.plan.folds:
        train, val = np.asarray(fold.train_rows), np.asarray(fold.val_rows)
        model = PLSRegression(p[COMPONENTS], scale=False).fit(X[train], y[train])
        squared.append((model.predict(X[val]).ravel() - y[val]) ** 2)
    assert study.study["value"] == pytest.approx(float(np.sqrt(np.mean(np.concatenate(squared)))), abs=1e-9)


def test_grid_tries_every_point_once_and_says_so(tecator, tmp_path):
    spec = _tuned(sampler="grid", n_trials=50)
    spec["pipeline"][1] = {"op": "savgol", "window_length": {"_tune_": {"choices": [5, 9]}}, "deriv": 1}
    spec["pipeline"][2]["model"]["n_components"] = {"_tune_": {"low": 3, "high": 9, "step": 3}}
    run = nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    points = sorted((json.loads(t["params_json"])[WINDOW], json.loads(t["params_json"])[COMPONENTS])
                    for t in _trials(run))
    assert points == [(w, k) for w in (5, 9) for k in (3, 6, 9)]
    assert run.study["stopped"] == "grid_exhausted"


def test_timeout_stops_asking_for_batches(tecator, tmp_path):
    run = nirdag.run(_tuned(timeout=1e-6, batch=2, sampler="random"), tecator, workspace=tmp_path / "ws")
    assert len(_trials(run)) == 2  # the first batch always runs
    assert run.study["stopped"] == "timeout"
    assert run.provenance.get("tuning").evidence["stopped"] == "timeout"


def test_a_pruner_stops_trials_after_some_folds(tecator, tmp_path):
    run = nirdag.run(_tuned(pruner="hyperband", sampler="random", n_trials=16), tecator, workspace=tmp_path / "ws")
    trials = _trials(run)
    pruned = [t for t in trials if t["state"] == "pruned"]
    complete = [t for t in trials if t["state"] == "complete"]
    assert pruned and complete and len(pruned) + len(complete) == 16
    assert run.provenance.get("tuning").evidence["pruner"] == "hyperband"
    assert run.provenance.get("tuning").evidence["pruned"] == len(pruned)
    # a pruned trial's later folds are never fitted, and its chains are not ranked; the complete ones are
    fits = run.sql(f"SELECT count(*) AS n FROM node_metrics WHERE run_id = '{run.run_id}' AND kind = 'fold_fit'")
    assert fits.to_pylist()[0]["n"] < 16 * 5
    scored = _rmsecv(run)
    assert all(t["chain_id"] in scored for t in complete)
    assert not any(t["chain_id"] in scored for t in pruned if t["chain_id"] not in {c["chain_id"] for c in complete})
    best = min(complete, key=lambda t: (t["value"], t["trial"]))
    assert run.study["trial"] == best["trial"] and run.best["chain_id"] == best["chain_id"]
    # Hyperband's brackets hash the study's name: a fixed one, so pruning is the same run after run and executor
    threads = nirdag.run(_tuned(pruner="hyperband", sampler="random", n_trials=16), tecator,
                         workspace=tmp_path / "threads", executor="threads", workers=2)
    assert _trials(threads) == trials


def test_a_bound_the_data_refuses_names_the_marker_and_writes_nothing(tecator, tmp_path):
    spec = _tuned()
    spec["pipeline"][2]["model"]["n_components"] = {"_tune_": {"low": 1, "high": 400}}
    with pytest.raises(CompileError, match=r"the tuned value at `\$\.pipeline\[2\]\.model\.n_components` cannot "
                                           r"be 400"):
        nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws" / "tables" / "runs").exists()


def test_nirdag_run_prints_the_best_trial(tmp_path):
    spec = tmp_path / "tune.yaml"
    spec.write_text(yaml.safe_dump(_tuned(n_trials=4)), encoding="utf-8")
    out = CliRunner().invoke(app, ["run", str(spec), "--workspace", str(tmp_path / "ws"), "--top", "2"])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())  # the console wraps long lines
    assert "best trial" in text and "of 4 (stopped: n_trials)" in text
    assert "$.pipeline[2].model.n_components=" in text


def test_a_trial_the_data_refuses_names_the_trial_and_its_values(tecator, tmp_path):
    spec = _tuned(sampler="grid")
    spec["pipeline"][1] = {"op": "savgol", "window_length": {"_tune_": {"low": 5, "high": 9}}, "deriv": 1}
    spec["pipeline"][2]["model"]["n_components"] = 3  # the bounds are odd, 6 and 8 inside them are not
    with pytest.raises(NirdagError, match=r"trial \d+ \(\{\"\$\.pipeline\[1\]\.window_length\": [68]\}\) cannot run"):
        nirdag.run(spec, tecator, workspace=tmp_path / "ws")
    assert not (tmp_path / "ws" / "tables" / "runs").exists()
