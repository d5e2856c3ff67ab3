"""Wavelet denoising and DWT features: equal to a re-derivation with PyWavelets' primitives and to the coefficients
of pywt.wavedec; reconstruction is exact without thresholding; levels too deep for the width are refused."""

from __future__ import annotations

import numpy as np
import pytest
import pywt

from nirs_core.data import tecator
from nirs_core.operators import DWTFeatures, WaveletDenoise
from relspec import CompileError
from relspec.compile import compile_plan
from relspec.spec import decode_spec

X = np.array(tecator().spectra[:5])  # a writable copy: PyWavelets refuses read-only buffers


def _visushrink(x: np.ndarray, wavelet: str, level: int, mode: str) -> np.ndarray:
    """Donoho & Johnstone (1994) written out: sigma from the finest details' MAD, threshold sigma sqrt(2 ln n)."""
    coeffs = pywt.wavedec(x, wavelet, level=level, mode="symmetric")
    sigma = np.median(np.abs(coeffs[-1])) / 0.6745
    thr = sigma * np.sqrt(2 * np.log(x.size))
    shrunk = [coeffs[0]]
    for d in coeffs[1:]:
        shrunk.append(np.sign(d) * np.maximum(np.abs(d) - thr, 0) if mode == "soft" else np.where(np.abs(d) > thr,
                                                                                                 d, 0.0))
    return pywt.waverec(shrunk, wavelet, mode="symmetric")[:x.size]


@pytest.mark.parametrize(("wavelet", "level", "mode"), [("db4", 3, "soft"), ("sym8", 2, "hard"), ("haar", 5, "soft")])
def test_denoising_equals_visushrink_written_out(wavelet, level, mode):
    noisy = X + np.random.default_rng(1).normal(scale=1e-3, size=X.shape)
    expected = np.vstack([_visushrink(x, wavelet, level, mode) for x in noisy])
    got = WaveletDenoise(wavelet=wavelet, level=level, mode=mode).fit_transform(noisy)
    assert np.abs(got - expected).max() < 1e-12


def test_a_noiseless_smooth_spectrum_comes_back_almost_unchanged():
    t = np.linspace(0, 1, 200)
    smooth = np.exp(-((t - 0.4) / 0.2) ** 2)[None, :]
    assert np.abs(WaveletDenoise(wavelet="sym8", level=3).fit_transform(smooth) - smooth).max() < 1e-3


def test_dwt_features_are_the_wavedec_coefficients_in_order():
    dwt = DWTFeatures(wavelet="db2", level=3).fit(X)
    expected = np.vstack([np.concatenate(pywt.wavedec(x, "db2", level=3, mode="symmetric")) for x in X])
    assert np.array_equal(dwt.transform(X), expected)
    assert dwt.coefficient_sizes_ == [c.size for c in pywt.wavedec(X[0], "db2", level=3)]
    assert np.array_equal(dwt.wavelengths_out_, np.arange(expected.shape[1], dtype=float))
    rebuilt = pywt.waverec(np.split(dwt.transform(X)[0], np.cumsum(dwt.coefficient_sizes_)[:-1]), "db2")
    assert np.abs(rebuilt[:X.shape[1]] - X[0]).max() < 1e-10  # nothing is lost


@pytest.mark.parametrize("cls", [WaveletDenoise, DWTFeatures])
def test_a_level_too_deep_for_the_width_is_refused(cls):
    with pytest.raises(ValueError, match=r"level=9 is too deep for 100 columns with wavelet 'db4': at most 3"):
        cls(wavelet="db4", level=9).fit(X)
    with pytest.raises(ValueError, match="wavelet must be"):
        cls(wavelet="db99").fit(X)


def test_read_only_spectra_are_transformed():
    view = tecator().spectra[:3]
    assert not view.flags.writeable
    assert np.array_equal(DWTFeatures().fit(view).transform(view), DWTFeatures().fit(X[:3]).transform(X[:3]))


def test_wavelet_steps_compile_hoisted_and_dwt_changes_the_width():
    spec = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "wavelet_denoise", "wavelet": "sym4"},
        {"op": "dwt_features", "wavelet": "haar", "level": 2}, {"model": {"op": "pls", "n_components": 3}}]})
    plan = compile_plan(spec, tecator().schema())
    assert [h.step.op for h in plan.hoisted] == ["wavelet_denoise", "dwt_features"]


def test_a_wavelength_aware_step_after_dwt_features_is_refused():
    spec = decode_spec({"target": "fat", "pipeline": [
        {"split": {"kind": "kfold", "n_splits": 3}}, {"op": "dwt_features"}, {"op": "crop", "start": 900, "stop": 1000},
        {"model": {"op": "pls", "n_components": 3}}]})
    with pytest.raises(CompileError, match=r"after dwt_features the columns are its features, not wavelengths - at "
                                           r"`\$\.pipeline\[2\]`"):
        compile_plan(spec, tecator().schema())


def test_a_row_without_measured_noise_is_returned_unchanged():
    rows = np.vstack([np.zeros(64), np.linspace(0, 1, 64) ** 0])
    assert np.array_equal(WaveletDenoise(wavelet="haar").fit_transform(rows), rows)
