"""The workload class of a compiled plan: its size in coarse buckets, the key of the calibration history.

Runs of one class cost about the same per node, so what one run measured (cache throughput, executor start-up,
node seconds) is evidence for the next run of that class. Sizes are bucketed to powers of 4 (the bucket's upper
bound), so a plan with 172 rows and one with 250 share a class, and one with 20,000 does not.
"""

from __future__ import annotations

from collections.abc import Iterable

import msgspec

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}


def bucket(n: int) -> int:
    """The smallest power of 4 that is at least ``n`` (1 for 0 or 1)."""
    b = 1
    while b < n:
        b *= 4
    return b


class WorkloadClass(msgspec.Struct, **_FROZEN):
    """Rows, wavelengths, chains and CV folds of a plan (each the upper bound of its power-of-4 bucket) and the
    model kinds it fits (their spec op names, sorted)."""

    rows: int
    wavelengths: int
    chains: int
    folds: int
    models: tuple[str, ...]

    @property
    def key(self) -> str:
        """The class as one readable string, e.g. ``r256-w256-c64-f8-pls``."""
        return (f"r{self.rows}-w{self.wavelengths}-c{self.chains}-f{self.folds}-"
                f"{'+'.join(self.models) or 'none'}")


def workload_of(rows: int, wavelengths: int, chains: int, folds: int, models: Iterable[str]) -> WorkloadClass:
    """The workload class of a plan of these sizes and model kinds."""
    return WorkloadClass(rows=bucket(rows), wavelengths=bucket(wavelengths), chains=bucket(chains),
                         folds=bucket(folds), models=tuple(sorted(set(models))))
