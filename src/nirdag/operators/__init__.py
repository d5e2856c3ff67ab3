"""NIRS operators: scikit-learn compatible transforms with declared traits, and the PLS component sweep."""

from nirdag.operators.base import OperatorTraits
from nirdag.operators.derivative import Detrend, SavitzkyGolay
from nirdag.operators.pls import PLSSweep
from nirdag.operators.scatter import MSC, SNV

__all__ = ["MSC", "SNV", "Detrend", "OperatorTraits", "PLSSweep", "SavitzkyGolay"]
