"""Policy calibration on the Tecator grid: observe against apply, asked for a process executor it cannot pay for.

`python -m benchmarks.policy_calibration [--runs 4] [--executor processes] [--workers 2]`. Two fresh workspaces run the
example grid (4 preprocessings x PLS 1..15, 5-fold CV) ``--runs`` times each with ``reuse=False``, one with
``calibration="observe"`` and one with ``"apply"``; then each runs once more with a changed PLS range (a
changed-parameter re-run: its preprocessing and many fold fits are served by the cache). Printed per run: the
executor used, engine and wall seconds, and the knobs apply changed. Predictions of the two workspaces' last
runs are compared bit for bit.
"""

from __future__ import annotations

import argparse
import copy
import json
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml

import nirdag

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "tecator_pls.yaml"


def _predictions(result):
    return result.sql(f"SELECT chain_id, fold_id, partition, sample_id, y_pred FROM predictions WHERE run_id = "
                      f"'{result.run_id}' ORDER BY chain_id, fold_id, partition, sample_id")


def _one(spec, ws, mode, executor, workers):
    start = time.perf_counter()
    r = nirdag.run(spec, workspace=ws, seed=0, executor=executor, workers=workers, reuse=False, calibration=mode)
    wall = time.perf_counter() - start
    row = r.sql(f"SELECT executor, applied FROM run_metrics WHERE run_id = '{r.run_id}'").to_pylist()[0]
    return r, {"mode": mode, "executor": row["executor"], "engine_s": round(r.seconds, 3), "wall_s": round(wall, 3),
               "applied": row["applied"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=4)
    parser.add_argument("--executor", default="processes")
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args()
    spec = yaml.safe_load(EXAMPLE.read_text())
    changed = copy.deepcopy(spec)
    changed["pipeline"][-1]["model"]["n_components"] = {"_range_": [1, 12]}
    rows, last = [], {}
    with TemporaryDirectory() as tmp:
        for mode in ("observe", "apply"):
            ws = Path(tmp) / mode
            for i in range(args.runs):
                last[mode], row = _one(spec, ws, mode, args.executor, args.workers)
                rows.append({"run": i + 1, **row})
            _, row = _one(changed, ws, mode, args.executor, args.workers)
            rows.append({"run": "changed", **row})
        identical = _predictions(last["observe"]).equals(_predictions(last["apply"]))
    for row in rows:
        print(json.dumps(row))
    print(json.dumps({"predictions_bit_identical": identical}))


if __name__ == "__main__":
    main()
