"""The benchmark harness runs end to end on a tiny workload (no timing assertions: timings live in benchmarks/)."""

from __future__ import annotations

import json

from benchmarks.compare import main
from benchmarks.models import measure


def test_harness_runs_and_contenders_agree(tmp_path):
    code = main(["--suite", "smoke", "--contenders", "nirdag,sklearn_loop", "--blas", "pinned",
                 "--out-dir", str(tmp_path)])
    assert code == 0
    (result_file,) = tmp_path.glob("*-smoke.json")
    result = json.loads(result_file.read_text())
    assert {r["contender"] for r in result["summary"]} == {"nirdag", "sklearn_loop"}
    assert all(r["ok"] == r["runs"] == 1 for r in result["summary"])
    (agreement,) = result["agreement"]
    assert agreement["agree"] and agreement["abs_diff"] <= 1e-9
    assert result["summary"][0]["best_chain"].startswith(("snv|", "msc|"))
    assert result_file.with_suffix(".png").stat().st_size > 10_000
    (second,) = result["in_process"]  # the second call in one process, of each contender
    assert second["nirdag_s"] > 0 and second["sklearn_loop_s"] > 0


def test_the_model_benchmark_runs_and_each_model_agrees_with_its_reference():
    rows = measure(rows=120, cols=60, K=5, queries=5, reps=1, cars_runs=6, uve_runs=8, intervals=4)
    assert [r["model"].split(" ")[0] for r in rows] == ["OPLS", "LWPLS", "CARS", "MC-UVE", "iPLS"]
    opls, lwpls, cars, uve, ipls = rows
    assert opls["difference"] < 1e-6 * opls["y_range"] and lwpls["difference"] < 1e-8 * lwpls["y_range"]
    assert cars["difference"] == uve["difference"] == ipls["difference"] == 0.0
