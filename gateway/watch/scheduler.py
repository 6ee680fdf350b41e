"""The asset-watch scheduler: re-query watched debtors' assets when due, within a budget.

One pass:
1. gives each agency ``budget_per_agency`` upstream requests, and claims the due watches of
   as many debtors as the smallest budget covers (budget x the agency's batch size);
2. fetches their assets straight from the connectors, in batches, past the read cache (a
   watch wants fresh data). The scheduler has its own connectors over budgeted transports:
   a request beyond the budget is refused before it is sent, and its debtors stay due.
   Transports do not retry: a failed batch is simply tried again at a later pass;
3. appends one audit record per case, the scheduler acting for it; a case whose record is
   not durable is not acted on (its watches stay due);
4. compares each debtor's assets with the last snapshot and stores the changes as
   ``AssetDiscovered`` events (the first run only takes the snapshot), sets the next due
   time (interval +- jitter, so that watches made together spread out) and releases claims;
5. tells subscribers through the event bus and delivers undelivered events to the webhook.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
import uuid
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

import aiohttp

from connectors import registry
from connectors.base import Connector
from connectors.domain import Facet
from connectors.http import AgencyHttp, FailureIn, HttpClient, HttpReply, HttpSettings
from gateway.audit.log import AgencyCallRecord, AuditEntry, AuditLog
from gateway.clock import Clock
from gateway.errors import AgencyError, AgencyUnavailable, AuditUnavailable
from gateway.events.bus import Change, EventBus
from gateway.settings import Settings, WatchSettings
from gateway.store.cases import Store
from gateway.watch.snapshot import diff, snapshot, snapshot_hash
from gateway.watch.store import AssetEventRow, WatchResult, WatchRow, WatchStore
from gateway.watch.webhook import Webhook

__all__ = ["SCHEDULER", "BudgetedHttp", "PassSummary", "WatchScheduler", "asset_topic"]

SCHEDULER = "scheduler"  # the principal of the scheduler's audit records

log = logging.getLogger("liandong.watch")


def asset_topic(case_number: str) -> str:
    """The bus topic a case's asset events are announced on."""
    return f"assets:{case_number}"


class BudgetedHttp(AgencyHttp):
    """An agency transport that refuses to send more than ``remaining`` requests."""

    def __init__(self, agency: str, settings: HttpSettings, client: HttpClient) -> None:
        super().__init__(agency, settings, client)
        self.remaining = 0
        self.sent = 0

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        read: bool | None = None,
        idempotency_key: str | None = None,
        failure_in: FailureIn | None = None,
    ) -> HttpReply:
        if self.remaining <= 0:
            raise AgencyUnavailable(self.agency, "the watch budget of this pass is spent")
        self.remaining -= 1
        self.sent += 1
        return await super().request(
            method,
            path,
            body=body,
            headers=headers,
            params=params,
            read=read,
            idempotency_key=idempotency_key,
            failure_in=failure_in,
        )


@dataclass(slots=True)
class PassSummary:
    """What one pass did."""

    claimed: int = 0  # watches taken
    debtors: int = 0  # distinct debtors re-queried
    refreshed: int = 0  # watches with a new snapshot
    failed: int = 0  # watches left due (an agency failed, or the budget ran out)
    events: int = 0
    delivered: int = 0
    requests: dict[str, int] = field(default_factory=dict)  # upstream requests per agency

    def line(self) -> str:
        sent = ", ".join(f"{a}={n}" for a, n in sorted(self.requests.items()))
        return (
            f"watches claimed={self.claimed} debtors={self.debtors} refreshed={self.refreshed} "
            f"left_due={self.failed} events={self.events} delivered={self.delivered} "
            f"requests: {sent or 'none'}"
        )


