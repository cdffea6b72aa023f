"""What a running server tells its operators: Prometheus metrics, a request id, one access log line.

``RequestObserver`` (pure ASGI, the outermost middleware) gives every request an id — the client's
``X-Request-ID`` when it is sane (1–64 of ``[A-Za-z0-9-]``), a new UUID otherwise — returns it in the
response's ``X-Request-ID``, times the request until its last byte is sent, counts it in
``ServerMetrics`` and logs one line on the ``evplatform.access`` logger (INFO; JSON with
``--log-format json``, see ``evplatform.logs``).

Requests are labelled by **route template** (``/api/fleet/vehicles/{vin}``), never by raw path: a
million VINs stay one series. A path no route matches is ``unmatched``; an unknown method ``OTHER``.

``ServerMetrics`` owns a ``CollectorRegistry`` per application (the global one would make every
test's application count into one set of series). Campaigns per state, the database pool and
whether the database answers are read from the store at scrape time, never kept in memory.

Under ``evplatform serve --workers N`` a scrape reaches one worker of N, so each worker's counters
alone would be a random fraction of the truth: ``serve`` then gives the workers a
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode: each process writes its values
to memory-mapped files there) and ``/metrics`` answers the sum over every worker, whichever answers.
"""

from __future__ import annotations

import logging
import os
import re
import time
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from fastapi import Request
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from evplatform.api.body_limits import ASGIApp, Message, Receive, Scope, Send
from evplatform.errors import EvplatformError
from evplatform.logs import request_id_var
from evplatform.service.context import AppContext
from evplatform.store.health import campaign_state_counts, pool_figures

__all__ = [
    "REQUEST_ID_HEADER",
    "UPDATE_CHECK_OUTCOMES",
    "RequestObserver",
    "ServerMetrics",
    "route_template",
    "sane_request_id",
    "server_metrics",
]

access_log = logging.getLogger("evplatform.access")

#: prometheus-client's own variable: set (by ``serve --workers N``) before the workers import it.
MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID_RAW = REQUEST_ID_HEADER.lower().encode()
#: An incoming id is kept only when it cannot break a log line or a header and cannot grow the logs.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9-]{1,64}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"
#: ``offer``: an update was offered; ``nothing_new``: checked, nothing to install; ``refused``: the
#: check was answered with an error (bad signature, unknown vehicle, replay, database down).
UPDATE_CHECK_OUTCOMES = ("offer", "nothing_new", "not_modified", "refused")
UPDATE_CHECK_ROUTE = "/api/vehicle/update-check"
#: Seconds: API answers take milliseconds, simulations and publishing up to tens of seconds.
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


def sane_request_id(value: str | None) -> str | None:
    """``value`` when it is an acceptable request id, else None (the caller makes a new one)."""
    return value if value is not None and _SANE_REQUEST_ID.fullmatch(value) else None


