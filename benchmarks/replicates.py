"""What replicates do to cross-validation: Tecator's 215 samples each "scanned" three times (seeded noise), the same
grid cross-validated with folds that keep a sample's replicates together (the default once `sample_column` is
declared) and with `group_replicates: false` (spectra split at random, replicates leaking across folds).

`python -m benchmarks.replicates [--reps 3] [--noise 0.0002]`: SNV, MSC, Savitzky-Golay 1st derivative, linear
Detrend x PLS 1..15 x KFold(5, seeded), target fat, Tecator's rows 1-172 (their replicates) train, 173-215 test.
Prints, for each fold scheme, the chosen chain, its per-sample RMSECV and RMSEP (the mean of a sample's replicate
predictions) and their ratio, and the engine seconds. RMSECV close to RMSEP means the CV told the truth; a leaky
RMSECV well below RMSEP is the optimism the grouped folds remove. Each scheme runs twice into fresh workspaces;
the engine seconds are the second run's (the first pays the imports and first calls).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import nirdag
from nirs_core.data import SpectraDataset, tecator

_GRID = {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}],
         "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2, "deriv": 1}],
         "detrend": [{"op": "detrend", "order": 1}]}


def replicated(reps: int, noise: float, seed: int = 0) -> SpectraDataset:
    """Tecator with every sample repeated ``reps`` times, plus seeded noise of ``noise`` absorbance units."""
    base, rng = tecator(), np.random.default_rng(seed)
    sample = np.repeat(np.arange(base.n_samples), reps)
    X = base.spectra[sample] + rng.normal(scale=noise, size=(sample.size, base.n_wavelengths))
    ids = [f"{base.sample_ids[s]}_{r}" for s, r in zip(sample, np.tile(np.arange(reps), base.n_samples), strict=True)]
    return SpectraDataset(name=f"tecator_x{reps}", sample_ids=ids, spectra=X, wavelengths=base.wavelengths,
                          wavelength_unit="nm", targets={"fat": base.target("fat")[sample]},
                          partition=base.partition[sample], metadata={"sample": base.sample_ids[sample]},
                          replicates="sample")


def _spec(grouped: bool) -> dict:
    return {"name": "replicates_bench", "target": "fat", "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "group_replicates": grouped}}, {"branch": _GRID},
        {"model": {"op": "pls", "n_components": {"_range_": [1, 15]}}}]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--noise", type=float, default=0.0002)
    args = parser.parse_args()
    dataset = replicated(args.reps, args.noise)
    print(f"{dataset.n_samples} spectra of {dataset.n_samples // args.reps} samples, replicate noise sd "
          f"{args.noise:g}\n")
    print("| folds | chosen chain | per-sample RMSECV | per-sample RMSEP | RMSEP / RMSECV | engine s |")
    print("|---|---|---|---|---|---|")
    with threadpool_limits(1), tempfile.TemporaryDirectory() as tmp:
        for grouped in (False, True):
            for attempt in range(2):
                run = nirdag.run(_spec(grouped), dataset, workspace=Path(tmp) / f"ws_{grouped}_{attempt}",
                                 cache=False)
            best = run.top(1).to_pylist()[0]
            name = "samples kept together (default)" if grouped else "group_replicates: false (leaky)"
            print(f"| {name} | {best['preprocessing']} PLS {best['n_components']} | {best['rmsecv']:.3f} | "
                  f"{best['rmsep']:.3f} | {best['rmsep'] / best['rmsecv']:.2f} | {run.seconds:.2f} |")


if __name__ == "__main__":
    main()
