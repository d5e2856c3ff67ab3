"""nirs_core: the ground floor of nirdag — spectral data and loaders, chemometric operators, metrics, the root error.

It imports nothing of nirdag's other packages; every package above it may import it. A scikit-learn user takes the
operators from :mod:`nirs_core.operators` (``from nirs_core.operators import SNV, SavitzkyGolay, PLSSweep``).
"""
