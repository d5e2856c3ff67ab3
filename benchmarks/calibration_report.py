"""Build time and size of the calibration report: `python -m benchmarks.calibration_report [--n 20000]`.

Goals (docs/plans/diagnostics.md): the report of an 80-chain run builds in under 3 s, and the report of a
20,000-spectrum run stays at or under 5 MB (scatter plots draw an even subset above a few thousand points and say
so; spectra are drawn as a raster inside the SVG).

1. ``tecator_grid`` (embedded Tecator; SNV, MSC, Savitzky-Golay 1st derivative, detrend x PLS 1..20, 5-fold CV =
   80 chains, refit of the best): median of 3 warm ``build_report`` calls (the first call, which loads matplotlib
   and Jinja2, is printed apart).
2. Seeded synthetic spectra, ``--n`` x ``--wavelengths`` (20 % test), SNV -> PLS 1..10, 5-fold CV: the HTML size,
   its build time and the PDF size.

Runs go into a temporary folder; nothing is written into the repository.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import nirdag
from benchmarks.workloads import GRID, SG
from nirdag.report import build_report, write_report

GOAL_SECONDS, GOAL_BYTES = 3.0, 5 * 1024**2

_STEPS = {"snv": [{"op": "snv"}], "msc": [{"op": "msc"}], "sg1": [{"op": "savgol", **SG}],
          "detrend": [{"op": "detrend", "order": 1}]}


def _grid_spec() -> dict:
    return {"name": "tecator_grid", "target": "fat", "seed": 0, "refit": {"metric": "rmse", "top_k": 1},
            "pipeline": [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}},
                         {"branch": {name: _STEPS[name] for name in GRID}},
                         {"model": {"op": "pls", "n_components": {"_range_": [1, 20]}}}]}


def _scale_spec() -> dict:
    return {"name": "synthetic_scale", "target": "y", "seed": 0, "refit": {"metric": "rmse", "top_k": 1},
            "pipeline": [{"split": {"kind": "kfold", "n_splits": 5, "shuffle": True}}, {"op": "snv"},
                         {"model": {"op": "pls", "n_components": {"_range_": [1, 10]}}}]}


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def grid_case(root: Path) -> dict:
    run = nirdag.run(_grid_spec(), nirdag.datasets.tecator(), workspace=root / "grid", seed=0)
    first, html = _timed(lambda: build_report(run.workspace, run.run_id))
    warm = [_timed(lambda: build_report(run.workspace, run.run_id))[0] for _ in range(3)]
    return {"chains": len(run.plan.chains), "first_s": first, "median_s": statistics.median(warm),
            "bytes": len(html.encode("utf-8"))}


def scale_case(root: Path, n: int, wavelengths: int) -> dict:
    data = nirdag.datasets.synthetic(n, wavelengths, seed=n)
    run_s, run = _timed(lambda: nirdag.run(_scale_spec(), data, workspace=root / "scale", seed=0))
    html, pdf = root / "scale.html", root / "scale.pdf"
    build_s, _ = _timed(lambda: write_report(run.workspace, html, run.run_id))
    write_report(run.workspace, None, run.run_id, pdf=pdf)
    return {"n": n, "wavelengths": wavelengths, "run_s": run_s, "build_s": build_s,
            "bytes": html.stat().st_size, "pdf_bytes": pdf.stat().st_size}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.calibration_report")
    parser.add_argument("--n", type=int, default=20_000, help="spectra of the size case (default 20,000)")
    parser.add_argument("--wavelengths", type=int, default=700)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="nirdag-report-bench-") as folder:
        grid = grid_case(Path(folder))
        print(f"tecator_grid: {grid['chains']} chains; report build first {grid['first_s']:.2f} s (imports "
              f"included), warm median of 3 {grid['median_s']:.2f} s (goal < {GOAL_SECONDS:.0f} s: "
              f"{'met' if grid['median_s'] < GOAL_SECONDS else 'NOT met'}); HTML {grid['bytes'] / 1024**2:.2f} MB")
        scale = scale_case(Path(folder), args.n, args.wavelengths)
        print(f"synthetic {scale['n']:,} x {scale['wavelengths']}: run {scale['run_s']:.1f} s; report build "
              f"{scale['build_s']:.2f} s; HTML {scale['bytes'] / 1024**2:.2f} MB (goal <= 5 MB: "
              f"{'met' if scale['bytes'] <= GOAL_BYTES else 'NOT met'}); PDF {scale['pdf_bytes'] / 1024**2:.2f} MB")


if __name__ == "__main__":
    main()
