#!/usr/bin/env python
"""Benchmark contender: nirs4all's export and predict of a PLS chain (its public API only).

Usage (with the python of the venv where nirs4all is installed, never the project's own environment)::

    ~/.cache/nirdag-bench/nirs4all-1.4.10/bin/python benchmarks/contenders/nirs4all_bundle_runner.py TASK RESULT

TASK keys: ``data`` (npz with X_train, y_train, X_new), ``seed``, ``n_splits``, ``components`` (list of PLS
n_components, a contiguous range), ``workdir`` (scratch dir outside the project for anything nirs4all writes);
optional ``reps`` (warm repetitions, default 5) and ``cold_reps`` (fresh processes, default 3).

What is run, the way a nirs4all user writes it (the same as ``benchmarks/bundle.py`` does with nirdag)::

    result = nirs4all.run([SNV(), KFold(n_splits, shuffle=True, random_state=seed),
                           {"_range_": [k_min, k_max], "param": "n_components",
                            "model": PLSRegression(scale=False)}],
                          (X_train, y_train), refit=True, save_artifacts=False, ...)
    result.export("model.n4a")                               # documented: the refit best chain as a .n4a bundle
    nirs4all.predict(model="model.n4a", data=X_new).y_pred   # documented: prediction from the bundle

Timed: (a) ``result.export`` (the first call also writes the run's captured native results to a temporary dir,
which later calls reuse: both are reported); (b) in a FRESH process, ``import nirs4all`` and then
``nirs4all.predict(model=path, data=X_new)`` (bundle load + prediction, in one public call) -- median of
``cold_reps`` processes, with the wall time of the whole process measured from outside too; (c) warm, in this
process, the median of ``reps`` calls of ``nirs4all.predict(model=path, data=X_new)``, of
``nirs4all.pipeline.BundleLoader(path).predict(X_new)`` (a new loader each time: it reads the manifest on
construction and loads the joblib artifacts lazily on its first predict), and of ``loader.predict(X_new)`` on a
loader that has already predicted once (artifacts cached). The training run itself is not compared
(its time is reported for information).
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
import traceback
import zipfile
from pathlib import Path

import numpy as np

sys.dont_write_bytecode = True  # no __pycache__ inside the project tree
sys.path.insert(0, str(Path(__file__).resolve().parent))
import nirs4all_runner as base  # noqa: E402  (same directory: workdir handling and nirs4all's chain naming)

_COLD = """
import json, sys, time
t0 = time.perf_counter()
import numpy as np
import nirs4all
t1 = time.perf_counter()
X = np.load(sys.argv[2])
res = nirs4all.predict(model=sys.argv[1], data=X)
y = np.asarray(res.y_pred, dtype=float).ravel()
t2 = time.perf_counter()
np.save(sys.argv[3], y)
print(json.dumps({"import_s": t1 - t0, "load_predict_s": t2 - t1, "rows": int(y.size)}))
"""


def _median_time(fn, reps: int) -> tuple[float, object]:
    times, out = [], None
    for _ in range(reps):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main(task_path: str, result_path: str) -> int:
    task = json.loads(Path(task_path).read_text())
    missing = [k for k in ("data", "seed", "n_splits", "components", "workdir") if k not in task]
    if missing:
        raise base.RunnerError(f"task {task_path} is missing keys: {missing}")
    data_file = str(Path(task["data"]).resolve())
    wd = base.prepare_workdir(task["workdir"])
    reps, cold_reps = int(task.get("reps", 5)), int(task.get("cold_reps", 3))
    seed, n_splits = int(task["seed"]), int(task["n_splits"])
    comps = [int(k) for k in task["components"]]
    if comps != list(range(comps[0], comps[-1] + 1)):
        raise base.RunnerError(f"components must be a contiguous range, got {comps}")

    import nirs4all
    from nirs4all.operators.transforms import SNV
    from nirs4all.pipeline import BundleLoader
    from sklearn.cross_decomposition import PLSRegression
    from sklearn.model_selection import KFold

    data = np.load(data_file)
    X_train = np.asarray(data["X_train"], dtype=float)
    y_train = np.asarray(data["y_train"], dtype=float).ravel()
    X_new = np.asarray(data["X_new"], dtype=float)
    new_file = wd / "new.npy"
    np.save(new_file, X_new)

    pipeline = [SNV(), KFold(n_splits=n_splits, shuffle=True, random_state=seed),
                {"_range_": [comps[0], comps[-1]], "param": "n_components", "model": PLSRegression(scale=False)}]
    expected = base.chain_table(pipeline)  # config_name -> k, from nirs4all's public PipelineConfigs

    t0 = time.perf_counter()
    result = nirs4all.run(pipeline, (X_train, y_train), name=base.RUN_NAME, verbose=0, save_artifacts=False,
                          save_charts=False, plots_visible=False, random_state=seed, refit=True)
    run_s = time.perf_counter() - t0
    cv_cfg = str(result.cv_best.get("config_name", ""))
    if cv_cfg not in expected:
        raise base.RunnerError(f"cannot map nirs4all's CV winner config_name {cv_cfg!r}")
    chosen_k = expected[cv_cfg]["k"]
    final_cfg = str(result.final.get("config_name", "")) if result.final else ""
    if final_cfg not in (cv_cfg, f"{cv_cfg}_refit"):
        raise base.RunnerError(f"refit entry {final_cfg!r} is not the CV winner {cv_cfg!r}")

    # (a) export: the first call, then further calls to fresh paths.
    bundle = wd / "model.n4a"
    t0 = time.perf_counter()
    exported = Path(result.export(bundle))
    export_first_s = time.perf_counter() - t0
    counter = iter(range(10**6))
    export_s, _ = _median_time(lambda: result.export(wd / f"again_{next(counter)}.n4a"), reps)
    result.close()
    size = exported.stat().st_size
    with zipfile.ZipFile(exported) as zf:
        members = sorted(zf.namelist())

    # (b) fresh processes: imports + nirs4all.predict(model=path, data=X_new).
    colds = []
    for i in range(cold_reps):
        out_npy = wd / f"cold_{i}.npy"
        start = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _COLD, str(exported), str(new_file), str(out_npy)],
                              capture_output=True, text=True, check=False, env=dict(os.environ))
        wall = time.perf_counter() - start
        if done.returncode != 0:
            raise base.RunnerError(f"fresh-process predict failed: {done.stderr.strip()[-2000:]}")
        cold = json.loads(done.stdout.strip().splitlines()[-1])
        cold["process_wall_s"] = wall
        colds.append(cold)
    y_cold = np.load(wd / "cold_0.npy")

    # (c) warm, in this process.
    predict_api_s, res = _median_time(lambda: nirs4all.predict(model=str(exported), data=X_new), reps)
    y_warm = np.asarray(res.y_pred, dtype=float).ravel()
    # BundleLoader(path) reads the manifest only; its first predict loads (and caches) the joblib artifacts.
    loader_load_predict_s, _ = _median_time(lambda: BundleLoader(exported).predict(X_new), reps)
    loader = BundleLoader(exported)
    loader.predict(X_new)
    loader_predict_s, y_loader = _median_time(lambda: loader.predict(X_new), reps)
    y_loader = np.asarray(y_loader, dtype=float).ravel()
    if not (y_cold.size == y_warm.size == y_loader.size == X_new.shape[0]):
        raise base.RunnerError("prediction sizes differ from the number of new spectra")

    out = {
        "contender": "nirs4all",
        "version": nirs4all.__version__,
        "chosen_k": chosen_k,
        "cv_config_name": cv_cfg,
        "run_s": run_s,
        "export_first_s": export_first_s,
        "export_s": export_s,
        "bundle_bytes": size,
        "bundle_members": members,
        "cold": colds,
        "cold_import_s": statistics.median(c["import_s"] for c in colds),
        "cold_load_predict_s": statistics.median(c["load_predict_s"] for c in colds),
        "cold_process_wall_s": statistics.median(c["process_wall_s"] for c in colds),
        "warm_predict_api_s": predict_api_s,
        "warm_loader_load_predict_s": loader_load_predict_s,
        "warm_loader_predict_s": loader_predict_s,
        "reps": reps,
        "cold_reps": cold_reps,
        "max_abs_cold_vs_warm": float(np.max(np.abs(y_cold - y_warm))),
        "max_abs_loader_vs_warm": float(np.max(np.abs(y_loader - y_warm))),
        "y_pred": y_warm.tolist(),
    }
    Path(result_path).parent.mkdir(parents=True, exist_ok=True)
    Path(result_path).write_text(json.dumps(out), encoding="utf-8")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        base.fail("usage: nirs4all_bundle_runner.py TASK_JSON RESULT_JSON", code=2)
    try:
        sys.exit(main(str(Path(sys.argv[1]).resolve()), str(Path(sys.argv[2]).resolve())))
    except SystemExit:
        raise
    except base.RunnerError as exc:
        base.fail(str(exc))
    except Exception as exc:  # report anything nirs4all raises, then exit non-zero
        traceback.print_exc()
        base.fail(f"{type(exc).__name__}: {exc}")
