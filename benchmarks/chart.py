"""PNG chart of a benchmark result: median wall time against the amount of work, one line per contender."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

COLOURS = {"nirdag": "tab:blue", "sklearn_loop": "tab:orange", "nirs4all": "tab:green"}


def _work(record: dict) -> float:
    """Amount of data of a case: samples x wavelengths (grid; from the case key ``name[NxP]``) or samples (scale)."""
    if "grid" not in record["case"]:
        return record["size"]
    n, p = record["case"].split("[")[1].rstrip("]").split("x")
    return int(n) * int(p)


def write_chart(result: dict, path: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, kind, xlabel in ((axes[0], "grid", "data size, samples x wavelengths (80 chains x 5 folds each)"),
                             (axes[1], "scale", "samples (SNV -> PLS 10, 1,000 wavelengths)")):
        for blas, style in (("pinned", "-"), ("user", ":")):
            for contender, colour in COLOURS.items():
                rows = [r for r in result["summary"] if r["contender"] == contender and r["blas"] == blas
                        and kind in r["case"] and "wall_s" in r]
                sizes = {r["case"]: _size(result, r["case"]) for r in rows}
                rows.sort(key=lambda r: sizes[r["case"]])
                if not rows:
                    continue
                xs = [_work({**r, "size": sizes[r["case"]]}) for r in rows]
                ys = [r["wall_s"]["median"] for r in rows]
                ax.plot(xs, ys, style, marker="o", color=colour, label=f"{contender} ({blas} BLAS)")
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(xlabel)
        ax.set_ylabel("wall time per run, s (median)")
        ax.set_title(f"{kind} workloads")
        ax.grid(True, which="both", alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(f"nirdag benchmark, suite {result['suite']}, {result['date']}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _size(result: dict, case: str) -> int:
    return next(r["size"] for r in result["records"] if r["case"] == case)
