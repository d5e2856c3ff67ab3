"""Throughput and latency of `nirdag serve`'s predictions: `python -m benchmarks.serve [--clients 16] [--requests
4000] [--seconds 60] [--batch 10000]`.

Goal: >= 500 single-spectrum predictions/s with p99 < 50 ms, and a batch of 10,000 spectra in < 1 s. Runs the
Tecator example (SNV / SG x PLS 1..15, refit of the best) into a temporary workspace, exports the best chain, starts
`nirdag serve` on 127.0.0.1 and a free port (a real subprocess, as deployed), then:

1. single spectra: ``--clients`` keep-alive connections send ``--requests`` JSON requests of one spectrum each in
   total (stopping after ``--seconds`` at the latest); throughput and p50 / p99 / max latency per request. The
   client is a minimal asyncio HTTP/1.1 loop with its bodies made in advance, so it takes little of the machine's
   CPU from the server (both share it).
2. one batch: ``--batch`` spectra in one request, as JSON and as Arrow IPC (median of 3 each, answer as JSON).

Traffic goes to 127.0.0.1 only; every phase is bounded in count and time and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from importlib import resources
from pathlib import Path

import numpy as np
import pyarrow as pa

import nirdag

HOST = "127.0.0.1"
ARROW = "application/vnd.apache.arrow.stream"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _request(path: str, body: bytes, content_type: str) -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: {content_type}\r\nAccept: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n").encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, request: bytes) -> int:
    """Send one request on a keep-alive connection and read its whole answer; returns the status."""
    writer.write(request)
    await writer.drain()
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                  if line.lower().startswith(b"content-length:"))
    await reader.readexactly(length)
    return status


async def _single_spectra(port: int, requests: list[bytes], clients: int, seconds: float) -> dict:
    latencies: list[float] = []
    errors = [0]
    queue = list(reversed(requests))
    deadline = time.monotonic() + seconds

    async def client() -> None:
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            while queue and time.monotonic() < deadline:
                request = queue.pop()
                started = time.perf_counter()
                status = await _exchange(reader, writer, request)
                latencies.append(time.perf_counter() - started)
                errors[0] += status != 200
        finally:
            writer.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    wall = time.perf_counter() - started
    ms = np.asarray(latencies) * 1000
    return {"requests": len(latencies), "errors": errors[0], "seconds": wall,
            "predictions_per_s": len(latencies) / wall, "p50_ms": float(np.percentile(ms, 50)),
            "p99_ms": float(np.percentile(ms, 99)), "max_ms": float(ms.max())}


async def _one(port: int, request: bytes) -> tuple[int, float]:
    reader, writer = await asyncio.open_connection(HOST, port)
    try:
        started = time.perf_counter()
        status = await _exchange(reader, writer, request)
        return status, time.perf_counter() - started
    finally:
        writer.close()


def _batch(port: int, request: bytes, reps: int = 3) -> dict:
    runs = [asyncio.run(_one(port, request)) for _ in range(reps)]
    return {"ok": all(status == 200 for status, _ in runs), "median_s": statistics.median(s for _, s in runs),
            "body_mib": len(request) / 2**20}


def _arrow_body(X: np.ndarray, wavelengths: np.ndarray) -> bytes:
    table = pa.table({"sample_id": pa.array([str(i) for i in range(len(X))]),
                      **{f"{w:g}": X[:, j] for j, w in enumerate(wavelengths)}})
    sink = io.BytesIO()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _serve(workspace: Path, bundle: Path, port: int, log: Path) -> subprocess.Popen:
    server = subprocess.Popen([sys.executable, "-m", "nirdag", "serve", "-w", str(workspace), "--host", HOST,
                               "--port", str(port), "--bundle", f"m={bundle}"], stdout=log.open("w"),
                              stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://{HOST}:{port}/health", timeout=2):
                return server
        except OSError:
            if server.poll() is not None:
                break
            time.sleep(0.2)
    server.kill()
    raise SystemExit(f"nirdag serve did not start: {log.read_text()}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--json", action="store_true", help="Print the figures as one JSON object.")
    args = parser.parse_args(argv)
    os.environ.setdefault("HAMILTON_AUTOLOAD_EXTENSIONS", "0")
    tecator = nirdag.datasets.tecator()
    with tempfile.TemporaryDirectory(prefix="nirdag-bench-serve-") as folder:
        root = Path(folder)
        spec = resources.files("nirdag") / "resources" / "tecator_pls.yaml"
        with resources.as_file(spec) as path:
            run = nirdag.run(path, tecator, workspace=root / "ws", seed=0)
        bundle = nirdag.export(run.workspace, run.run_id, root / "m.nirdag")
        port = _free_port()
        server = _serve(run.workspace, bundle, port, root / "serve.log")
        try:
            rng = np.random.default_rng(0)
            singles = [_request("/predict/m", json.dumps({"spectra": [tecator.spectra[i].tolist()]}).encode(),
                                "application/json") for i in rng.integers(0, tecator.n_samples, args.requests)]
            asyncio.run(_single_spectra(port, singles[:200], args.clients, 30))  # warm-up: caches, allocator
            single = asyncio.run(_single_spectra(port, singles, args.clients, args.seconds))
            X = tecator.spectra[rng.integers(0, tecator.n_samples, args.batch)]
            as_json = _request("/predict/m", json.dumps({"spectra": X.tolist()}).encode(), "application/json")
            as_arrow = _request("/predict/m", _arrow_body(X, tecator.wavelengths), ARROW)
            batch = {"json": _batch(port, as_json), "arrow": _batch(port, as_arrow)}
        finally:
            server.terminate()
            server.wait(timeout=30)
    figures = {"cpus": os.cpu_count(), "clients": args.clients, "single": single, "batch_spectra": args.batch,
               "batch": batch}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        s = single
        print(f"single spectrum, {args.clients} clients: {s['requests']} requests in {s['seconds']:.2f} s = "
              f"{s['predictions_per_s']:.0f} predictions/s; p50 {s['p50_ms']:.1f} ms, p99 {s['p99_ms']:.1f} ms, "
              f"max {s['max_ms']:.1f} ms; {s['errors']} errors  (goal >= 500/s at p99 < 50 ms)")
        for kind, b in batch.items():
            print(f"batch of {args.batch} spectra as {kind} ({b['body_mib']:.1f} MiB): {b['median_s']:.3f} s "
                  f"(median of 3; {'ok' if b['ok'] else 'FAILED'})  (goal < 1 s)")
    return 0 if single["errors"] == 0 and all(b["ok"] for b in batch.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
