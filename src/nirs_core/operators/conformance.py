"""The scikit-learn estimator checks that do not apply to an estimator of ours, each with its reason.

Every estimator of :func:`~nirs_core.operators.registry.estimator_classes` passes
``sklearn.utils.estimator_checks.check_estimator`` except the checks listed here for its class (the tests hold the
list exact: a listed check that passes, or a failing check that is not listed, fails them). Pass the list to
scikit-learn when checking an estimator yourself::

    check_estimator(SNIP(max_half_window=1), expected_failed_checks=expected_failed_checks(SNIP()))

The reasons are properties of the data the generic checks use (two columns, zeros, no wavelength axis), not bugs.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from nirs_core.operators.conversion import KubelkaMunk, ReflectanceToAbsorbance
from nirs_core.operators.derivative import SavitzkyGolay
from nirs_core.operators.filters import YOutliers
from nirs_core.operators.library_baselines import ARPLS, SNIP, RollingBall
from nirs_core.operators.orthogonal import EPO
from nirs_core.operators.scatter import LocalSNV
from nirs_core.operators.smoothing import GapSegmentDerivative
from nirs_core.operators.wavelength import Crop, MaskBands, Resample

# Checks that fit and transform data of exactly two columns.
_TWO_COLUMNS = ("check_estimators_overwrite_params", "check_estimators_fit_returns_self", "check_readonly_memmap_input",
                "check_fit_idempotent", "check_fit_check_is_fitted", "check_n_features_in")
_NARROW = ("the check fits data of 2 columns, and the smallest window (or second differences) spans 3; it raises "
           "ValueError naming n_features, as it does for any spectrum narrower than the window")

# Every check that fits the estimator on the generic data (the ones below it does not refuse).
_EVERY_FIT = (*_TWO_COLUMNS, "check_fit_score_takes_y", "check_dont_overwrite_parameters",
              "check_n_features_in_after_fitting", "check_estimators_dtypes", "check_dtype_object",
              "check_pipeline_consistency", "check_estimators_nan_inf", "check_estimators_pickle",
              "check_f_contiguous_array_estimator", "check_transformer_data_not_an_array", "check_transformer_general",
              "check_transformer_preserve_dtypes", "check_methods_sample_order_invariance",
              "check_methods_subset_invariance", "check_fit2d_1sample", "check_fit2d_1feature", "check_dict_unchanged",
              "check_fit2d_predict1d")
_REFLECTANCE = ("the generic data holds zeros even for positive-only estimators (it is shifted to a minimum of 0), "
                "and log10(1/R) and (1-R)^2/2R are undefined at R = 0: the conversion refuses it with ValueError")
_AXIS = ("a wavelength-aware step takes the data's wavelength axis as a parameter (the engine sets it); the generic "
         "checks vary the number of columns under one parameter set, which no axis matches")

_EXEMPTIONS: Mapping[type, Mapping[str, str]] = MappingProxyType({
    **{cls: MappingProxyType(dict.fromkeys(_TWO_COLUMNS, _NARROW))
       for cls in (SavitzkyGolay, GapSegmentDerivative, ARPLS, SNIP, RollingBall, LocalSNV)},
    **{cls: MappingProxyType({**dict.fromkeys(_EVERY_FIT, _REFLECTANCE),
                              "check_transformers_unfitted_stateless": _REFLECTANCE})
       for cls in (ReflectanceToAbsorbance, KubelkaMunk)},
    **{cls: MappingProxyType({**dict.fromkeys(_EVERY_FIT, _AXIS), "check_positive_only_tag_during_fit": _AXIS})
       for cls in (Crop, MaskBands, Resample)},
    YOutliers: MappingProxyType(dict.fromkeys(
        ("check_fit2d_1feature", "check_fit_idempotent", "check_fit_check_is_fitted"),
        "the check fits a y of a few repeated integers, where most rows share one value: its MAD is 0, and "
        "YOutliers (method mad) refuses to judge rows by an undefined scale with a ValueError saying so")),
    EPO: MappingProxyType({
        **dict.fromkeys((*_TWO_COLUMNS, "check_n_features_in_after_fitting", "check_estimators_dtypes",
                         "check_dtype_object", "check_fit2d_1sample", "check_fit2d_1feature",
                         "check_positive_only_tag_during_fit"),
                        "EPO's difference matrix is a parameter on the data's axis; the generic checks vary the number "
                        "of columns under one parameter set, which no difference matrix matches"),
    }),
})


def expected_failed_checks(estimator: object) -> dict[str, str]:
    """The checks (name -> reason) that do not apply to ``estimator``'s class; empty for every other class."""
    return dict(_EXEMPTIONS.get(type(estimator), {}))
