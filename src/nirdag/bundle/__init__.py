"""nirdag.bundle: fitted artifacts of runs, signed bundles of a chain, and prediction on new spectra.

No pickle anywhere: fitted objects are skops files loaded through an allow-list, and a bundle is verified (manifest
digest or HMAC signature, member hashes) before any of its objects is loaded. Importing this package loads no engine
(the workspace side lives in ``nirdag.bundle.artifacts`` and ``nirdag.bundle.export``).
"""

from nirdag.bundle.archive import LoadedBundle, read_bundle
from nirdag.bundle.errors import BundleError, SpectraMismatchError, TamperedBundleError, UntrustedTypeError
from nirdag.bundle.fitted import FittedChain, FittedStage
from nirdag.bundle.limits import DEFAULT_LIMITS, BundleLimits
from nirdag.bundle.predict import DomainReport, domain_report, predict, predict_chain, wide_predictions

__all__ = [
    "DEFAULT_LIMITS", "BundleError", "BundleLimits", "DomainReport", "FittedChain", "FittedStage", "LoadedBundle",
    "SpectraMismatchError", "TamperedBundleError", "UntrustedTypeError", "domain_report", "predict", "predict_chain",
    "read_bundle", "wide_predictions",
]
