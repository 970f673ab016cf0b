"""The service's metrics in the Prometheus text format (prometheus-client).

Counters and histograms are kept by each process; with gunicorn's workers and the rq workers,
``PROMETHEUS_MULTIPROC_DIR`` (an empty folder, the same for all processes of a node) makes the
library write them to files that ``/metrics`` sums (its multi-process mode). What is a state
rather than a count (jobs queued, media stuck) is read when ``/metrics`` is scraped.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
UNMATCHED = "unmatched"  # the endpoint label of a URL no route has (404s): one series, not one per URL

REQUESTS = Counter(
    "signal93_http_requests", "HTTP requests answered, by endpoint, method and status", ["endpoint", "method", "status"]
)
LATENCY = Histogram(
    "signal93_http_request_duration_seconds",
    "Time to answer an HTTP request, by endpoint",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
REPORTS = Counter("signal93_reports_received", "Reports received, by program and channel", ["program", "channel"])
SANDBOX_CALLS = Counter("signal93_sandbox_calls", "Sandbox API calls answered, by team", ["team"])


_children: dict[tuple[str | None, str, int], tuple[Any, Any]] = {}


def observe_request(endpoint: str | None, method: str, status: int, seconds: float) -> None:
    """Count a request and its time (on every request: the labelled series are looked up once)."""
    series = _children.get((endpoint, method, status))
    if series is None:
        name = endpoint or UNMATCHED
        series = _children[(endpoint, method, status)] = (
            REQUESTS.labels(name, method, str(status)),
            LATENCY.labels(name),
        )
    series[0].inc()
    series[1].observe(seconds)


def allowed(remote_addr: str | None, bearer: str | None, networks: Iterable[str], token: str | None) -> bool:
    """Whether a scraper may read the metrics: its bearer token, or its address in a network."""
    if token and bearer and hmac.compare_digest(bearer.encode(), token.encode()):
        return True
    try:
        address = ipaddress.ip_address(remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in networks)


def exposition(live: Callable[[], Iterable[tuple[str, str, list[str], list[tuple[list[str], float]]]]]) -> bytes:
    """Every metric as the text format has it: this process's (or, in multi-process mode, every
    process's) counters, then the states ``live()`` reads now — ``(name, help, labels, samples)``."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        counted = generate_latest(registry)
    else:
        counted = generate_latest(REGISTRY)
    states = CollectorRegistry()
    states.register(_States(live))
    return counted + generate_latest(states)


class _States:
    def __init__(self, live: Callable[[], Any]):
        self.live = live

    def collect(self) -> Iterable[GaugeMetricFamily]:
        for name, help_text, labels, samples in self.live():
            family = GaugeMetricFamily(name, help_text, labels=labels)
            for values, value in samples:
                family.add_metric(values, value)
            yield family
