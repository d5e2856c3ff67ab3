"""The PolicyValidation artifact: what the compiler checked and decided, each finding tied to a spec path."""

from __future__ import annotations

from typing import Literal

import msgspec

from relspec.hashing import canonical_bytes
from relspec.policy import ExecutionPolicy
from relspec.workload import WorkloadClass

_FROZEN = {"frozen": True, "forbid_unknown_fields": True, "kw_only": True}

SCHEMA_VERSION = 1

Severity = Literal["info", "warning", "error"]
FindingCode = Literal[
    "policy",  # an execution-policy decision and its reason
    "hoisted_step",  # a row-wise stateless step computed once above the folds
    "shared_prefix",  # identical prefixes across paths compiled to one node
    "shared_fit",  # paths with identical steps share one fitted node per fold
    "fitted_before_split",  # a fitted step written before `split`: still fitted on each fold's training rows only
    "workers_capped",  # more workers asked than the DAG can keep busy
    "no_test_rows",  # the dataset has no test partition: no RMSEP
    "missing_target",  # rows without a reference value, left out of fitting and scoring
    "y_processing",  # a target transform fitted per fold and inverted before scoring
    "coerced_join",  # a view join inferred with less than exact confidence (its key types differ)
    "swept_at_edge",  # the best chain's value of a swept step parameter is the smallest or largest the run tried
    "augmentation",  # augment steps: the real and synthetic training rows of every fold and of the refit
    "replicates_split",  # group_replicates: false: a sample's replicates on both sides of a fold
    "rank_level",  # the ranking scores samples (mean of replicate predictions), not spectra
    "sample_filter",  # a sample filter decided on each fold's training rows; what follows it is fitted per fold
]


class Finding(msgspec.Struct, **_FROZEN):
    """One thing the compiler found: its code, severity, the spec path it refers to, and a message."""

    code: FindingCode
    severity: Severity
    path: str
    message: str


class PolicyValidation(msgspec.Struct, tag="policy_validation", tag_field="kind", **_FROZEN):
    """Stored with every run (``provenance/<run_id>/policy_validation.json``); golden-file tested."""

    schema_version: int
    pipeline_hash: str
    dataset_hash: str
    policy: ExecutionPolicy
    findings: tuple[Finding, ...]
    workload: WorkloadClass | None = None  # the plan's size class, the key of the calibration history

    def of(self, severity: Severity) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == severity)

    def to_json(self) -> bytes:
        """Canonical JSON (sorted keys), the form the golden files pin."""
        return canonical_bytes(self)


def decode_validation(data: bytes) -> PolicyValidation:
    """Read a stored PolicyValidation back (strict: unknown fields are refused)."""
    return msgspec.json.decode(data, type=PolicyValidation)
