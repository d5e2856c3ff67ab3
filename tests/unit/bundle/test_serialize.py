"""skops serialisation: canonical bytes, the allow-list, and refusal of pickles and foreign files."""

from __future__ import annotations

import hashlib
import pickle
import subprocess
import sys

import numpy as np
import pytest
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.ensemble import RandomForestRegressor
from sklearn.linear_model import Ridge

from nirdag.bundle import serialize
from nirdag.bundle.errors import BundleError, UntrustedTypeError
from nirs_core import operators as ops

RNG = np.random.default_rng(0)
X = RNG.uniform(0.1, 0.9, size=(40, 30))
Y = X[:, 3] * 2 + RNG.normal(scale=0.01, size=40)
AXIS = np.linspace(1000.0, 1290.0, 30)


class Foreign(TransformerMixin, BaseEstimator):
    """A transformer nirdag does not know: never loaded from a file."""

    def fit(self, X, y=None):
        self.scale_ = np.ones(np.asarray(X).shape[1])
        return self

    def transform(self, X):
        return np.asarray(X) * self.scale_


@pytest.mark.parametrize("fitted", [
    ops.PLSSweep(5).fit(X, Y), ops.PCR(4).fit(X, Y), ops.MSC().fit(X), ops.SavitzkyGolay(7, 2, 1).fit(X),
    ops.Crop(1050, 1200, wavelengths=list(AXIS)).fit(X), ops.OSC().fit(X, Y), Ridge(alpha=0.1).fit(X, Y),
    RandomForestRegressor(n_estimators=2, random_state=0).fit(X, Y),
], ids=lambda o: type(o).__name__)
def test_fitted_objects_round_trip_exactly(fitted):
    back = serialize.loads(serialize.dumps(fitted), "test object")
    method = "predict" if hasattr(fitted, "predict") else "transform"
    np.testing.assert_array_equal(getattr(back, method)(X), getattr(fitted, method)(X))


def test_equal_objects_give_equal_bytes_in_another_process():
    code = ("import numpy as np, hashlib; from nirs_core import operators as ops; from nirdag.bundle import serialize; "
            "X = np.random.default_rng(0).uniform(0.1, 0.9, size=(40, 30)); "
            "print(hashlib.sha256(serialize.dumps(ops.MSC().fit(X))).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == hashlib.sha256(serialize.dumps(ops.MSC().fit(X))).hexdigest()
    assert serialize.dumps(ops.MSC().fit(X)) == serialize.dumps(ops.MSC().fit(X))


def test_an_untrusted_type_is_refused_with_the_type_list():
    data = serialize.dumps(Foreign().fit(X))
    with pytest.raises(UntrustedTypeError, match=r"untrusted types \['.*test_serialize\.Foreign'\]"):
        serialize.loads(data, "member objects/x.skops")


def test_a_pickle_is_refused_without_being_unpickled():
    data = pickle.dumps(ops.SNV().fit(X))
    with pytest.raises(UntrustedTypeError, match="pickle stream; pickled objects are refused"):
        serialize.loads(data, "member objects/x.skops")


@pytest.mark.parametrize("data", [b"", b"hello", b"PK\x03\x04garbage"])
def test_bytes_that_are_not_a_skops_file_are_refused(data):
    with pytest.raises(BundleError, match="member m"):
        serialize.loads(data, "member m")


def test_the_allow_list_names_every_operator_model_and_transform():
    assert "nirs_core.operators.pls.PLSSweep" in serialize.TRUSTED_TYPES
    assert "nirs_core.operators.wavelength.Resample" in serialize.TRUSTED_TYPES
    assert not any("Foreign" in t for t in serialize.TRUSTED_TYPES)
