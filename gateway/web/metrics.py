"""``/metrics``: the gateway's figures in the Prometheus text format.

Each app gets its own ``CollectorRegistry`` (never the process-wide default), so several
gateways in one process — tests do that — do not collide. The figures are not copied into
prometheus_client metrics as they happen: a collector reads the live counters of the
shared HTTP client and the cache at scrape time, so the agencies' figures here and in
GraphQL's ``agencies`` are the same numbers.

Per agency (label ``agency``)::

    liandong_agency_requests_total            attempts sent, retries included
    liandong_agency_errors_total{code}        failed attempts by error code
    liandong_agency_timeouts_total            attempts that timed out
    liandong_agency_retries_total             attempts that were retries
    liandong_agency_short_circuited_total     calls refused by the open circuit (not sent)
    liandong_agency_shed_total                calls given up before sending (deadline, slots)
    liandong_agency_circuit_opened_total      times the circuit opened
    liandong_agency_in_flight                 attempts on the wire now
    liandong_agency_request_duration_seconds  histogram of attempt durations
    liandong_agency_circuit_state{state}      1 for the breaker's current state, else 0
    liandong_agency_health{health}            1 for the current verdict, else 0

and ``liandong_cache_{hits,misses,stale_served}_total``, ``liandong_cache_entries``; for a
SQL audit log ``liandong_audit_records_total`` and ``liandong_audit_commits_total`` (their
ratio is the group commit's batch size) and ``liandong_audit_lock_waits_total`` (attempts
at a SQLite write lock that another process held), ``liandong_audit_commit_seconds_total``
(the commits' wall time, start to done) and on SQLite ``…_commit_sync_seconds_total`` (in
``COMMIT``) and ``…_commit_wake_seconds_total`` (from its return to the loop), and
``liandong_audit_commit_place_total{place}`` (``COMMIT`` on the loop or a thread); the
response cache's series are listed in ``gateway/response_cache/metrics.py``. Each worker
process counts its own.
The endpoint is unauthenticated, like ``/healthz``: it carries no personal data or case.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.registry import Collector
from starlette.requests import Request
from starlette.responses import Response

from connectors.breaker import CircuitState
from connectors.service_stats import AgencyHealth
from gateway.audit.store import SqlAuditLog
from gateway.response_cache.metrics import response_cache_metrics

if TYPE_CHECKING:
    from connectors.http import AgencyHttp
    from gateway.web.services import Services

__all__ = ["GatewayCollector", "MetricsEndpoint"]

ServicesGetter = Callable[[], "Services | None"]


def _counter(name: str, doc: str, labels: list[str]) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, labels=labels)


class GatewayCollector(Collector):
    """Reads the running services' figures at each scrape; nothing before start-up."""

    def __init__(self, services: ServicesGetter) -> None:
        self._services = services

    def collect(self) -> Iterable[Metric]:
        services = self._services()
        if services is None:
            return []
        agencies = list(services.http.agencies.values())
        metrics = self._agency_metrics(agencies)
        cache = services.cache
        metrics.extend(
            [
                CounterMetricFamily("liandong_cache_hits", "Fresh cache hits.", value=cache.hits),
                CounterMetricFamily(
                    "liandong_cache_misses",
                    "Cache misses (absent or past TTL).",
                    value=cache.misses,
                ),
                CounterMetricFamily(
                    "liandong_cache_stale_served",
                    "Facts served stale because their agency failed.",
                    value=cache.stale_served,
                ),
                GaugeMetricFamily("liandong_cache_entries", "Entries held.", value=len(cache)),
            ]
        )
        if services.responses is not None:
            metrics.extend(response_cache_metrics(services.responses.answers))
        metrics.extend(services.request_metrics.collect())  # HTTP and GraphQL series
        audit = services.audit
        if isinstance(audit, SqlAuditLog):
            # Labelled by the process's audit chain, so that the series of several workers
            # (or instances) stay apart when they are collected together.
            for name, doc, value in (
                ("liandong_audit_records", "Audit records written.", audit.appended),
                ("liandong_audit_commits", "Transactions that wrote them.", audit.commits),
                (
                    "liandong_audit_lock_waits",
                    "Attempts at the write lock that another process held.",
                    audit.lock_waits,
                ),
                (
                    "liandong_audit_witness_records",
                    "Records of the other chains' heads written to this one.",
                    audit.witness.written,
                ),
            ):
                family = CounterMetricFamily(name, doc, labels=["chain"])
                family.add_metric([audit.chain], value)
                metrics.append(family)
            sync, wake = audit.commit_phases
            for name, doc, seconds in (
                (
                    "liandong_audit_commit_seconds",
                    "Commits' wall time, start to done.",
                    audit.commit_seconds,
                ),
                ("liandong_audit_commit_sync_seconds", "Time in COMMIT itself.", sync),
                ("liandong_audit_commit_wake_seconds", "From COMMIT's return to the loop.", wake),
            ):
                family = CounterMetricFamily(name, doc, labels=["chain"])
                family.add_metric([audit.chain], seconds)
                metrics.append(family)
            family = CounterMetricFamily(
                "liandong_audit_commit_place",
                "COMMITs by where they ran.",
                labels=["chain", "place"],
            )
            for place, count in zip(("loop", "thread"), audit.commit_places, strict=True):
                family.add_metric([audit.chain, place], count)
            metrics.append(family)
        return metrics

    @staticmethod
    def _agency_metrics(agencies: list[AgencyHttp]) -> list[Metric]:
        a = ["agency"]
        requests = _counter("liandong_agency_requests", "Attempts sent to the agency.", a)
        errors = _counter("liandong_agency_errors", "Failed attempts by code.", [*a, "code"])
        timeouts = _counter("liandong_agency_timeouts", "Attempts that timed out.", a)
        retries = _counter("liandong_agency_retries", "Attempts that were retries.", a)
        short = _counter("liandong_agency_short_circuited", "Calls refused by the open circuit.", a)
        shed = _counter("liandong_agency_shed", "Calls given up before sending.", a)
        opened = _counter("liandong_agency_circuit_opened", "Times the circuit opened.", a)
        in_flight = GaugeMetricFamily(
            "liandong_agency_in_flight", "Attempts on the wire.", labels=a
        )
        duration = HistogramMetricFamily(
            "liandong_agency_request_duration_seconds", "Attempt durations.", labels=a
        )
        circuit = GaugeMetricFamily(
            "liandong_agency_circuit_state", "1 for the current state.", labels=[*a, "state"]
        )
        health = GaugeMetricFamily(
            "liandong_agency_health", "1 for the current verdict.", labels=[*a, "health"]
        )
        for http in agencies:
            name, stats = http.agency, http.stats
            requests.add_metric([name], stats.requests)
            for code, count in sorted(stats.errors_by_code.items()):
                errors.add_metric([name, code], count)
            timeouts.add_metric([name], stats.timeouts)
            retries.add_metric([name], stats.retries)
            short.add_metric([name], stats.short_circuited)
            shed.add_metric([name], stats.shed)
            opened.add_metric([name], http.breaker.opened)
            in_flight.add_metric([name], stats.in_flight)
            duration.add_metric(
                [name],
                buckets=[(_bound(b), c) for b, c in stats.cumulative_buckets()],
                sum_value=stats.latency_sum_s,
            )
            state = http.circuit_state
            for s in CircuitState:
                circuit.add_metric([name, s.value], 1.0 if s is state else 0.0)
            verdict = http.health()
            for h in AgencyHealth:
                health.add_metric([name, h.value], 1.0 if h is verdict else 0.0)
        return [
            requests,
            errors,
            timeouts,
            retries,
            short,
            shed,
            opened,
            in_flight,
            duration,
            circuit,
            health,
        ]


def _bound(upper: float) -> str:
    return "+Inf" if upper == float("inf") else repr(upper)


class MetricsEndpoint:
    """``/metrics`` over a registry of this app's own, behind ``token`` when one is set."""

    def __init__(self, services: ServicesGetter, token: str | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(GatewayCollector(services))
        self.token = token

    def render(self, authorization: str | None) -> tuple[int, bytes, dict[str, str]]:
        """Status, body and headers of the answer to a request with this Authorization."""
        if self.token is not None:
            scheme, _, given = (authorization or "").partition(" ")
            ok = scheme.lower() == "bearer" and hmac.compare_digest(
                given.strip().encode(), self.token.encode()
            )
            if not ok:
                return 401, b"a bearer token is required\n", {"WWW-Authenticate": "Bearer"}
        return 200, generate_latest(self.registry), {"Content-Type": CONTENT_TYPE_LATEST}

    async def handle(self, request: Request) -> Response:
        """The starlette endpoint."""
        status, body, headers = self.render(request.headers.get("authorization"))
        return Response(body, status_code=status, headers=headers)
