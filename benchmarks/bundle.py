"""Export and predict a PLS chain: `python -m benchmarks.bundle [--new N] [--wavelengths P] [--nirs4all]`.

Goal: well under 1 s. Runs SNV -> PLS 1..15 (5-fold shuffled KFold, seed 0, refit of the best) on seeded synthetic
spectra (600 training rows), exports the best chain, then times in a FRESH process (what a lab user waits for):
imports, bundle verification + skops load, and prediction of N new spectra (median of 3 processes); and, warm in
this process, the median of 5 export / load / predict rounds.

With ``--nirs4all`` the same training rows and new spectra go to nirs4all 1.4.10 through its public API
(``nirs4all.run`` -> ``result.export(path)`` -> ``nirs4all.predict(model=path, data=X)``), run by
``benchmarks/contenders/nirs4all_bundle_runner.py`` in nirs4all's own venv (found or created by
``benchmarks/nirs4all_env.py``; ``--no-install`` skips it when missing). Both tools are printed side by side with
ratios nirs4all/nirdag, and their predictions of the new spectra are compared (same k: to 1e-4 relative to the
spread of the predictions, as nirs4all stores X as float32; different k: reported, not compared).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import nirdag
from nirdag.bundle import read_bundle

SPEC = {
    "name": "bench_bundle", "target": "y", "seed": 0,
    "pipeline": [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "snv"},
                 {"model": {"op": "pls", "n_components": {"_range_": [1, 15]}}}],
    "refit": {"metric": "rmse", "top_k": 1},
}

_COLD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import nirdag
from nirdag.bundle import read_bundle
t1 = time.perf_counter()
loaded = read_bundle(sys.argv[1])
t2 = time.perf_counter()
X = np.load(sys.argv[2])
out = nirdag.predict(loaded, X)
t3 = time.perf_counter()
np.save(sys.argv[3], out.column("y_pred").to_numpy())
print(json.dumps({"import_s": t1 - t0, "verify_load_s": t2 - t1, "predict_s": t3 - t2, "rows": out.num_rows}))
"""
COLD_REPS = 3
TOLERANCE = 1e-4  # max |nirdag - nirs4all| / (max - min of nirdag's predictions), same k


def _median(fn, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _cold_nirdag(bundle: Path, new_npy: Path, out_npy: Path) -> dict:
    """One fresh process: imports, verify + load, predict; plus its wall time measured from outside."""
    env = {**os.environ, "HAMILTON_AUTOLOAD_EXTENSIONS": "0"}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", _COLD, str(bundle), str(new_npy), str(out_npy)],
                          capture_output=True, text=True, check=True, env=env)
    cold = json.loads(done.stdout)
    cold["process_wall_s"] = time.perf_counter() - start
    cold["load_predict_s"] = cold["verify_load_s"] + cold["predict_s"]
    return cold


def _run_nirs4all(root: Path, data, new, components: list[int], install: bool) -> tuple[dict | None, str]:
    """nirs4all's export/predict on the same training rows and new spectra, in its own venv (None if missing)."""
    from benchmarks.nirs4all_env import ensure_nirs4all

    python, note = ensure_nirs4all(install=install)
    if python is None:
        return None, note
    train = data.rows("train")
    npz = root / "n4a_data.npz"
    np.savez(npz, X_train=np.asarray(data.spectra)[train], y_train=np.asarray(data.target("y"))[train],
             X_new=np.asarray(new.spectra))
    task = {"data": str(npz), "seed": SPEC["seed"], "n_splits": 5, "components": components,
            "workdir": str(root / "n4a_work"), "reps": 5, "cold_reps": COLD_REPS}
    (root / "n4a_task.json").write_text(json.dumps(task), encoding="utf-8")
    runner = Path(__file__).resolve().parent / "contenders" / "nirs4all_bundle_runner.py"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    done = subprocess.run([str(python), str(runner), str(root / "n4a_task.json"), str(root / "n4a_result.json")],
                          capture_output=True, text=True, check=False, env=env)
    if done.returncode != 0:
        return None, f"nirs4all runner failed: {done.stderr.strip()[-1500:]}"
    return json.loads((root / "n4a_result.json").read_text()), note


