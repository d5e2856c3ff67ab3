"""Synthetic spectra are seeded: same arguments, same bytes; another seed, other data."""

import numpy as np
import pytest

from nirs_core.data.synthetic import synthetic


def test_same_seed_gives_identical_data_and_hash():
    a, b = synthetic(50, 40, seed=7), synthetic(50, 40, seed=7)
    assert a.content_hash == b.content_hash
    assert a.spectra.tobytes() == b.spectra.tobytes()


def test_other_seed_gives_other_data():
    assert synthetic(50, 40, seed=7).content_hash != synthetic(50, 40, seed=8).content_hash


def test_partition_and_target():
    ds = synthetic(100, 30, seed=1, test_fraction=0.25)
    assert ds.rows("train").size == 75 and ds.rows("test").size == 25
    assert np.isfinite(ds.target("y")).all() and ds.target("y").std() > 0


def test_too_small_is_refused():
    with pytest.raises(ValueError, match="at least 2"):
        synthetic(1, 30, seed=0)
