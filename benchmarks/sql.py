"""SQL over a large workspace: GROUP BY + RANK window over 1,000,000 prediction rows (goal: under 0.5 s).

`python -m benchmarks.sql [--rows N]`: writes N synthetic prediction rows through the store into a temporary
workspace, then times (median of 5) the per-chain RMSE with a rank per fold, in plain SQL and with the rmse() UDAF.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np
import pyarrow as pa

from datafusion_engine import Workspace
from datafusion_engine.schemas import TABLE_SCHEMAS

QUERIES = {
    "plain SQL": "WITH g AS (SELECT chain_id, fold_id, sqrt(avg((y_pred - y_true) * (y_pred - y_true))) AS rmse "
                 "FROM predictions GROUP BY chain_id, fold_id) "
                 "SELECT *, RANK() OVER (PARTITION BY fold_id ORDER BY rmse) AS r FROM g",
    "rmse() UDAF": "WITH g AS (SELECT chain_id, fold_id, rmse(y_true, y_pred) AS rmse "
                   "FROM predictions GROUP BY chain_id, fold_id) "
                   "SELECT *, RANK() OVER (PARTITION BY fold_id ORDER BY rmse) AS r FROM g",
}


def _rows(n: int, rng: np.random.Generator) -> pa.Table:
    chains, folds = 200, 5
    per = n // (chains * folds)
    idx = np.arange(chains * folds * per)
    chain = pa.array([f"c{i:04d}" for i in range(chains)]).take(pa.array(idx // (folds * per)))
    fold = pa.array([f"fold_{i}" for i in range(folds)]).take(pa.array((idx // per) % folds))
    y = rng.normal(20, 5, idx.size)
    return pa.table({
        "run_id": pa.array(np.full(idx.size, "bench", dtype=object), pa.string()), "chain_id": chain,
        "fold_id": fold, "partition": pa.array(np.full(idx.size, "val", dtype=object), pa.string()),
        "sample_id": pa.array((idx % per).astype(str)), "target": pa.array(np.full(idx.size, "y", dtype=object)),
        "y_true": y, "y_pred": y + rng.normal(0, 1, idx.size),
    }).cast(TABLE_SCHEMAS["predictions"])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.sql", description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as ws:
        table = _rows(args.rows, np.random.default_rng(0))
        handle = Workspace(ws)
        handle.store.write("predictions", table)
        session = handle.session()
        print(f"| query over {table.num_rows:,} rows | median s (5 runs) |\n|---|---|")
        for name, sql in QUERIES.items():
            times = []
            for _ in range(5):
                start = time.perf_counter()
                session.sql(sql)
                times.append(time.perf_counter() - start)
            print(f"| {name} | {statistics.median(times):.3f} |")


if __name__ == "__main__":
    main()