class WatchScheduler:
    """Passes over due watches; ``start`` runs them every ``pass_interval_s``."""

    def __init__(
        self,
        store: WatchStore,
        connectors: Mapping[str, Connector],
        gates: Mapping[str, BudgetedHttp],
        *,
        audit: AuditLog,
        bus: EventBus | None,
        settings: WatchSettings,
        clock: Clock,
    ) -> None:
        self.store = store
        self.connectors = dict(connectors)
        self.gates = dict(gates)
        self.audit = audit
        self.bus = bus
        self.settings = settings
        self.clock = clock
        secret = settings.webhook_secret
        self.webhook = (
            Webhook(
                settings.webhook_url,
                secret.get_secret_value().encode(),
                attempts=settings.webhook_attempts,
                backoff_s=settings.webhook_backoff_s,
            )
            if settings.webhook_url and secret is not None
            else None
        )
        self._rng = random.Random()
        self._task: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def build(
        cls,
        settings: Settings,
        store: Store,
        http: HttpClient,
        *,
        audit: AuditLog,
        bus: EventBus | None,
        clock: Clock,
    ) -> WatchScheduler:
        """The scheduler's own connectors, each over a budgeted transport without retries."""
        connectors: dict[str, Connector] = {}
        gates: dict[str, BudgetedHttp] = {}
        for name, agency in settings.agencies.items():
            if not agency.enabled:
                continue
            gate = BudgetedHttp(name, dataclasses.replace(agency.http(), max_retries=0), http)
            connector = registry.build(agency.connector or name, agency.options, gate)
            if Facet.ASSETS in connector.facets:
                connectors[name], gates[name] = connector, gate
        return cls(
            WatchStore(store.engine),
            connectors,
            gates,
            audit=audit,
            bus=bus,
            settings=settings.watch,
            clock=clock,
        )

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="liandong-watch-scheduler")

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        for connector in self.connectors.values():
            await connector.aclose()
        if self._session is not None:
            await self._session.close()

    async def _run(self) -> None:
        while True:
            try:
                await self.run_pass()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("asset watch pass failed")  # the watches stay due
            await asyncio.sleep(self.settings.pass_interval_s)

    def capacity(self) -> int:
        """How many debtors one pass can re-query within every agency's budget."""
        budget = self.settings.budget_per_agency
        sizes = [c.facets[Facet.ASSETS].max_batch for c in self.connectors.values()]
        return min((budget * s for s in sizes), default=0)

    async def run_pass(self) -> PassSummary:
        """One pass over what is due now."""
        async with self._lock:
            return await self._pass()

    async def _pass(self) -> PassSummary:
        summary = PassSummary()
        now = self.clock.now()
        for gate in self.gates.values():
            gate.remaining, gate.sent = self.settings.budget_per_agency, 0
        capacity = self.capacity()
        watches = (
            await self.store.claim_due(
                now, limit=capacity * 3, debtors=capacity, lease_s=self.settings.lease_s
            )
            if capacity
            else []
        )
        summary.claimed = len(watches)
        debtors = list(dict.fromkeys(w.debtor_id for w in watches))
        summary.debtors = len(debtors)
        results: list[WatchResult] = []
        if debtors:
            fetched, calls = await self._fetch(debtors)
            usable = await self._audit(watches, fetched, calls, request=uuid.uuid4().hex)
            for w in watches:
                result = self._result(w, fetched, usable)
                results.append(result)
                if result.snapshot is None:
                    summary.failed += 1
                else:
                    summary.refreshed += 1
        events = await self.store.finish(results, now)
        summary.events = len(events)
        summary.requests = {name: gate.sent for name, gate in self.gates.items()}
        await self._announce(events)
        summary.delivered = await self.deliver_pending()
        return summary

    async def _fetch(
        self, debtors: Sequence[str]
    ) -> tuple[dict[str, dict[str, object]], dict[str, float]]:
        """Each agency's result for each debtor (a tuple of assets or an AgencyError)."""

        async def one(name: str, connector: Connector) -> tuple[str, Sequence[object], float]:
            started = time.perf_counter()
            values = await connector.fetch(Facet.ASSETS, debtors)
            return name, values, (time.perf_counter() - started) * 1000

        outcomes = await asyncio.gather(*(one(n, c) for n, c in self.connectors.items()))
        fetched: dict[str, dict[str, object]] = {d: {} for d in debtors}
        ms: dict[str, float] = {}
        for name, values, took in outcomes:
            ms[name] = took
            for debtor, value in zip(debtors, values, strict=True):
                fetched[debtor][name] = value
        return fetched, ms

    async def _audit(
        self,
        watches: Sequence[WatchRow],
        fetched: Mapping[str, Mapping[str, object]],
        ms: Mapping[str, float],
        *,
        request: str,
    ) -> set[str]:
        """One record per case; the cases whose record is durable."""
        by_case: dict[str, list[WatchRow]] = defaultdict(list)
        for w in watches:
            by_case[w.case_number].append(w)

        async def record(case: str, rows: list[WatchRow]) -> str | None:
            ids = [w.debtor_id for w in rows]
            calls = []
            for agency in self.connectors:
                failed = [fetched[d][agency] for d in ids]
                errors = [v for v in failed if isinstance(v, AgencyError)]
                calls.append(
                    AgencyCallRecord(
                        agency=agency,
                        facet=Facet.ASSETS.value,
                        keys=len(ids),
                        errors=len(errors),
                        ms=ms.get(agency, 0.0),
                        status=errors[0].code if errors else "ok",
                    )
                )
            failures = sum(c.errors for c in calls)
            entry = AuditEntry(
                time=self.clock.now(),
                request_id=f"watch-{request}",
                principal=SCHEDULER,
                court=rows[0].court,
                roles=(SCHEDULER,),
                case_number=case,
                operation="watch.requery",
                document_hash=None,
                variables={},
                debtors=tuple(ids),
                agencies=tuple(calls),
                outcome="ok" if not failures else "partial",
                detail={"watches": [w.id for w in rows]},
            )
            try:
                await self.audit.append(entry)
            except AuditUnavailable:
                log.error("audit log unavailable: watches of a case left due")
                return None
            return case

        done = await asyncio.gather(*(record(c, rows) for c, rows in by_case.items()))
        return {c for c in done if c is not None}

    def _result(
        self, w: WatchRow, fetched: Mapping[str, Mapping[str, object]], usable: set[str]
    ) -> WatchResult:
        values = fetched[w.debtor_id]
        if w.case_number not in usable or any(isinstance(v, AgencyError) for v in values.values()):
            return WatchResult(w, None, None, next_due=w.next_due)  # still due
        assets: list[object] = []
        for value in values.values():
            if isinstance(value, tuple):
                assets.extend(value)
        snap = snapshot(assets)
        digest = snapshot_hash(snap)
        changes = [] if w.snapshot is None or digest == w.snapshot_hash else diff(w.snapshot, snap)
        spread = 1 + self._rng.uniform(-self.settings.jitter, self.settings.jitter)
        if w.ends_at is not None:
            spread = min(spread, 1.0)  # a statutory schedule may run early, never late
        due = self.clock.now() + timedelta(seconds=w.interval_s * spread)
        return WatchResult(w, snap, digest, next_due=due, changes=changes)

    async def _announce(self, events: Sequence[AssetEventRow]) -> None:
        if self.bus is None:
            return
        for event in events:
            await self.bus.publish(
                asset_topic(event.case_number), Change(request_id=event.watch_id, seq=event.id)
            )

    async def deliver_pending(self, limit: int = 200) -> int:
        """Send undelivered events to the webhook; return how many got through."""
        if self.webhook is None:
            return 0
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar())
        delivered = 0
        for event in await self.store.undelivered(limit):
            attempts = await self.webhook.deliver(self._session, event)
            ok = attempts > 0
            await self.store.delivered(event.id, self.clock.now() if ok else None, abs(attempts))
            delivered += ok
        return delivered
