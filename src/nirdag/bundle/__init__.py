"""nirdag.bundle: fitted artifacts of runs, signed bundles of a chain, and prediction on new spectra.

No pickle anywhere: fitted objects are skops files loaded through an allow-list, and a bundle is verified (manifest
digest or HMAC signature, member hashes) before any of its objects is loaded.
"""

from nirdag.bundle.archive import LoadedBundle, read_bundle
from nirdag.bundle.errors import BundleError, SpectraMismatchError, TamperedBundleError, UntrustedTypeError
from nirdag.bundle.export import chain_facts, export_chain, workspace_chain
from nirdag.bundle.fitted import FittedChain, FittedStage
from nirdag.bundle.predict import predict_chain

__all__ = [
    "BundleError", "FittedChain", "FittedStage", "LoadedBundle", "SpectraMismatchError", "TamperedBundleError",
    "UntrustedTypeError", "chain_facts", "export_chain", "predict_chain", "read_bundle", "workspace_chain",
]
