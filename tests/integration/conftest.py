"""Shared fixtures: one real run of the Tecator example into a temporary workspace (real Hamilton, Delta, SQL),
Tecator with a label target for classification runs, a headless chromium (selenium through the system binaries),
and a live `nirdag serve` on 127.0.0.1 with the run's best chain as a bundle."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

import nirdag
from nirdag.api import RunResult
from nirs_core.data import SpectraDataset

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "tecator_pls.yaml"


@pytest.fixture(scope="session")
def tecator():
    return nirdag.datasets.tecator()


@pytest.fixture(scope="session")
def tecator_run(tmp_path_factory, tecator) -> RunResult:
    workspace = tmp_path_factory.mktemp("ws") / "workspace"
    return nirdag.run(EXAMPLE, tecator, workspace=workspace, seed=0)


@pytest.fixture(scope="session")
def labelled(tecator) -> SpectraDataset:
    """Tecator with a label target `grade` (fat terciles of the train rows: low, mid, high), numeric `fat` and
    Tecator's metadata."""
    fat = tecator.target("fat")
    cuts = np.quantile(fat[tecator.rows("train")], [1 / 3, 2 / 3])
    grade = np.where(fat <= cuts[0], "low", np.where(fat <= cuts[1], "mid", "high"))
    return SpectraDataset(name="tecator_graded", sample_ids=tecator.sample_ids, spectra=tecator.spectra,
                          wavelengths=tecator.wavelengths, wavelength_unit="nm", partition=tecator.partition,
                          targets={"grade": grade, "fat": fat},
                          metadata={c: tecator.metadata[c] for c in tecator.metadata.column_names})


@pytest.fixture(scope="session")
def example_spec() -> Path:
    return EXAMPLE


CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--window-size=1280,1600")


@pytest.fixture
def browser(tmp_path):
    """Debian's chromium driven by selenium through the system chromedriver (nothing downloaded). Skipped when
    chromium is not installed, except under CI=true, where a missing browser fails the test (scripts/setup.sh dev
    installs it)."""
    if CHROMIUM is None or CHROMEDRIVER is None:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium and chromedriver are required under CI=true (apt-get install chromium "
                        "chromium-driver; scripts/setup.sh dev does it as root)")
        pytest.skip("chromium/chromedriver not installed (apt-get install chromium chromium-driver)")
    if os.environ.get("CI") != "true":
        pytest.importorskip("selenium.webdriver")
    from selenium import webdriver  # a dev dependency: under CI=true its absence fails the test
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'chromium-profile'}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def require_serve_extra() -> None:
    """Skip without the serve extra (FastAPI, uvicorn, prometheus-client), except under CI=true, where
    scripts/setup.sh dev installs it and its absence fails."""
    if os.environ.get("CI") != "true":
        for module in ("fastapi", "uvicorn", "prometheus_client", "httpx"):
            pytest.importorskip(module)


@pytest.fixture(scope="session")
def tecator_bundle(tecator_run, tmp_path_factory) -> Path:
    """The best refit chain of the Tecator run, exported as a bundle (unsigned)."""
    return nirdag.export(tecator_run.workspace, tecator_run.run_id, tmp_path_factory.mktemp("bundle") / "m.nirdag")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def live_server(tecator_run, tecator_bundle, tmp_path_factory):
    """A real `nirdag serve` subprocess on 127.0.0.1 and a free port, serving the Tecator run's workspace and its
    bundle as ``tecator``; yields the base URL and is stopped (SIGTERM, then SIGKILL) after the session."""
    require_serve_extra()
    port = free_port()
    log = (tmp_path_factory.mktemp("serve") / "serve.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "nirdag", "serve", "-w", str(tecator_run.workspace), "--host", "127.0.0.1",
         "--port", str(port), "--bundle", f"tecator={tecator_bundle}"], stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=2) as answer:
                    if answer.status == 200:
                        break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"nirdag serve did not start; its log: {Path(log.name).read_text()}") from None
                time.sleep(0.2)
        yield base
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.close()
