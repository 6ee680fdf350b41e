"""The long-lived parts of a running gateway, made once at start-up and closed at shutdown."""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors import registry
from connectors.base import Connector
from connectors.http import HttpClient
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.heads_setup import start_head_publisher
from gateway.audit.log import AuditLog
from gateway.audit.query import AuditSearch
from gateway.audit.store import SqlAuditLog, open_audit_log
from gateway.auth import TokenVerifier
from gateway.clock import Clock
from gateway.debtor_handle import DebtorHandles
from gateway.response_cache.gate import ResponseGate
from gateway.response_cache.setup import response_gate
from gateway.runtime.assistance import AssistanceRuntime
from gateway.screening.index import ScreeningIndex
from gateway.settings import Settings, SettingsError
from gateway.store.cases import Store
from gateway.telemetry import Telemetry
from gateway.watch.scheduler import WatchScheduler
from gateway.web.ratelimit import RateLimiter, TokenBucketLimiter
from gateway.web.request_metrics import RequestMetrics
from resolvers.cache import FactCache
from resolvers.cache_redis import TieredFactCache

__all__ = ["Services"]


@dataclass(slots=True)
class Services:
    """Settings, store, HTTP client, connectors, cache and token verifier of one process."""

    settings: Settings
    store: Store
    http: HttpClient
    connectors: dict[str, Connector]
    cache: FactCache
    verifier: TokenVerifier
    closed: bool = field(default=False)
    # The audit log (durable before append returns; see gateway/audit/store.py), its reader
    # for auditors (None when the log is disabled), and the per-principal rate limiter.
    audit: AuditLog = field(kw_only=True)
    audit_search: AuditSearch | None = field(default=None, kw_only=True)
    ratelimiter: RateLimiter = field(kw_only=True)
    # Signs the log's tree heads and hands them to the witness (gateway/audit/head_publisher.py).
    heads: HeadPublisher | None = field(default=None, kw_only=True)
    # The listed debtors, kept current by the store (see gateway/screening/index.py).
    screening: ScreeningIndex = field(default_factory=ScreeningIndex)
    # Assistance requests: their store, event bus, service and lifecycle worker.
    assistance: AssistanceRuntime | None = field(default=None, kw_only=True)
    # Asset watches: the scheduler that re-queries watched debtors (gateway/watch_scheduler).
    watch: WatchScheduler | None = field(default=None, kw_only=True)
    # Opaque debtor handles (federation keys, drill-down): see gateway/debtor_handle.py.
    handles: DebtorHandles = field(kw_only=True)
    # Traces (gateway/telemetry.py) and the HTTP and GraphQL series of /metrics.
    telemetry: Telemetry = field(default_factory=Telemetry, kw_only=True)
    request_metrics: RequestMetrics = field(default_factory=RequestMetrics, kw_only=True)
    # Answers served again from bytes behind the legal checks (None: off).
    responses: ResponseGate | None = field(default=None, kw_only=True)

    @classmethod
    async def start(
        cls, settings: Settings, *, store: Store | None = None, clock: Clock | None = None
    ) -> Services:
        """Open the store and build every enabled connector; unknown connectors fail here."""
        http = HttpClient(client=settings.agency_http_client)
        connectors: dict[str, Connector] = {}
        for name, agency in settings.agencies.items():
            if not agency.enabled:
                continue
            connectors[name] = registry.build(
                agency.connector or name, agency.options, http.for_agency(name, agency.http())
            )
        opened = store or await Store.open(settings.database_url)
        cache = FactCache(
            max_entries=settings.cache.max_entries,
            ttl_s=settings.cache.ttl_s,
            enabled=settings.cache.enabled,
            stale_ttl_s=settings.cache.stale_ttl_s,
        )
        if settings.cache.redis_url:  # several instances: Redis behind the local cache
            tiered = TieredFactCache(
                redis_url=settings.cache.redis_url,
                agencies=list(connectors),
                timeout_s=settings.cache.redis_timeout_s,
                max_entries=settings.cache.max_entries,
                ttl_s=settings.cache.ttl_s,
                enabled=settings.cache.enabled,
                stale_ttl_s=settings.cache.stale_ttl_s,
            )
            await tiered.start()
            cache = tiered
        verifier = TokenVerifier(settings.auth, settings.jwt_secret())
        screening = ScreeningIndex()
        # Listening before loading: a write committed during the load is replayed onto it.
        opened.add_restriction_listener(screening)
        await screening.reload(opened)
        audit = await open_audit_log(settings)
        search = AuditSearch(audit.engine, audit.key) if isinstance(audit, SqlAuditLog) else None
        services = cls(
            settings,
            opened,
            http,
            connectors,
            cache,
            verifier,
            screening=screening,
            audit=audit,
            audit_search=search,
            ratelimiter=_ratelimiter(settings),
            handles=DebtorHandles(settings.audit_key()),
            telemetry=Telemetry.from_settings(settings.telemetry),
        )
        services.assistance = AssistanceRuntime.build(
            settings,
            opened,
            connectors=connectors,
            cache=cache,
            audit=audit,
            clock=clock,
            screening=screening,
        )
        await services.assistance.start()
        services.responses = response_gate(
            settings.response_cache, facts=cache, store=opened, bus=services.assistance.bus
        )
        services.watch = WatchScheduler.build(
            settings,
            opened,
            http,
            audit=audit,
            bus=services.assistance.bus,
            clock=services.assistance.clock,
        )
        if settings.watch.scheduler_enabled:
            services.watch.start()
        services.heads = await start_head_publisher(settings)
        return services

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        if self.watch is not None:
            await self.watch.aclose()  # first: it uses the bus and everything below
        if self.assistance is not None:
            await self.assistance.aclose()  # first: the worker uses everything below
        if isinstance(self.cache, TieredFactCache):
            await self.cache.aclose()
        for connector in self.connectors.values():
            await connector.aclose()
        await self.http.aclose()
        await self.store.close()
        await self.ratelimiter.aclose()
        await self.audit.aclose()  # last: commits what requests already queued
        if self.heads is not None:
            await self.heads.aclose()  # signs a head over those last records
        await self.telemetry.aclose()  # exports the last spans


def _ratelimiter(settings: Settings) -> RateLimiter:
    """Redis buckets when instances share a Redis (see ``limits.rate_backend``), else memory."""
    backend = settings.limits.rate_backend
    url = settings.cache.redis_url
    if backend == "redis" or (backend == "auto" and url):
        if not url:
            raise SettingsError("limits.rate_backend = redis needs cache.redis_url")
        from gateway.web.ratelimit_redis import RedisRateLimiter

        return RedisRateLimiter(
            url, settings.limits.rate_per_minute, timeout_s=settings.cache.redis_timeout_s
        )
    return TokenBucketLimiter(settings.limits.rate_per_minute)
