"""A bounded load test of `nirdag serve` on 127.0.0.1 only: 16 concurrent clients, each sending a fixed number of
single-spectrum and 100-spectrum predict requests under a fixed time cap (the test stops by itself); no error, and
every answer equals `nirdag.predict` of the same spectra."""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlsplit

import numpy as np
from tests.integration.conftest import require_serve_extra

import nirdag
from nirdag.bundle import read_bundle

CLIENTS = 16
REQUESTS_PER_CLIENT = 24  # half single-spectrum, half 100-spectrum
TIME_CAP = 180.0  # seconds for the whole test; requests left when it passes are counted as errors


def _payloads(tecator) -> list[tuple[bytes, list[dict]]]:
    """Request bodies (single spectra and batches of 100, rows cycling through Tecator) and their expected rows."""
    rng = np.random.default_rng(0)
    out = []
    for n in (1, 100):
        for _ in range(6):
            rows = rng.choice(tecator.n_samples, size=n, replace=False)
            X, ids = tecator.spectra[rows], [str(tecator.sample_ids[i]) for i in rows]
            out.append((json.dumps({"spectra": X.tolist(), "sample_ids": ids}).encode(), (X, ids)))
    return out


def test_sixteen_clients_get_the_predictions_of_nirdag_predict_without_error(live_server, tecator, tecator_bundle):
    require_serve_extra()
    import httpx

    assert urlsplit(live_server).hostname == "127.0.0.1"
    model = read_bundle(tecator_bundle)
    payloads = [(body, nirdag.predict(model, X, sample_ids=ids).to_pylist()) for body, (X, ids) in _payloads(tecator)]
    deadline = time.monotonic() + TIME_CAP
    errors: list[str] = []
    answered = [0]
    lock = threading.Lock()

    def client(k: int) -> None:
        with httpx.Client(base_url=live_server, timeout=30.0) as http:
            for i in range(REQUESTS_PER_CLIENT):
                if time.monotonic() > deadline:
                    with lock:
                        errors.append(f"client {k}: time cap reached before request {i}")
                    return
                body, expected = payloads[(k + i) % len(payloads)]
                answer = http.post("/predict/tecator", content=body, headers={"Content-Type": "application/json"})
                with lock:
                    if answer.status_code != 200:
                        errors.append(f"client {k} request {i}: {answer.status_code} {answer.text[:200]}")
                    elif answer.json()["predictions"] != expected:
                        errors.append(f"client {k} request {i}: predictions differ from nirdag.predict")
                    else:
                        answered[0] += 1

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        list(pool.map(client, range(CLIENTS)))
    seconds = time.perf_counter() - started
    assert errors == []
    assert answered[0] == CLIENTS * REQUESTS_PER_CLIENT
    print(f"{answered[0]} requests from {CLIENTS} clients in {seconds:.2f} s")
    metrics = httpx.get(f"{live_server}/metrics").text
    assert 'nirdag_http_requests_total{method="POST",route="/predict/{bundle}",status="200"}' in metrics
