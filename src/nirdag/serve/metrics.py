"""The server's Prometheus metrics, on a registry of its own (never prometheus-client's global one): requests by
route and status, a latency histogram by route, predictions by bundle."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

# Latency buckets in seconds: a single-spectrum prediction takes about a millisecond, a report a few seconds.
_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServeMetrics:
    """Counters and a histogram for one app. ``route`` is the route's template (``/runs/{run}``), never the
    path asked for, so the label set stays bounded."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("nirdag_http_requests", "HTTP requests answered", ["method", "route", "status"],
                                registry=self.registry)
        self.latency = Histogram("nirdag_http_request_duration_seconds", "Time to answer a request",
                                 ["route"], buckets=_BUCKETS, registry=self.registry)
        self.predictions = Counter("nirdag_predictions", "Spectra predicted", ["bundle"], registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(route).observe(seconds)

    def predicted(self, bundle: str, n_spectra: int) -> None:
        self.predictions.labels(bundle).inc(n_spectra)

    def text(self) -> bytes:
        """The Prometheus text exposition of every metric."""
        return generate_latest(self.registry)