def _row(label: str, ours: float, theirs: float | None, unit: str = "ms") -> str:
    scale = 1000.0 if unit == "ms" else 1.0
    left = f"{ours * scale:10.1f} {unit}"
    if theirs is None:
        return f"  {label:<44}{left}"
    ratio = theirs / ours if ours > 0 else float("nan")
    return f"  {label:<44}{left}  {theirs * scale:10.1f} {unit}  {ratio:7.1f}x"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new", type=int, default=1000, help="new spectra to predict")
    parser.add_argument("--wavelengths", type=int, default=700)
    parser.add_argument("--nirs4all", action="store_true", help="also measure nirs4all 1.4.10 (its own venv)")
    parser.add_argument("--no-install", action="store_true", help="do not create the nirs4all venv if missing")
    args = parser.parse_args()
    n4a, n4a_note = None, ""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = nirdag.datasets.synthetic(750, args.wavelengths, seed=1)
        run = nirdag.run(SPEC, data, workspace=root / "ws", seed=0)
        components = run.best["n_components"]
        new = nirdag.datasets.synthetic(args.new, args.wavelengths, seed=2, test_fraction=0.0)
        np.save(root / "new.npy", np.asarray(new.spectra))
        bundle = root / "model.nirdag"
        start = time.perf_counter()
        run.export(root / "first.nirdag")
        export_first_s = time.perf_counter() - start
        export_s = _median(lambda: run.export(bundle))
        load_s = _median(lambda: read_bundle(bundle))
        loaded = read_bundle(bundle)
        X = np.asarray(new.spectra)
        predict_s = _median(lambda: nirdag.predict(loaded, X))
        api_s = _median(lambda: nirdag.predict(bundle, X))
        colds = [_cold_nirdag(bundle, root / "new.npy", root / f"cold_{i}.npy") for i in range(COLD_REPS)]
        y_ours = np.load(root / "cold_0.npy")
        size = bundle.stat().st_size
        if args.nirs4all:
            n4a, n4a_note = _run_nirs4all(root, data, new, list(range(1, 16)), install=not args.no_install)
    cold = {key: statistics.median(c[key] for c in colds)
            for key in ("import_s", "verify_load_s", "predict_s", "load_predict_s", "process_wall_s")}
    print(f"chain: SNV -> PLS {components} components, {args.wavelengths} wavelengths; "
          f"bundle {size / 1024:.0f} KiB (fold_final + 5 fold models)")
    print(f"warm (median of 5): export {export_s * 1000:.1f} ms, verify+load {load_s * 1000:.1f} ms, "
          f"predict {args.new} spectra {predict_s * 1000:.1f} ms")
    print(f"fresh process (median of {COLD_REPS}): imports {cold['import_s']:.2f} s, verify+load (incl. skops "
          f"import) {cold['verify_load_s']:.2f} s, predict {args.new} spectra {cold['predict_s'] * 1000:.1f} ms; "
          f"load+predict {cold['load_predict_s']:.2f} s; whole process {cold['process_wall_s']:.2f} s")
    if not args.nirs4all:
        return
    if n4a is None:
        print(f"nirs4all: not measured ({n4a_note})")
        return
    print(f"\nnirs4all {n4a['version']}: chain SNV -> PLS {n4a['chosen_k']} components; bundle "
          f"{n4a['bundle_bytes'] / 1024:.0f} KiB ({', '.join(n4a['bundle_members'])}); its run took "
          f"{n4a['run_s']:.1f} s (not compared here)")
    print(f"  {'':<44}{'nirdag':>13}  {'nirs4all':>13}  {'ratio':>8}")
    print(_row("export (warm, median of 5)", export_s, n4a["export_s"]))
    print(_row("export, first call", export_first_s, n4a["export_first_s"]))
    print(_row("warm load + predict (loader)", load_s + predict_s, n4a["warm_loader_load_predict_s"]))
    print(_row("warm predict(path, X) (load + predict)", api_s, n4a["warm_predict_api_s"]))
    print(_row(f"warm predict {args.new} spectra, model loaded", predict_s, n4a["warm_loader_predict_s"]))
    print(_row(f"fresh: imports (median of {COLD_REPS})", cold["import_s"], n4a["cold_import_s"], "s"))
    print(_row("fresh: load + predict", cold["load_predict_s"], n4a["cold_load_predict_s"], "s"))
    print(_row("fresh: imports + load + predict", cold["import_s"] + cold["load_predict_s"],
               n4a["cold_import_s"] + n4a["cold_load_predict_s"], "s"))
    print(_row("fresh: whole process (from outside)", cold["process_wall_s"], n4a["cold_process_wall_s"], "s"))
    print("  loader: nirdag read_bundle(path) then nirdag.predict(loaded, X) (medians added); nirs4all "
          "BundleLoader(path).predict(X), a new loader each time (it loads its artifacts on the first predict).")
    print("  predict(path, X): nirdag.predict(path, X) / nirs4all.predict(model=path, data=X); fresh processes run "
          "the latter after importing the package.")
    y_theirs = np.asarray(n4a["y_pred"], dtype=float)
    diff = float(np.max(np.abs(y_ours - y_theirs)))
    spread = float(np.ptp(y_ours))
    if n4a["chosen_k"] != components:
        print(f"agreement: CV chose different k (nirdag {components}, nirs4all {n4a['chosen_k']}); predictions "
              f"differ by up to {diff:.3g} (spread {spread:.3g}), not compared")
        return
    verdict = "OK" if diff <= TOLERANCE * spread else "MISMATCH"
    print(f"agreement ({verdict}): same k = {components}; max |nirdag - nirs4all| over {y_ours.size} new spectra "
          f"= {diff:.3g} = {diff / spread:.2g} x the prediction spread {spread:.3g} (tolerance {TOLERANCE:g} x "
          f"spread); nirs4all fresh vs warm {n4a['max_abs_cold_vs_warm']:.2g}")
    if verdict != "OK":
        sys.exit(1)


if __name__ == "__main__":
    main()
