"""Run the contenders side by side: `python -m benchmarks.compare --suite quick|full`.

Each contender runs as its own process, alternating (nirdag, sklearn_loop, nirs4all, nirdag, ...) over the
repetitions, once with the user's BLAS environment and once with BLAS pinned to one thread.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from threadpoolctl import threadpool_info

from benchmarks.chart import write_chart
from benchmarks.nirs4all_env import ensure_nirs4all
from benchmarks.report import print_summary
from benchmarks.workloads import Task, cases, materialise

HERE = Path(__file__).resolve().parent
RUNNERS = {
    "nirdag": HERE / "contenders" / "nirdag_runner.py",
    "nirdag_baseline": HERE / "contenders" / "nirdag_runner.py",  # another nirdag (--baseline), for before/after
    "sklearn_loop": HERE / "contenders" / "sklearn_runner.py",
    "nirs4all": HERE / "contenders" / "nirs4all_runner.py",
}
BLAS_ENVS = {
    "user": {},
    "pinned": {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"},
}
# nirdag runs as its CLI does: Hamilton's extension autoloading off (hamilton.registry.disable_autoload).
CONTENDER_ENV = {name: {"HAMILTON_AUTOLOAD_EXTENSIONS": "0"} for name in ("nirdag", "nirdag_baseline")}
AGREEMENT_TOL = 1e-9


def run_one(python: Path, contender: str, task: Task, blas: str, timeout: float, task_file: Path | None = None
            ) -> dict:
    """Run one contender process on one task; wall time measured here, the rest reported by the process."""
    task_file = task_file or task.task_file
    workdir = Path(json.loads(task_file.read_text())["workdir"])
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    result_file = workdir.parent / f"result-{contender}.json"
    result_file.unlink(missing_ok=True)
    env = {**os.environ, **BLAS_ENVS[blas], **CONTENDER_ENV.get(contender, {}), "PYTHONPATH": str(HERE.parent)}
    start = time.perf_counter()
    try:
        done = subprocess.run([str(python), str(RUNNERS[contender]), str(task_file), str(result_file)],
                              capture_output=True, text=True, timeout=timeout, env=env, check=False)
        error = None if done.returncode == 0 else (done.stderr.strip().splitlines() or ["exit != 0"])[-1]
    except subprocess.TimeoutExpired:
        error = f"timeout after {timeout:.0f} s"
    wall = time.perf_counter() - start
    record = {"case": task.case.key, "workload": task.case.workload, "size": task.case.size, "contender": contender,
              "blas": blas, "wall_s": wall, "ok": error is None, "error": error}
    if error is None:
        reported = json.loads(result_file.read_text())
        reported.pop("chains", None)  # per-chain detail of a contender: not kept in the results file
        record.update({**reported, "contender": contender})  # a baseline reports itself as nirdag
    return record


def in_process(records: list[dict]) -> list[dict]:
    """The second call in one process (imports and first-call costs excluded; nirdag: cache off, fresh workspace)
    of nirdag and the script, per case: ratio script / nirdag (> 1: nirdag faster)."""
    by = {(r["case"], r["contender"]): r for r in records if r.get("mode") == "in_process" and r["ok"]}
    out = []
    for case in sorted({c for c, _ in by}):
        a, b = by.get((case, "nirdag")), by.get((case, "sklearn_loop"))
        if a and b and a.get("second_s") and b.get("second_s"):
            base = by.get((case, "nirdag_baseline"), {}).get("second_s")
            out.append({"case": case, "nirdag_s": a["second_s"], "sklearn_loop_s": b["second_s"],
                        "ratio": b["second_s"] / a["second_s"], "baseline_s": base})
    return out


def summarise(records: list[dict]) -> list[dict]:
    groups: dict[tuple[str, str, str], list[dict]] = {}
    for r in records:
        if r.get("mode") == "in_process":
            continue
        groups.setdefault((r["case"], r["contender"], r["blas"]), []).append(r)
    rows = []
    for (case, contender, blas), rs in groups.items():
        ok = [r for r in rs if r["ok"]]
        row = {"case": case, "contender": contender, "blas": blas, "runs": len(rs), "ok": len(ok),
               "error": next((r["error"] for r in rs if not r["ok"]), None)}
        for metric in ("wall_s", "compute_s", "peak_rss_mb"):
            values = [r[metric] for r in ok]
            if values:
                row[metric] = {"median": statistics.median(values), "min": min(values), "max": max(values)}
        if ok:
            row.update({k: ok[0].get(k) for k in ("best_rmsecv", "best_rmsep", "best_chain", "n_chains",
                                                  "rmsecv_kind", "notes", "version")})
        rows.append(row)
    return rows


def ratios(summary: list[dict]) -> list[dict]:
    """Median wall-time and compute-time ratios other / nirdag, per case and BLAS mode."""
    by = {(r["case"], r["contender"], r["blas"]): r for r in summary}
    out = []
    for (case, contender, blas), row in by.items():
        base = by.get((case, "nirdag", blas))
        if contender == "nirdag" or base is None or "wall_s" not in row or "wall_s" not in base:
            continue
        out.append({"case": case, "blas": blas, "other": contender,
                    "wall_ratio": row["wall_s"]["median"] / base["wall_s"]["median"],
                    "compute_ratio": row["compute_s"]["median"] / base["compute_s"]["median"],
                    "rss_ratio": row["peak_rss_mb"]["median"] / base["peak_rss_mb"]["median"]})
    return out


def agreement(summary: list[dict]) -> list[dict]:
    """nirdag and sklearn_loop must find the same best RMSECV (same folds) to 1e-9; nirs4all is reported."""
    by = {(r["case"], r["contender"], r["blas"]): r for r in summary}
    out = []
    for case in sorted({r["case"] for r in summary}):
        a, b = by.get((case, "nirdag", "pinned")) or by.get((case, "nirdag", "user")), \
            by.get((case, "sklearn_loop", "pinned")) or by.get((case, "sklearn_loop", "user"))
        if not (a and b and a.get("best_rmsecv") is not None and b.get("best_rmsecv") is not None):
            continue
        diff = abs(a["best_rmsecv"] - b["best_rmsecv"])
        out.append({"case": case, "nirdag": a["best_rmsecv"], "sklearn_loop": b["best_rmsecv"], "abs_diff": diff,
                    "agree": diff <= AGREEMENT_TOL})
    return out


def _in_process_records(pythons: dict, contenders: list[str], task: Task, blas: str, timeout: float) -> list[dict]:
    """One process per contender (nirdag and the script) that makes its call twice; the second call is timed."""
    spec = json.loads(task.task_file.read_text(encoding="utf-8"))
    twice = task.task_file.with_name("task-twice.json")
    twice.write_text(json.dumps({**spec, "calls": 2}, indent=1), encoding="utf-8")
    out = []
    for contender in [c for c in contenders if c in ("nirdag", "nirdag_baseline", "sklearn_loop")]:
        rec = {**run_one(pythons[contender], contender, task, blas, timeout, twice), "mode": "in_process"}
        out.append(rec)
        second = f"{rec['second_s']:.3f} s" if rec.get("second_s") is not None else rec["error"]
        print(f"{task.case.key:32s} {blas:6s} in-process {contender:12s} second call {second}", flush=True)
    return out


def machine() -> dict:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, cwd=HERE.parent,
                            check=False).stdout.strip()
    return {"cores": os.cpu_count(), "cpu": cpu, "python": platform.python_version(), "platform": platform.platform(),
            "blas": [{k: i.get(k) for k in ("internal_api", "version", "num_threads", "architecture")}
                     for i in threadpool_info()],
            "nirdag_commit": commit}


def parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.compare", description=__doc__)
    p.add_argument("--suite", choices=("smoke", "ci", "quick", "full"), default="quick",
                   help="ci: tecator_grid and 500/2,000 spectra, pinned BLAS, no nirs4all (a few minutes)")
    p.add_argument("--reps", type=int, default=None, help="repetitions (default: 1 smoke, 3 quick/full)")
    p.add_argument("--contenders", default=None, help="default: nirdag,sklearn_loop,nirs4all (ci: no nirs4all)")
    p.add_argument("--blas", default=None, help="comma list of: user, pinned (default both; ci: pinned)")
    p.add_argument("--baseline", type=Path, default=None,
                   help="the Python of another nirdag install (e.g. a checkout of an earlier commit in its own venv): "
                        "run as contender nirdag_baseline beside nirdag, for before/after figures in one run")
    p.add_argument("--no-in-process", action="store_true",
                   help="skip the in-process measure (one more process per case running each contender twice)")
    p.add_argument("--out-dir", type=Path, default=HERE / "results")
    p.add_argument("--timeout", type=float, default=1800.0, help="seconds per contender run")
    p.add_argument("--no-install", action="store_true", help="do not create the nirs4all venv if missing")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    ci = args.suite == "ci"
    contenders = [c.strip() for c in (args.contenders or ("nirdag,sklearn_loop" if ci else
                                                          "nirdag,sklearn_loop,nirs4all")).split(",") if c.strip()]
    blas_modes = [b.strip() for b in (args.blas or ("pinned" if ci else "user,pinned")).split(",") if b.strip()]
    reps = args.reps or (1 if args.suite == "smoke" else 3)
    if args.baseline is not None:
        contenders.insert(1, "nirdag_baseline")
    pythons = {c: Path(sys.executable) for c in contenders if c != "nirs4all"}
    if args.baseline is not None:
        pythons["nirdag_baseline"] = args.baseline
    notes = {}
    if "nirs4all" in contenders:
        python, note = ensure_nirs4all(install=not args.no_install)
        notes["nirs4all"] = note
        if python is None:
            print(f"skipping nirs4all: {note}", file=sys.stderr)
            contenders.remove("nirs4all")
        else:
            pythons["nirs4all"] = python
    records = []
    with tempfile.TemporaryDirectory(prefix="nirdag-bench-") as tmp:
        for case in cases(args.suite):
            task = materialise(case, Path(tmp) / case.key.replace("[", "_").replace("]", ""))
            for rep in range(reps):
                for blas in blas_modes:
                    order = contenders[rep % len(contenders):] + contenders[:rep % len(contenders)]
                    for contender in order:
                        rec = run_one(pythons[contender], contender, task, blas, args.timeout)
                        rec["rep"] = rep
                        records.append(rec)
                        status = "ok" if rec["ok"] else f"FAILED: {rec['error']}"
                        print(f"{case.key:32s} {blas:6s} rep {rep} {contender:12s} {rec['wall_s']:8.2f} s  {status}",
                              flush=True)
            if not args.no_in_process:
                records += _in_process_records(pythons, contenders, task, blas_modes[-1], args.timeout)
    summary = summarise(records)
    result = {"suite": args.suite, "date": dt.date.today().isoformat(), "reps": reps,
              "in_process": in_process(records),
              "command": "python -m benchmarks.compare " + " ".join(sys.argv[1:] if argv is None else argv),
              "machine": machine(), "notes": notes, "summary": summary, "ratios": ratios(summary),
              "agreement": agreement(summary), "records": records}
    args.out_dir.mkdir(parents=True, exist_ok=True)
    stem = args.out_dir / f"{result['date']}-{args.suite}"
    stem.with_suffix(".json").write_text(json.dumps(result, indent=1, default=str), encoding="utf-8")
    write_chart(result, stem.with_suffix(".png"))
    print_summary(result)
    print(f"wrote {stem.with_suffix('.json')} and {stem.with_suffix('.png')}")
    failed = [a for a in result["agreement"] if not a["agree"]]
    broken = [r for r in summary if r["ok"] < r["runs"] and r["contender"] != "nirs4all"]
    return 1 if failed or broken else 0


if __name__ == "__main__":
    sys.exit(main())
