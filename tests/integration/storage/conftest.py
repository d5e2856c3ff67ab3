"""A real S3-compatible server for the object-storage tests: moto in server mode on a free loopback port, started
once per session and stopped at its end; each test gets a bucket of its own and the AWS_* environment of it."""

from __future__ import annotations

import itertools

import pytest
from tests.integration.storage.moto_server import MotoS3, start_moto

_buckets = itertools.count()


@pytest.fixture(scope="session")
def moto_s3() -> MotoS3:
    server = start_moto()
    yield server
    server.stop()


@pytest.fixture
def bucket(moto_s3) -> str:
    return moto_s3.create_bucket(f"nirdag-test-{next(_buckets)}")


@pytest.fixture
def s3_env(moto_s3, monkeypatch) -> dict[str, str]:
    """The server's options as the AWS_* environment variables (what users set); returned as a dict too."""
    for key, value in moto_s3.options.items():
        monkeypatch.setenv(key, value)
    return moto_s3.options