def _incoming_request_id(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == _REQUEST_ID_RAW:
            return sane_request_id(value.decode("latin-1"))
    return None


def route_template(scope: Scope, root_path_before: str) -> str:
    """The template of the route that answered (``/api/campaigns/{campaign_id}``), ``<mount>/{path}``
    for a mounted app (the static files), or ``unmatched``."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    if isinstance(path, str):
        return path
    root_path: str = scope.get("root_path", "")
    if root_path != root_path_before and root_path.startswith(root_path_before):
        return f"{root_path[len(root_path_before):]}/{{path}}"
    return UNMATCHED


class StoreCollector(Collector):
    """Figures read from the database at scrape time: is it up, its pool, campaigns per state."""

    def __init__(self, context: AppContext) -> None:
        self.context = context

    def describe(self) -> Iterable[Metric]:
        # Declared without reading the database: registering must not open it.
        return [GaugeMetricFamily("evplatform_database_up", ""), GaugeMetricFamily("evplatform_campaigns", "")]

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("evplatform_database_up", "1 when the database answered this scrape, else 0")
        try:
            store = self.context.store()
            counts = campaign_state_counts(store)
            pool = pool_figures(store)
        except EvplatformError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        campaigns = GaugeMetricFamily("evplatform_campaigns", "Campaigns in each state", labels=["state"])
        for state, count in counts.items():
            campaigns.add_metric([state], count)
        yield campaigns
        if pool is not None:
            for name, value, text in (
                ("checked_out", pool.checked_out, "Database connections lent to requests now"),
                ("size", pool.size, "Connections the database pool keeps"),
                ("overflow", pool.overflow, "Connections opened beyond the pool size (negative: pool not full)"),
            ):
                yield GaugeMetricFamily(f"evplatform_db_pool_{name}", text, value=value)


class ServerMetrics:
    """The metrics of one application, in its own registry; ``render()`` is the ``/metrics`` body."""

    def __init__(self, context: AppContext) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("evplatform_http_requests", "HTTP requests answered, by method, route template "
                                "and status", ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("evplatform_http_request_duration_seconds", "Time from a request's arrival to its "
                                 "last response byte, by method and route template", ["method", "route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.update_checks = Counter("evplatform_update_checks", "Vehicle update checks by outcome "
                                     "(offer, nothing_new, not_modified, refused)", ["outcome"], registry=self.registry)
        self.verification_failures = Counter(
            "evplatform_uptane_verification_failures", "Vehicle version manifests the Director refused, "
            "by error class", ["error"], registry=self.registry)
        for outcome in UPDATE_CHECK_OUTCOMES:  # every series from the start: rate() needs a zero
            self.update_checks.labels(outcome)
        self._store_collector = StoreCollector(context)
        self.registry.register(self._store_collector)
        self._children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one answered request (and an update check refused before its route ran).

        The labelled children are kept per (method, route, status) — a bounded set: templates and
        methods are finite, statuses too — because ``labels()`` costs more than the rest of a request's
        bookkeeping together (about 15 µs each under a profiler).
        """
        method = method if method in _METHODS else "OTHER"
        key = (method, route, status)
        children = self._children.get(key)
        if children is None:
            children = self._children[key] = (self.requests.labels(method, route, str(status)),
                                              self.latency.labels(method, route))
        children[0].inc()
        children[1].observe(seconds)
        if route == UPDATE_CHECK_ROUTE and status >= 400:
            self.update_checks.labels("refused").inc()

    def update_check(self, offered: bool) -> None:
        self.update_checks.labels("offer" if offered else "nothing_new").inc()

    def update_check_not_modified(self) -> None:
        self.update_checks.labels("not_modified").inc()

    def verification_failed(self, error: Exception) -> None:
        self.verification_failures.labels(type(error).__name__).inc()

    def render(self) -> bytes:
        """The ``/metrics`` body: this application's registry, or with several workers the sum of every
        worker's counters and histograms (and the database figures read now)."""
        folder = os.environ.get(MULTIPROCESS_ENV)
        if not folder:
            return generate_latest(self.registry)
        merged = CollectorRegistry()
        MultiProcessCollector(merged, folder)
        merged.register(self._store_collector)
        return generate_latest(merged)


def server_metrics(request: Request) -> ServerMetrics:
    """The metrics of the application answering ``request`` (routes count what only they know)."""
    metrics: ServerMetrics = request.app.state.metrics
    return metrics


class RequestObserver:
    """Pure ASGI: request id in and out, metrics and one access log line per HTTP request."""

    def __init__(self, app: ASGIApp, metrics: ServerMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = _incoming_request_id(scope) or str(uuid.uuid4())
        scope.setdefault("state", {})["request_id"] = request_id
        root_path_before: str = scope.get("root_path", "")
        status = 500  # what the client gets when the application raised before answering
        started = time.perf_counter()

        async def with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message["headers"] = [*message.get("headers", []), (_REQUEST_ID_RAW, request_id.encode())]
            await send(message)

        token = request_id_var.set(request_id)
        try:
            await self.app(scope, receive, with_id)
        finally:
            request_id_var.reset(token)
            self._record(scope, root_path_before, request_id, status, time.perf_counter() - started)

    def _record(self, scope: Scope, root_path_before: str, request_id: str, status: int, seconds: float) -> None:
        route = route_template(scope, root_path_before)
        method: str = scope["method"]
        self.metrics.observe(method, route, status, seconds)
        client: Any = scope.get("client")
        duration_ms = round(seconds * 1000, 3)
        access_log.info("%s %s %d %.1f ms", method, route, status, duration_ms, extra={
            "event": "http_request", "method": method, "route": route, "status": status,
            "duration_ms": duration_ms, "request_id": request_id, "client": client[0] if client else None})
