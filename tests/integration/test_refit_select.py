"""refit.select: the number of components of the refit chain chosen by the minimum, the 1-SE rule, Wold's R or van
der Voet's randomization test, each re-derived here from the run's stored out-of-fold predictions."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nirdag
from relspec.errors import CompileError
from relspec.provenance import why_not_refit

COUNTS = list(range(1, 16))


def spec(select: str, counts=COUNTS, **refit) -> dict:
    return {"name": "select", "target": "fat", "seed": 0, "refit": {"select": select, **refit}, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
        {"model": {"op": "pls", "n_components": counts}}]}


@pytest.fixture(scope="module")
def runs(tecator, tmp_path_factory):
    ws = tmp_path_factory.mktemp("select") / "ws"
    return {rule: nirdag.run(spec(rule), tecator, workspace=ws, seed=0)
            for rule in ("min", "one_se", "wold_r", "randomization")}


def residuals(run, tecator) -> tuple[dict[int, np.ndarray], dict[int, list[float]]]:
    """Squared out-of-fold residuals per count (in sample order) and the per-fold RMSE, from the stored rows."""
    rows = run.sql(f"SELECT c.n_components AS k, p.fold_id, p.sample_id, p.y_true, p.y_pred FROM predictions p "
                   f"JOIN chains c ON c.run_id = p.run_id AND c.chain_id = p.chain_id WHERE p.run_id = "
                   f"'{run.run_id}' AND p.partition = 'val' ORDER BY k, p.sample_id").to_pylist()
    squared: dict[int, list[float]] = {}
    folds: dict[int, dict[str, list[float]]] = {}
    for r in rows:
        e = (r["y_pred"] - r["y_true"]) ** 2
        squared.setdefault(r["k"], []).append(e)
        folds.setdefault(r["k"], {}).setdefault(r["fold_id"], []).append(e)
    per_fold = {k: [float(np.sqrt(np.mean(v))) for _, v in sorted(f.items())] for k, f in folds.items()}
    return {k: np.array(v) for k, v in squared.items()}, per_fold


def refit_count(run) -> int:
    (k,) = run.sql(f"SELECT n_components FROM chains WHERE run_id = '{run.run_id}' AND refit").column(
        "n_components").to_pylist()
    return k


def test_min_refits_the_lowest_rmsecv_and_the_rules_choose_fewer_components(runs, tecator):
    squared, _ = residuals(runs["min"], tecator)
    lowest = min(COUNTS, key=lambda k: (np.sqrt(squared[k].mean()), k))
    assert refit_count(runs["min"]) == lowest == runs["min"].best["n_components"]
    for rule in ("one_se", "wold_r", "randomization"):
        k = refit_count(runs[rule])
        assert 1 <= k <= lowest and runs[rule].best["n_components"] == k
        assert runs[rule].best["rmsecv"] >= runs["min"].best["rmsecv"]


def test_one_se_is_the_fewest_components_within_one_standard_error_across_folds(runs, tecator):
    squared, per_fold = residuals(runs["one_se"], tecator)
    rmsecv = {k: np.sqrt(squared[k].mean()) for k in COUNTS}
    best = min(COUNTS, key=lambda k: (rmsecv[k], k))
    se = np.std(per_fold[best], ddof=1) / np.sqrt(len(per_fold[best]))
    assert refit_count(runs["one_se"]) == min(k for k in COUNTS if rmsecv[k] <= rmsecv[best] + se)


def test_wold_r_stops_where_one_more_component_lowers_press_by_less_than_five_percent(runs, tecator):
    squared, _ = residuals(runs["wold_r"], tecator)
    press = [squared[k].sum() for k in COUNTS]
    expected = next((COUNTS[i] for i in range(len(COUNTS) - 1) if press[i + 1] / press[i] > 0.95), COUNTS[-1])
    assert refit_count(runs["wold_r"]) == expected


def test_randomization_test_p_values_follow_from_sign_flips_of_the_residual_differences(runs, tecator):
    squared, _ = residuals(runs["randomization"], tecator)
    choice = runs["randomization"].provenance.get("refit_selection").evidence["choices"][0]
    best = choice["minimum_at"]
    assert best == min(COUNTS, key=lambda k: (squared[k].mean(), k))
    for k, p in zip(COUNTS, choice["p_values"], strict=True):
        if p is None:
            continue
        d = squared[k] - squared[best]
        assert 1 / 1000 <= p <= 1.0
        # a count whose residuals are worse on (almost) every sample has p at the floor; a tie would be ~0.5
        if (d > 0).mean() > 0.9:
            assert p < 0.05
    k = refit_count(runs["randomization"])
    assert k == best or choice["p_values"][COUNTS.index(k)] > 0.05
    assert all(p is not None and p <= 0.05 for p in choice["p_values"][:COUNTS.index(k)])


def test_the_choice_is_recorded_and_explained(runs):
    run = runs["one_se"]
    evidence = run.provenance.get("refit_selection").evidence
    assert evidence["select"] == "one_se" and evidence["choices"][0]["rule"] == "one_se"
    chosen, replaced = evidence["choices"][0]["chain_id"], evidence["choices"][0]["replaces"]
    assert chosen != replaced
    assert "one_se chose" in why_not_refit(run.provenance, chosen[:8])
    assert "was not refit although it ranks 1" in why_not_refit(run.provenance, replaced[:8])
    assert run.export(run.workspace.parent / "m.nirdag").exists()  # export --chain best: the chosen chain


def test_a_count_at_the_top_of_its_range_is_a_warning(tecator, tmp_path, example_spec):
    few = spec("min", counts=[1, 2, 3])
    run = nirdag.run(few, tecator, workspace=tmp_path / "ws", seed=0)
    (choice,) = run.provenance.get("refit_selection").evidence["choices"]
    assert choice["n_components"] == 3 and choice["at_edge"] and choice["range"] == [1, 3]
    path = tmp_path / "few.yaml"
    path.write_text(__import__("yaml").safe_dump(few), encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "nirdag", "run", str(path), "-w", str(tmp_path / "cli")],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "warning: refit chain" in done.stderr and "the top of its range 1..3" in done.stderr
    quiet = subprocess.run([sys.executable, "-m", "nirdag", "run", str(path), "-w", str(tmp_path / "cli2"),
                            "--quiet"], capture_output=True, text=True, check=False)
    assert "warning" not in quiet.stderr


def test_a_rule_needs_one_numeric_target(tecator, labelled):
    multi = {**spec("one_se"), "target": ["fat", "protein"]}
    with pytest.raises(CompileError, match=r"refit select 'one_se'.*several targets.*\$\.refit\.select"):
        nirdag.compile(multi, tecator, seed=0)
    classes = {**spec("wold_r"), "target": "grade", "pipeline": [
        spec("wold_r")["pipeline"][0], {"model": {"op": "plsda", "n_components": [1, 2, 3]}}]}
    with pytest.raises(CompileError, match="class labels"):
        nirdag.compile(classes, labelled, seed=0)


def test_bad_rule_parameters_name_their_spec_path(tecator):
    for refit, where in (({"select": "aic"}, "select"), ({"r_threshold": 1.5}, "r_threshold"),
                         ({"alpha": 0}, "alpha"), ({"permutations": 5}, "permutations")):
        with pytest.raises(nirdag.api.SpecError, match=rf"\$\.refit\.{where}"):
            nirdag.compile({**spec("min"), "refit": refit}, tecator, seed=0)
