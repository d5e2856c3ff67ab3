"""Operator traits: what each NIRS transform declares so the compiler can plan around it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class OperatorTraits:
    """Facts an operator declares about itself.

    row_wise_stateless
        The output row depends only on the same input row and nothing is fitted: the compiler may compute it once
        for all rows, above the fold fan-out, without leakage.
    wavelength_aware
        The operator reads the wavelength axis (not only column positions).
    changes_axis
        The operator changes the number or meaning of columns.
    y_aware
        Fitting reads the target.
    """

    row_wise_stateless: bool
    wavelength_aware: bool = False
    changes_axis: bool = False
    y_aware: bool = False
