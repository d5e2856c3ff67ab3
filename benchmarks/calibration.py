"""The "Done when" figures of issue 23 (policy calibration): `python -m benchmarks.calibration [--runs 3]`.

1. **Apply against observe.** Two workloads, each in two fresh workspaces (``calibration="observe"`` and
   ``"apply"``), ``--runs`` runs each with ``reuse=False`` and the asked ``--executor processes --workers 2``:
   ``tecator_grid`` (the example grid, 4 preprocessings x PLS 1..15, 5-fold CV) and ``synthetic`` (seeded
   2,000 x 1,000 spectra, SNV and MSC x PLS 1..11, 5-fold CV). Printed per run: the executor and views' partitions
   used, engine, wall and view seconds, the knobs apply changed; per workload the medians of the runs after the
   first two (apply acts from the third) and the observe runs' spread (median absolute deviation).
2. **Changed-parameter re-run.** After its runs, each Tecator workspace runs the grid with PLS 1..12: its wall and
   engine seconds against the workspace's first run (the goal: apply >= 2x faster than its first run).
3. **What-if against --verify.** On each Tecator workspace, its last run of the grid itself (sync in apply,
   processes in observe; not the changed-parameter run, whose new fold fits the verifying run would find in the
   cache), what ``nirdag calibration what-if RUN --set ... --verify`` does, in this process, for
   ``executor=processes,workers=2``, ``executor=sync`` and ``cache=off``: the estimate, the measured engine
   seconds and the relative error (the goal: within 30 %).
4. **What calibrating costs a run** (``--overhead``, alone): the Tecator grid with ``--executor sync``, ``--runs``
   runs each with ``calibration="off"``, ``"observe"`` and ``"apply"`` in one workspace (cache warm,
   ``reuse=False``): median wall seconds of the off and observe runs (observe never measures the views), of the
   apply runs that measured their views (the first 3 of a class at one session setting) and of those that did
   not, and the views' seconds.

Runs go into a temporary folder; nothing is written into the repository. A few minutes on 2 cores.
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml

import nirdag
from datafusion_engine import Workspace
from nirdag.cli_calibration import verify_estimate
from nirdag.run_calibration import what_if
from nirs_core.data.synthetic import synthetic

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tecator_pls.yaml"
SYNTHETIC = {"name": "synthetic", "target": "y", "seed": 0, "pipeline": [
    {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
    {"branch": {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}]}},
    {"model": {"op": "pls", "n_components": {"_range_": [1, 11]}}}]}


def _one(spec, dataset, ws, mode, executor, workers) -> dict:
    start = time.perf_counter()
    r = nirdag.run(spec, dataset, workspace=ws, seed=0, executor=executor, workers=workers, reuse=False,
                   calibration=mode)
    wall = time.perf_counter() - start
    (row,) = nirdag.Workspace(ws).sql(
        "SELECT executor, workers, target_partitions, view_seconds, applied FROM run_metrics WHERE run_id = "
        f"'{r.run_id}'").to_pylist()
    return {"mode": mode, "run_id": r.run_id, "executor": f"{row['executor']} x{row['workers']}",
            "partitions": row["target_partitions"], "engine_s": round(r.seconds, 3), "wall_s": round(wall, 3),
            "view_s": row["view_seconds"] and round(row["view_seconds"], 3), "applied": row["applied"]}


def _medians(rows: list[dict], mode: str, skip: int) -> dict:
    runs = [r for r in rows if r["mode"] == mode and isinstance(r["run"], int) and r["run"] > skip]
    out = {}
    for key in ("engine_s", "wall_s"):
        values = [r[key] for r in runs]
        median = statistics.median(values)
        out[key] = round(median, 3)
        out[key.replace("_s", "_spread_s")] = round(statistics.median(abs(v - median) for v in values), 3)
    return out


def _what_if(ws: Path, run_id: str, changes: str) -> dict:
    """What ``nirdag calibration what-if RUN --set CHANGES --verify`` does, in this (warm) process: the runs the
    estimate is built from ran here too, so the verifying run pays no first-run-of-a-process costs they did not."""
    checked = verify_estimate(ws, what_if(Workspace.of(ws), run_id, changes))
    return {"what_if": changes, "estimated_s": round(checked.estimate.estimated_engine_seconds, 3),
            "measured_s": round(checked.measured_engine_seconds, 3), "relative_error": round(checked.relative_error, 3)}


def _overhead(runs: int) -> None:
    spec = yaml.safe_load(EXAMPLE.read_text())
    with TemporaryDirectory() as tmp:
        _one(spec, None, Path(tmp), "off", "sync", None)  # the cache and the imports warm
        rows = [_one(spec, None, Path(tmp), mode, "sync", None) for _ in range(runs)
                for mode in ("off", "observe", "apply")]
    for row in rows:
        print(json.dumps(row))
    groups = {"off": [r for r in rows if r["mode"] == "off"],
              "observe": [r for r in rows if r["mode"] == "observe"],  # never measures its views
              "apply_measuring": [r for r in rows if r["mode"] == "apply" and r["view_s"] is not None],
              "apply": [r for r in rows if r["mode"] == "apply" and r["view_s"] is None]}
    out = {m: round(statistics.median(r["wall_s"] for r in g), 3) for m, g in groups.items() if g}
    views = [r["view_s"] for r in groups["apply_measuring"]]
    print(json.dumps({"overhead": "tecator_grid sync", "runs": {m: len(g) for m, g in groups.items()},
                      "wall_s": out, "view_s": round(statistics.median(views), 3) if views else None}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--executor", default="processes")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--skip-synthetic", action="store_true", help="Only the Tecator grid.")
    parser.add_argument("--overhead", action="store_true", help="Only what calibrating costs a sync run.")
    args = parser.parse_args()
    if args.overhead:
        _overhead(args.runs)
        return
    tecator_spec = yaml.safe_load(EXAMPLE.read_text())
    changed = copy.deepcopy(tecator_spec)
    changed["pipeline"][-1]["model"]["n_components"] = {"_range_": [1, 12]}
    workloads = {"tecator_grid": (tecator_spec, None)}
    if not args.skip_synthetic:
        workloads["synthetic_2000x1000"] = (SYNTHETIC, synthetic(2_000, 1_000, seed=2_000))
    summary = []
    with TemporaryDirectory() as tmp:
        for name, (spec, data) in workloads.items():
            rows = []
            for mode in ("observe", "apply"):
                ws = Path(tmp) / name / mode
                for i in range(args.runs):
                    rows.append({"workload": name, "run": i + 1,
                                 **_one(spec, data, ws, mode, args.executor, args.workers)})
                    print(json.dumps(rows[-1]), flush=True)
                if name == "tecator_grid":
                    rerun = {"workload": name, "run": "changed",
                             **_one(changed, data, ws, mode, args.executor, args.workers)}
                    rows.append(rerun)
                    print(json.dumps(rerun), flush=True)
                    first = next(r for r in rows if r["mode"] == mode and r["run"] == 1)
                    summary.append({"workload": name, "mode": mode, "changed_rerun_wall_s": rerun["wall_s"],
                                    "first_run_wall_s": first["wall_s"],
                                    "speedup_wall": round(first["wall_s"] / rerun["wall_s"], 2),
                                    "speedup_engine": round(first["engine_s"] / rerun["engine_s"], 2)})
            if name == "tecator_grid":
                tecator_rows = rows
            skip = min(2, args.runs - 1)
            summary.append({"workload": name, "runs_after": skip, "observe": _medians(rows, "observe", skip),
                            "apply": _medians(rows, "apply", skip)})
        for mode in ("apply", "observe"):  # each workspace's last run of the grid itself (sync / processes)
            ws = Path(tmp) / "tecator_grid" / mode
            last = next(r["run_id"] for r in reversed(tecator_rows) if r["mode"] == mode and r["run"] == args.runs)
            for changes in ("executor=processes,workers=2", "executor=sync", "cache=off"):
                summary.append({"workspace": mode, "run_id": last, **_what_if(ws, last, changes)})
    for row in summary:
        print(json.dumps(row))


if __name__ == "__main__":
    main()
