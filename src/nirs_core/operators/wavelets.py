"""Discrete wavelet transforms through PyWavelets: wavelet denoising and DWT coefficients as features.

Both transform each spectrum alone (row-wise stateless: computed once above the folds) with PyWavelets'
``wavedec`` over column positions, with symmetric signal extension (``mode="symmetric"``, PyWavelets' default).
"""

from __future__ import annotations

from types import MappingProxyType
from typing import ClassVar

import numpy as np
import pywt
from sklearn.utils.validation import check_is_fitted, validate_data

from nirs_core.operators.base import OperatorTraits
from nirs_core.operators.derivative import _RowWise
from nirs_core.operators.params import Param

# Every discrete wavelet PyWavelets knows ('db4', 'sym8', 'coif3', 'haar', 'bior2.2'...).
WAVELETS: tuple[str, ...] = tuple(pywt.wavelist(kind="discrete"))
_WAVELET = Param(str, options=WAVELETS)
_EXTENSION = "symmetric"


def _check_level(owner: str, wavelet: str, level: int, n_features: int) -> None:
    most = pywt.dwt_max_level(n_features, pywt.Wavelet(wavelet).dec_len)
    if level > most:
        raise ValueError(f"{owner}: level={level} is too deep for {n_features} columns with wavelet {wavelet!r}: at "
                         f"most {most} (pywt.dwt_max_level; n_features={n_features})")


def _wavedec(X: np.ndarray, wavelet: str, level: int) -> list[np.ndarray]:
    # PyWavelets' Cython code refuses read-only buffers (spectra views are read-only): copy those only
    return pywt.wavedec(np.require(X, requirements="W"), wavelet, level=level, mode=_EXTENSION, axis=1)


def universal_threshold(finest_detail: np.ndarray, n_features: int) -> float:
    """Donoho & Johnstone's universal threshold ``sigma sqrt(2 ln n)``, the noise ``sigma`` estimated as the median
    absolute finest-scale detail coefficient over 0.6745 (the MAD of Gaussian noise)."""
    sigma = float(np.median(np.abs(finest_detail))) / 0.6745
    return sigma * float(np.sqrt(2.0 * np.log(n_features)))


class WaveletDenoise(_RowWise):
    """Wavelet shrinkage denoising (VisuShrink; Donoho & Johnstone 1994) of each spectrum.

    D. L. Donoho & I. M. Johnstone, "Ideal spatial adaptation by wavelet shrinkage", Biometrika 81 (1994)
    425-455. Each spectrum is decomposed with ``pywt.wavedec(x, wavelet, level=level, mode="symmetric")``; every
    detail coefficient is thresholded (``pywt.threshold``, ``mode`` soft or hard) at the universal threshold
    ``sigma sqrt(2 ln n)``, sigma = median(|finest details|) / 0.6745 of that spectrum; the approximation is kept,
    and ``pywt.waverec`` rebuilds the spectrum (cut to its width).

    Parameters
    ----------
    wavelet : str, default='db4'
        A discrete wavelet of PyWavelets (``pywt.wavelist(kind="discrete")``: 'db4', 'sym8', 'coif3', 'haar'...).
    level : int, default=2
        Decomposition levels, >= 1 and at most ``pywt.dwt_max_level`` for the width and the wavelet.
    mode : {'soft', 'hard'}, default='soft'
        Soft thresholding shrinks every detail towards zero by the threshold; hard only zeroes those below it.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import WaveletDenoise
    >>> t = np.linspace(0.0, 1.0, 256)
    >>> clean = np.sin(2 * np.pi * t)
    >>> noisy = clean + np.random.default_rng(0).normal(scale=0.1, size=t.size)
    >>> denoised = WaveletDenoise(wavelet="sym8", level=4).fit_transform(noisy[None, :])[0]
    >>> rms = lambda e: float(np.sqrt(np.mean(e ** 2)))
    >>> round(rms(noisy - clean), 3), round(rms(denoised - clean), 3)  # most of the noise is gone
    (0.101, 0.029)
    """

    spec_name = "wavelet_denoise"
    parameter_constraints = MappingProxyType({
        "wavelet": _WAVELET,
        "level": Param(int, ge=1),
        "mode": Param(str, options=("soft", "hard")),
    })

    def __init__(self, wavelet: str = "db4", level: int = 2, mode: str = "soft"):
        self.wavelet = wavelet
        self.level = level
        self.mode = mode

    def _check_relations(self, n_features: int) -> None:
        _check_level("WaveletDenoise", self.wavelet, self.level, n_features)

    def _apply(self, X: np.ndarray) -> np.ndarray:
        n = X.shape[1]
        coeffs = _wavedec(X, self.wavelet, int(self.level))
        out = np.empty_like(X)
        for row in range(X.shape[0]):  # each spectrum has its own noise level, so its own threshold
            threshold = universal_threshold(coeffs[-1][row], n)
            if threshold <= 0:  # no noise measured (e.g. a flat row): nothing to shrink (and 0/0 in pywt.threshold)
                out[row] = X[row]
                continue
            kept = [coeffs[0][row], *(pywt.threshold(d[row], threshold, mode=self.mode) for d in coeffs[1:])]
            out[row] = pywt.waverec(kept, self.wavelet, mode=_EXTENSION)[:n]
        return out


