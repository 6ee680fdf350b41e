"""HTTP and GraphQL series for ``/metrics``, counted as requests are answered.

::

    liandong_http_requests_total{route,method,status}        every HTTP answer
    liandong_graphql_operation_duration_seconds{operation}   histogram per operation name
    liandong_graphql_errors_total{code}                      errors answered, by code
    liandong_rate_limited_total                              requests refused with 429

Labels are bounded: a route the gateway does not serve is ``other``; an operation without
a name is ``anonymous``; a request refused before its operation was read, a name that is
not a plain GraphQL name and every name past ``MAX_OPERATIONS`` distinct ones (clients
choose them) are ``unknown``; an error code not shaped like ours (SCREAMING_SNAKE), or past
64 distinct codes, is ``OTHER``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from prometheus_client import Counter, Histogram
from prometheus_client.metrics_core import Metric
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from gateway.web.hit_tally import HitTally

__all__ = ["MAX_OPERATIONS", "HttpMetricsMiddleware", "RequestMetrics"]

MAX_OPERATIONS = 100
_MAX_CODES = 64
_NAME = re.compile(r"[_A-Za-z][_0-9A-Za-z]{0,63}")
_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,63}")


class RequestMetrics:
    """The series above, for one gateway (not in any process-wide registry)."""

    def __init__(self, routes: Iterable[str] = ()) -> None:
        self.routes = frozenset(routes)  # the app's paths, set when it starts
        self.http = Counter(
            "liandong_http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=None,
        )
        self.duration = Histogram(
            "liandong_graphql_operation_duration_seconds",
            "Time to answer a GraphQL request, by operation name.",
            ["operation"],
            registry=None,
        )
        self.errors = Counter(
            "liandong_graphql_errors", "GraphQL errors answered, by code.", ["code"], registry=None
        )
        self.rate_limited = Counter(
            "liandong_rate_limited", "Requests refused by the rate limit.", registry=None
        )
        self._operations: set[str] = set()
        self._codes: set[str] = set()
        # Labelled children by label values: ``labels()`` checks and locks on every call,
        # a few microseconds that every request would pay.
        self._http_children: dict[tuple[str, str, int], Any] = {}
        self._duration_children: dict[str, Any] = {}
        # Hits answered at the door, counted without a lock and added when collected.
        self.hits = HitTally([float(b) for b in Histogram.DEFAULT_BUCKETS])

    def collect(self) -> list[Metric]:
        """The current figures, for the ``/metrics`` collector."""
        http, duration = list(self.http.collect()), list(self.duration.collect())
        self.hits.merge(http[0], duration[0])
        out: list[Metric] = [*http, *duration]
        for series in (self.errors, self.rate_limited):
            out.extend(series.collect())
        return out

    def count_hit(self, method: str, seconds: float, operation: str | None) -> None:
        """One response-cache hit answered at the door with 200: what ``count_http`` and
        ``observe_graphql`` would count for it, tallied in ``hits``."""
        route = self.route("/graphql")
        method = method if method in _METHODS else "OTHER"
        self._http_child(route, method, 200)  # made now: the tally adds to its samples
        name = self._operation(operation)
        self._duration_child(name)
        self.hits.add((route, method, "200"), name, seconds)

    def route(self, path: str) -> str:
        """``path`` if the gateway serves it, else ``other`` (scanners must not add series)."""
        return path if path in self.routes else "other"

    def count_http(self, route: str, method: str, status: int) -> None:
        """One HTTP answer."""
        method = method if method in _METHODS else "OTHER"
        self._http_child(route, method, status).inc()

    def _http_child(self, route: str, method: str, status: int) -> Any:
        child = self._http_children.get((route, method, status))
        if child is None:
            child = self.http.labels(route, method, str(status))
            self._http_children[(route, method, status)] = child
        return child

    def _duration_child(self, name: str) -> Any:
        child = self._duration_children.get(name)
        if child is None:
            child = self._duration_children[name] = self.duration.labels(name)
        return child

    def observe_graphql(
        self, seconds: float, refusal: str | None, operations: Sequence[Any]
    ) -> None:
        """One GraphQL request: its duration per operation, its errors, a rate-limit refusal."""
        if refusal is not None:
            self._count_error(refusal)
            if refusal == "RATE_LIMITED":
                self.rate_limited.inc()
        # No operation at all: refused (or failed) before it was parsed.
        names = [self._operation(op.name) for op in operations] or ["unknown"]
        for name in names:
            self._duration_child(name).observe(seconds)
        for op in operations:
            for error in op.errors:
                self._count_error(str(error.get("code", "INTERNAL")))

    def _operation(self, name: str | None) -> str:
        if not name:
            return "anonymous"
        if name in self._operations:
            return name
        if not _NAME.fullmatch(name) or len(self._operations) >= MAX_OPERATIONS:
            return "unknown"
        self._operations.add(name)
        return name

    def _count_error(self, code: str) -> None:
        if code not in self._codes:
            if not _CODE.fullmatch(code) or len(self._codes) >= _MAX_CODES:
                code = "OTHER"
            else:
                self._codes.add(code)
        self.errors.labels(code).inc()


_METHODS = frozenset({"GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"})


class HttpMetricsMiddleware:
    """Counts every HTTP answer of the app by route, method and status."""

    def __init__(self, app: ASGIApp, metrics: Callable[[], RequestMetrics | None]) -> None:
        self.app = app
        self.metrics = metrics  # None while the app starts or stops

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        metrics = self.metrics()
        if scope["type"] != "http" or metrics is None:
            await self.app(scope, receive, send)
            return
        status = 500  # an app that raised before answering

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            metrics.count_http(metrics.route(scope.get("path", "")), scope["method"], status)
