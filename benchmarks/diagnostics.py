"""What the diagnostics cost: the `chain_diagnostics` node's share of the engine time, and the diagnostics tables'
share of the result writes.

`python -m benchmarks.diagnostics [--sizes 20000] [--reps 3]`: tecator_grid (4 preprocessings x PLS 1..20 x
KFold(5), 80 chains) and synthetic_scale (n x 1000 wavelengths, SNV + PLS 10) at each size, each run into a fresh
workspace with BLAS on one thread. The node's seconds come from the run's `events` table (what the engine timed);
the write share is the time the store spent on the diagnostics tables against all result tables. Prints a Markdown
table of medians (min-max). The issue's budget: ≤ 10 % of the engine time on tecator_grid, ≤ 5 % at 20,000 spectra.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_limits

import nirdag
from datafusion_engine.store import WorkspaceStore
from nirs_core.data.synthetic import synthetic
from nirs_modelling.diagnostics import TABLES

_GRID = {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}],
         "sg1": [{"op": "savgol", "window_length": 11, "polyorder": 2, "deriv": 1}],
         "detrend": [{"op": "detrend", "order": 1}]}


def _spec(branches: dict, components: list[int], target: str) -> dict:
    return {"name": "diagnostics_bench", "target": target, "seed": 0, "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"branch": branches},
        {"model": {"op": "pls", "n_components": components}}]}


class _WriteTimer:
    """Times WorkspaceStore.write per table while installed."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._inner = WorkspaceStore.write

    def __enter__(self) -> _WriteTimer:
        timer, inner = self, self._inner

        def write(store, name, data):
            start = time.perf_counter()
            try:
                return inner(store, name, data)
            finally:
                timer.seconds[name] = timer.seconds.get(name, 0.0) + time.perf_counter() - start

        WorkspaceStore.write = write
        return self

    def __exit__(self, *exc) -> None:
        WorkspaceStore.write = self._inner


def measure(spec: dict, data) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as folder, _WriteTimer() as writes, threadpool_limits(limits=1):
        run = nirdag.run(spec, data, workspace=Path(folder) / "ws", progress=False)
        node = run.sql(f"SELECT seconds FROM events WHERE run_id = '{run.run_id}' AND node = 'chain_diagnostics'")
        diag = float(node.column("seconds")[0].as_py())
        rows = run.sql("SELECT count(*) AS n FROM sample_diagnostics").column("n")[0].as_py()
    results = ("chains", "predictions", "scores", "events", "artifacts", *TABLES)
    total_write = sum(writes.seconds.get(t, 0.0) for t in results)
    diag_write = sum(writes.seconds.get(t, 0.0) for t in TABLES)
    return {"engine_s": run.seconds, "diagnostics_s": diag, "share_pct": 100 * diag / run.seconds,
            "write_share_pct": 100 * diag_write / total_write if total_write else 0.0, "sample_rows": rows}


def _fmt(values: list[float]) -> str:
    return f"{statistics.median(values):.3g} ({min(values):.3g}-{max(values):.3g})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[20_000])
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    cases = [("tecator_grid[215x100]", _spec(_GRID, list(range(1, 21)), "fat"), nirdag.datasets.tecator())]
    cases += [(f"synthetic_scale[{n}x1000]", _spec({"snv": [{"op": "snv"}]}, [10], "y"),
               synthetic(n, 1000, seed=n)) for n in args.sizes]
    print("| case | engine s | chain_diagnostics s | share of engine % | share of result writes % | sample rows |")
    print("|---|---|---|---|---|---|")
    for name, spec, data in cases:
        reps = [measure(spec, data) for _ in range(args.reps)]
        cols = [_fmt([r[k] for r in reps]) for k in ("engine_s", "diagnostics_s", "share_pct", "write_share_pct")]
        print(f"| {name} | {' | '.join(cols)} | {reps[0]['sample_rows']} |", flush=True)


if __name__ == "__main__":
    main()
