"""Export and predict a PLS chain: `python -m benchmarks.bundle [--new N] [--wavelengths P]` (goal: well under 1 s).

Runs SNV -> PLS 1..15 (5-fold CV, refit of the best) on seeded synthetic spectra (600 training rows), exports the
best chain, then times in a FRESH process (what a lab user waits for): imports, bundle verification + skops load,
and prediction of N new spectra; and, warm in this process, the median of 5 export / load / predict rounds.
nirs4all's export/predict is not measured here (its harness measures runs only; see benchmarks/README.md).
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
print(json.dumps({"import_s": t1 - t0, "verify_load_s": t2 - t1, "predict_s": t3 - t2, "rows": out.num_rows}))
"""


def _median(fn, reps: int = 5) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--new", type=int, default=1000, help="new spectra to predict")
    parser.add_argument("--wavelengths", type=int, default=700)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = nirdag.datasets.synthetic(750, args.wavelengths, seed=1)
        run = nirdag.run(SPEC, data, workspace=root / "ws", seed=0)
        components = run.best["n_components"]
        new = nirdag.datasets.synthetic(args.new, args.wavelengths, seed=2, test_fraction=0.0)
        np.save(root / "new.npy", np.asarray(new.spectra))
        bundle = root / "model.nirdag"
        export_s = _median(lambda: run.export(bundle))
        load_s = _median(lambda: read_bundle(bundle))
        loaded = read_bundle(bundle)
        X = np.asarray(new.spectra)
        predict_s = _median(lambda: nirdag.predict(loaded, X))
        env = {**os.environ, "HAMILTON_AUTOLOAD_EXTENSIONS": "0"}
        cold = json.loads(subprocess.run([sys.executable, "-c", _COLD, str(bundle), str(root / "new.npy")],
                                         capture_output=True, text=True, check=True, env=env).stdout)
        size = bundle.stat().st_size
    print(f"chain: SNV -> PLS {components} components, {args.wavelengths} wavelengths; "
          f"bundle {size / 1024:.0f} KiB (fold_final + 5 fold models)")
    print(f"warm (median of 5): export {export_s * 1000:.1f} ms, verify+load {load_s * 1000:.1f} ms, "
          f"predict {args.new} spectra {predict_s * 1000:.1f} ms")
    print(f"fresh process: imports {cold['import_s']:.2f} s, verify+load (incl. skops import) "
          f"{cold['verify_load_s']:.2f} s, predict {cold['rows']} spectra {cold['predict_s'] * 1000:.1f} ms; "
          f"load+predict {cold['verify_load_s'] + cold['predict_s']:.2f} s")


if __name__ == "__main__":
    main()
