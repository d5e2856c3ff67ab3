"""NIRS operators: scikit-learn compatible transforms with declared traits, splitters, and PLS models."""

from nirdag.operators.base import OperatorTraits
from nirdag.operators.baseline import ASLS, AirPLS
from nirdag.operators.concat import FeatureConcat
from nirdag.operators.conversion import KubelkaMunk, ReflectanceToAbsorbance
from nirdag.operators.derivative import Detrend, SavitzkyGolay
from nirdag.operators.emsc import EMSC
from nirdag.operators.normalise import RNV, AreaNormalise, Autoscale, MaxNormalise, MeanCentre, VectorNormalise
from nirdag.operators.orthogonal import EPO, OSC
from nirdag.operators.pcr import PCR
from nirdag.operators.pls import PLSSweep
from nirdag.operators.plsda import PLSDA
from nirdag.operators.scatter import MSC, SNV
from nirdag.operators.smoothing import FiniteDifference, GapSegmentDerivative, GaussianSmooth
from nirdag.operators.splitters import (
    BinnedStratifiedKFold,
    GroupAwareKFold,
    KennardStoneKFold,
    SPXYKFold,
    kennard_stone_split,
    spxy_split,
)
from nirdag.operators.wavelength import Crop, MaskBands, Resample

__all__ = [
    "ASLS",
    "EMSC",
    "EPO",
    "MSC",
    "OSC",
    "PCR",
    "PLSDA",
    "RNV",
    "SNV",
    "AirPLS",
    "AreaNormalise",
    "Autoscale",
    "BinnedStratifiedKFold",
    "Crop",
    "Detrend",
    "FeatureConcat",
    "FiniteDifference",
    "GapSegmentDerivative",
    "GaussianSmooth",
    "GroupAwareKFold",
    "KennardStoneKFold",
    "KubelkaMunk",
    "MaskBands",
    "MaxNormalise",
    "MeanCentre",
    "OperatorTraits",
    "PLSSweep",
    "ReflectanceToAbsorbance",
    "Resample",
    "SPXYKFold",
    "SavitzkyGolay",
    "VectorNormalise",
    "kennard_stone_split",
    "spxy_split",
]
