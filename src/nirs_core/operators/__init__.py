"""NIRS operators: scikit-learn compatible transforms with declared traits, splitters, and PLS models."""

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.baseline import ASLS, AirPLS
from nirs_core.operators.concat import FeatureConcat
from nirs_core.operators.conversion import KubelkaMunk, ReflectanceToAbsorbance
from nirs_core.operators.derivative import Detrend, SavitzkyGolay
from nirs_core.operators.emsc import EMSC
from nirs_core.operators.features import PCAFeatures
from nirs_core.operators.filters import Leverage, XOutliers, YOutliers
from nirs_core.operators.ipls import IntervalPLS
from nirs_core.operators.kernel_pls import KernelPLS
from nirs_core.operators.library_baselines import ARPLS, SNIP, IModPoly, ModPoly, RollingBall
from nirs_core.operators.lwpls import LWPLS
from nirs_core.operators.mc_uve import MCUVE
from nirs_core.operators.normalise import RNV, AreaNormalise, Autoscale, MaxNormalise, MeanCentre, VectorNormalise
from nirs_core.operators.opls import OPLS, OPLSDA
from nirs_core.operators.orthogonal import EPO, OSC
from nirs_core.operators.pcr import PCR
from nirs_core.operators.pls import PLSSweep
from nirs_core.operators.plsda import PLSDA
from nirs_core.operators.scaling import BlockScale, MinMaxScale, ParetoScale, RangeScale
from nirs_core.operators.scatter import MSC, SNV, LocalSNV
from nirs_core.operators.selection import CARS, VIPSelect
from nirs_core.operators.selectivity import SRSelect
from nirs_core.operators.smoothing import FiniteDifference, GapSegmentDerivative, GaussianSmooth
from nirs_core.operators.splitters import (
    BinnedStratifiedKFold,
    GroupAwareKFold,
    KennardStoneKFold,
    SPXYKFold,
    VenetianBlindsKFold,
    kennard_stone_split,
    spxy_split,
)
from nirs_core.operators.wavelength import Crop, MaskBands, Resample
from nirs_core.operators.wavelets import DWTFeatures, WaveletDenoise

__all__ = [
    "ARPLS",
    "ASLS",
    "CARS",
    "EMSC",
    "EPO",
    "LWPLS",
    "MCUVE",
    "MSC",
    "OPLS",
    "OPLSDA",
    "OSC",
    "PCR",
    "PLSDA",
    "RNV",
    "SNIP",
    "SNV",
    "AirPLS",
    "AreaNormalise",
    "Autoscale",
    "BinnedStratifiedKFold",
    "BlockScale",
    "Crop",
    "DWTFeatures",
    "Detrend",
    "FeatureConcat",
    "FiniteDifference",
    "GapSegmentDerivative",
    "GaussianSmooth",
    "GroupAwareKFold",
    "IModPoly",
    "IntervalPLS",
    "KennardStoneKFold",
    "KernelPLS",
    "KubelkaMunk",
    "Leverage",
    "LocalSNV",
    "MaskBands",
    "MaxNormalise",
    "MeanCentre",
    "MinMaxScale",
    "ModPoly",
    "OperatorTraits",
    "PCAFeatures",
    "PLSSweep",
    "ParetoScale",
    "RangeScale",
    "ReflectanceToAbsorbance",
    "Resample",
    "RollingBall",
    "SPXYKFold",
    "SRSelect",
    "SavitzkyGolay",
    "VIPSelect",
    "VectorNormalise",
    "VenetianBlindsKFold",
    "WaveletDenoise",
    "XOutliers",
    "YOutliers",
    "kennard_stone_split",
    "spxy_split",
]
