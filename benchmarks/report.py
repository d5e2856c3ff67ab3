"""Plain-text tables of a benchmark result (printed by the harness, pasted into RESULTS.md)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def _span(stat: dict | None, fmt: str) -> str:
    if not stat:
        return "-"
    return f"{stat['median']:{fmt}} ({stat['min']:{fmt}}-{stat['max']:{fmt}})"


def summary_lines(result: dict) -> list[str]:
    head = ("| case | BLAS | contender | wall s median (min-max) | compute s | peak RSS MB | best RMSECV | RMSEP | "
            "best chain |")
    lines = [head, "|" + "---|" * 9]
    for r in sorted(result["summary"], key=lambda r: (r["case"], r["blas"], r["contender"])):
        if r["ok"] == 0:
            lines.append(f"| {r['case']} | {r['blas']} | {r['contender']} | failed: {r['error']} | | | | | |")
            continue
        rmsep = r.get("best_rmsep")
        lines.append(
            f"| {r['case']} | {r['blas']} | {r['contender']} | {_span(r.get('wall_s'), '.2f')} | "
            f"{_span(r.get('compute_s'), '.2f')} | {_span(r.get('peak_rss_mb'), '.0f')} | "
            f"{r['best_rmsecv']:.6f} | {'-' if rmsep is None else f'{rmsep:.4f}'} | {r.get('best_chain', '')} |"
        )
    lines += ["", "| case | BLAS | other / nirdag | wall ratio | compute ratio | peak RSS ratio |",
              "|---|---|---|---|---|---|"]
    for q in sorted(result["ratios"], key=lambda q: (q["case"], q["blas"], q["other"])):
        lines.append(f"| {q['case']} | {q['blas']} | {q['other']} | {q['wall_ratio']:.2f}x | "
                     f"{q['compute_ratio']:.2f}x | {q['rss_ratio']:.2f}x |")
    lines += ["", "| case | nirdag best RMSECV | sklearn_loop best RMSECV | abs diff | agree (1e-9) |",
              "|---|---|---|---|---|"]
    for a in result["agreement"]:
        lines.append(f"| {a['case']} | {a['nirdag']:.12f} | {a['sklearn_loop']:.12f} | {a['abs_diff']:.1e} | "
                     f"{'yes' if a['agree'] else 'NO'} |")
    if result.get("in_process"):
        lines += ["", "| case | nirdag second call s | baseline second call s | sklearn_loop second call s | "
                  "ratio script / nirdag |", "|---|---|---|---|---|"]
        for q in result["in_process"]:
            base = q.get("baseline_s")
            lines.append(f"| {q['case']} | {q['nirdag_s']:.3f} | {'-' if base is None else f'{base:.3f}'} | "
                         f"{q['sklearn_loop_s']:.3f} | {q['ratio']:.2f}x |")
    return lines


def print_summary(result: dict) -> None:
    print("\n".join(summary_lines(result)))


def main(argv: list[str] | None = None) -> None:
    """`python -m benchmarks.report RESULT.json`: print a result's tables as Markdown (for RESULTS.md)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("result", type=Path)
    args = parser.parse_args(argv)
    result = json.loads(args.result.read_text(encoding="utf-8"))
    m = result["machine"]
    print(f"Suite `{result['suite']}`, {result['date']}, {result['reps']} repetitions, command: `{result['command']}`")
    print(f"Machine: {m['cores']} cores, {m['cpu']}, Python {m['python']}, BLAS {m['blas']}, "
          f"nirdag commit {m['nirdag_commit'][:12]}\n")
    print_summary(result)


if __name__ == "__main__":
    main()