class DWTFeatures(_RowWise):
    """The discrete wavelet coefficients of each spectrum as its features (a multilevel DWT, Mallat 1989).

    S. G. Mallat, "A theory for multiresolution signal decomposition: the wavelet representation", IEEE Trans.
    Pattern Anal. Mach. Intell. 11 (1989) 674-693. The output row is ``pywt.wavedec(x, wavelet, level=level,
    mode="symmetric")`` concatenated: the approximation ``cA_level`` first, then the details from the coarsest
    ``cD_level`` to the finest ``cD_1``. The columns are coefficients, not wavelengths: ``wavelengths_out_`` is
    their index, and a wavelength-aware step cannot follow.

    Parameters
    ----------
    wavelet : str, default='db4'
        A discrete wavelet of PyWavelets (``pywt.wavelist(kind="discrete")``).
    level : int, default=2
        Decomposition levels, >= 1 and at most ``pywt.dwt_max_level`` for the width and the wavelet.

    Attributes
    ----------
    n_features_in_ : int
        Number of wavelengths seen at fit.
    coefficient_sizes_ : list of int
        Number of coefficients of each block (``cA_level``, ``cD_level`` .. ``cD_1``).
    wavelengths_out_ : ndarray of shape (n_coefficients,)
        0, 1, ... n_coefficients - 1: the output columns' index.

    Examples
    --------
    >>> import numpy as np
    >>> from nirs_core.operators import DWTFeatures
    >>> dwt = DWTFeatures(wavelet="haar", level=2).fit(np.zeros((1, 8)))
    >>> dwt.coefficient_sizes_  # cA2, cD2, cD1
    [2, 2, 4]
    >>> dwt.transform(np.arange(8.0)[None, :]).round(2)
    array([[ 3.  , 11.  , -2.  , -2.  , -0.71, -0.71, -0.71, -0.71]])
    """

    spec_name = "dwt_features"
    traits: ClassVar[OperatorTraits] = OperatorTraits(row_wise_stateless=True, changes_axis=True)
    parameter_constraints = MappingProxyType({
        "wavelet": _WAVELET,
        "level": Param(int, ge=1),
    })

    def __init__(self, wavelet: str = "db4", level: int = 2):
        self.wavelet = wavelet
        self.level = level

    def fit(self, X, y=None):
        super().fit(X, y)
        self.coefficient_sizes_ = [int(c.shape[1]) for c in self._coefficients(np.zeros((1, self.n_features_in_)))]
        self.wavelengths_out_ = np.arange(sum(self.coefficient_sizes_), dtype=np.float64)
        return self

    def transform(self, X):
        check_is_fitted(self, "coefficient_sizes_")
        X = validate_data(self, X, dtype=np.float64, reset=False)
        self._validate(X.shape[1])
        return self._apply(X)

    def _check_relations(self, n_features: int) -> None:
        _check_level("DWTFeatures", self.wavelet, self.level, n_features)

    def _coefficients(self, X: np.ndarray) -> list[np.ndarray]:
        return _wavedec(X, self.wavelet, int(self.level))

    def _apply(self, X: np.ndarray) -> np.ndarray:
        return np.hstack(self._coefficients(X))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True  # the output width is decided at fit
        return tags
