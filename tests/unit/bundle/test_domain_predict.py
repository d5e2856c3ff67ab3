"""A fitted chain judges new spectra against its applicability domain: the numbers are sample_statistics' of the
spectra its model sees, predictions are unchanged, and a chain without a domain says why."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest
from sklearn.linear_model import Ridge

from nirdag.bundle import BundleError, FittedChain, FittedStage, domain_report, predict_chain, wide_predictions
from nirdag.bundle.predict import DOMAIN_ABSENT_KEY
from nirs_core.data import tecator
from nirs_core.diagnostics import fit_domain, latent_of, sample_statistics
from nirs_core.operators import PLSDA, SNV, PLSSweep

K = 6


@pytest.fixture(scope="module")
def data():
    ds = tecator()
    return ds, ds.spectra[:150], ds.targets["fat"][:150], ds.spectra[150:]


def _chain(ds, model, steps=(), domain=None, n_components=K, **extra) -> FittedChain:
    return FittedChain(chain_id="c" * 64, targets=("fat",), wavelengths=ds.wavelengths, wavelength_unit="nm",
                       n_components=n_components, stages=(FittedStage("fold_final", tuple(steps), model),),
                       domain=domain, **extra)


@pytest.fixture(scope="module")
def judged(data):
    """SNV + PLS fitted on the first 150 spectra, its domain from those (as the engine fits it)."""
    ds, X, y, _ = data
    snv = SNV().fit(X)
    pls = PLSSweep(n_components=10).fit(snv.transform(X), y)
    domain = fit_domain(latent_of(pls, K), snv.transform(X))
    return _chain(ds, pls, [snv], domain), snv, pls, domain


def test_the_domain_columns_are_sample_statistics_of_the_transformed_spectra(judged, data):
    chain, snv, pls, domain = judged
    Xnew = data[3]
    table = predict_chain(chain, Xnew)
    expected = sample_statistics(latent_of(pls, K), domain, snv.transform(Xnew), calibration=False)
    for name in ("t2", "q", "t2_ratio", "q_ratio"):
        np.testing.assert_array_equal(np.asarray(table.column(name).to_pylist()), expected[name], err_msg=name)
    assert table.column("domain").to_pylist() == expected["domain"].tolist()
    assert table.schema.metadata is None  # judged: nothing to explain


def test_predictions_are_bit_identical_with_or_without_a_domain(judged, data):
    chain, *_ = judged
    Xnew = data[3]
    bare = dataclasses.replace(chain, domain=None)
    assert np.array_equal(predict_chain(chain, Xnew).column("y_pred"), predict_chain(bare, Xnew).column("y_pred"))
    assert np.array_equal(chain.predict(Xnew)["y_pred"], chain.final.predict(Xnew, K))


def test_a_sloped_baseline_makes_a_spectrum_an_outlier(judged, data):
    chain, *_ = judged
    Xnew = data[3]
    shifted = Xnew[:1] + np.linspace(0, 1, Xnew.shape[1])
    verdicts = predict_chain(chain, np.vstack([Xnew, shifted])).column("domain").to_pylist()
    assert verdicts[-1] == "outlier"
    assert sum(v != "outlier" for v in verdicts[:-1]) >= 0.9 * Xnew.shape[0]


def test_a_domain_of_another_count_or_on_a_model_without_latent_structure_is_refused(judged, data):
    _, snv, pls, domain = judged
    ds, X, y, _ = data
    with pytest.raises(BundleError, match=r"domain has k=6 \(6 score variances\), its model 4 components"):
        _chain(ds, pls, [snv], domain, n_components=4)
    with pytest.raises(BundleError, match=r"its fitted model \(Ridge\) has no latent structure"):
        _chain(ds, Ridge().fit(X, y), [], domain, n_components=None)


def test_without_a_domain_the_columns_are_null_and_the_metadata_says_why(judged, data):
    _, snv, pls, _ = judged
    ds, X, y, Xnew = data
    old = _chain(ds, pls, [snv], domain_note="the bundle was written before nirdag carried applicability domains")
    ridge = _chain(ds, Ridge().fit(X, y), n_components=None)
    for fitted, why in ((old, "written before nirdag carried"), (ridge, r"\(Ridge\) is not a latent-variable")):
        table = predict_chain(fitted, Xnew)
        assert all(table.column(c).null_count == table.num_rows for c in ("t2", "q", "t2_ratio", "q_ratio", "domain"))
        report = domain_report(table)
        assert report.absent is not None and re.search(why, report.absent)
        assert table.schema.metadata[DOMAIN_ABSENT_KEY].decode() == report.absent


def test_a_stacked_chain_carries_no_domain(judged, data):
    chain, _, _, domain = judged
    ds, X, y, _ = data
    meta = Ridge().fit(chain.final.predict(X, K), y)
    base = dataclasses.replace(chain, domain=None)
    stack = _chain(ds, meta, n_components=None, bases=(base,))
    assert "stacked chain" in stack.domain_absence()
    with pytest.raises(BundleError, match="no latent structure"):
        _chain(ds, meta, domain=domain, n_components=None, bases=(base,))


def test_a_plsda_chain_is_judged_and_predicts_labels(data):
    ds, X, y, Xnew = data
    codes = np.where(y > np.median(y), 1.0, 0.0)  # the engine fits a classifier on class codes
    snv = SNV().fit(X)
    model = PLSDA(n_components=5).fit(snv.transform(X), codes)
    domain = fit_domain(latent_of(model, 3), snv.transform(X))
    chain = _chain(ds, model, [snv], domain, n_components=3, classes=("lean", "fat"))
    table = predict_chain(chain, Xnew)
    assert set(table.column("y_pred").to_pylist()) <= {"fat", "lean"}
    assert table.column("domain").null_count == 0 and table.column("t2").null_count == 0


def test_wide_predictions_keep_one_copy_of_the_domain_columns_and_the_report_counts_spectra(data):
    ds, X, _, Xnew = data
    Y = np.column_stack([ds.targets["fat"][:150], ds.targets["moisture"][:150]])
    snv = SNV().fit(X)
    pls2 = PLSSweep(n_components=K).fit(snv.transform(X), Y)
    domain = fit_domain(latent_of(pls2, K), snv.transform(X))
    two = dataclasses.replace(_chain(ds, pls2, [snv], domain), targets=("fat", "moisture"))
    long = predict_chain(two, Xnew)
    assert long.num_rows == 2 * Xnew.shape[0]
    first, second = long.slice(0, Xnew.shape[0]), long.slice(Xnew.shape[0])
    assert first.column("t2").equals(second.column("t2")) and first.column("domain").equals(second.column("domain"))
    wide = wide_predictions(long)
    assert wide.column_names == ["sample_id", "fat", "moisture", "t2", "q", "t2_ratio", "q_ratio", "domain"]
    assert wide.column("domain").equals(first.column("domain"))
    report = domain_report(long)
    assert report == domain_report(wide) and report.n_spectra == Xnew.shape[0]
    assert sum(report.counts.values()) == Xnew.shape[0]
    assert report.at_or_beyond("extreme") == report.counts["extreme"] + report.counts["outlier"]
    assert report.at_or_beyond("outlier") == report.counts["outlier"]
    assert [v for _, v in report.flagged] == [v for v in first.column("domain").to_pylist() if v != "regular"]


class _Counting(SNV):
    """SNV that counts its transform calls."""

    def transform(self, X):
        self.calls_ = getattr(self, "calls_", 0) + 1
        return super().transform(X)


def test_the_spectra_go_through_the_transformers_once_to_be_predicted_and_judged(judged, data):
    chain, _, pls, _ = judged
    counting = _Counting().fit(data[1])
    predict_chain(dataclasses.replace(chain, stages=(FittedStage("fold_final", (counting,), pls),)), data[3])
    assert counting.calls_ == 1
