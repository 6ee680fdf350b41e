"""The shared HTTP client: one ``AgencyHttp`` per agency, over the lean transport
(``connectors.lean_client``) or one aiohttp session, as the ``agency_http_client`` setting says.

Every agency call goes through ``AgencyHttp.request``, which is where an agency's failures
are contained:

- **deadline**: the request's deadline (``connectors.deadline``) bounds everything below;
- **circuit breaker** (``connectors.breaker``): an agency that keeps failing is not called
  until its cool-down has passed, then probed by one call;
- **bulkhead**: at most ``max_concurrency`` calls in flight per agency; waiting for a slot
  counts against the deadline;
- **timeouts**: connect, read and total, the total shortened to what the deadline leaves;
- **retries** (``connectors.retry``): reads, and writes carrying an idempotency key only,
  with jittered exponential back-off or the agency's ``Retry-After``;
- **size cap**: a body over ``max_body_bytes`` (after decompression) is refused;
- **one translation** of aiohttp's exceptions (the lean transport raises ours itself) into
  our ``AgencyError`` tree; an agency that
  reports its failures inside an HTTP 200 (an envelope's error code) names them with
  ``failure_in``, and they are retried and counted by the breaker as a 5xx would be;
- **service figures** (``connectors.service_stats``) per attempt actually sent.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp

from connectors import deadline
from connectors.breaker import CircuitBreaker, CircuitState
from connectors.http_settings import HttpSettings
from connectors.lean_client import LeanClient
from connectors.parsing import retry_after
from connectors.retry import (
    IDEMPOTENCY_HEADER,
    RETRY_STATUSES,
    is_read_call,
    is_retryable_call,
)
from connectors.service_stats import AgencyHealth, AgencyStats
from connectors.slots import take_free
from connectors.tracing import note_attempt
from gateway.errors import (
    AgencyBadResponse,
    AgencyError,
    AgencyRejected,
    AgencyTimeout,
    AgencyUnavailable,
    CircuitOpen,
)

__all__ = [
    "AgencyClient",
    "AgencyHttp",
    "AgencyStats",
    "FailureIn",
    "HttpClient",
    "HttpReply",
    "HttpSettings",
]

log = logging.getLogger("liandong.agency")


@dataclass(frozen=True, slots=True)
class HttpReply:
    """An agency's answer: status, headers (case-insensitive) and the whole body."""

    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


# Reads a successful reply for a failure the agency reports in its body ("system busy" in
# an envelope): the error to treat it as, ``AgencyUnavailable`` or ``AgencyTimeout``, or None.
FailureIn = Callable[[HttpReply], AgencyUnavailable | AgencyTimeout | None]


@dataclass(frozen=True, slots=True)
class _Call:
    """One call as given to ``request``, sent again as is by each retry."""

    method: str
    path: str
    body: bytes | None
    headers: Mapping[str, str]
    params: Mapping[str, str]
    failure_in: FailureIn | None = None
    resend: bool = False  # a read: the transport may send it again on a fresh connection


class _NotSent(AgencyTimeout):
    """The deadline left no time to send (or to get a slot): nothing went out."""


def _status_error_code(status: int) -> str | None:
    """The error code an attempt's status earns in the service figures (None: answered)."""
    if status >= 500:
        return AgencyUnavailable.code
    if status == 429:
        return AgencyRejected.code
    return None


class AgencyHttp:
    """HTTP access to one agency under its own limits."""

    def __init__(self, agency: str, settings: HttpSettings, client: HttpClient) -> None:
        self.agency = agency
        self.settings = settings
        self._client = client
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self.policy = settings.retry_policy()
        self.breaker = CircuitBreaker(agency, settings.breaker_settings())
        self.stats = AgencyStats()
        self._rng = random.Random()

    def url(self, path: str) -> str:
        """The absolute URL of ``path`` at this agency."""
        return self.settings.base_url.rstrip("/") + path

    @property
    def circuit_state(self) -> CircuitState:
        """The agency's circuit breaker state now."""
        return self.breaker.state

    def health(self) -> AgencyHealth:
        """UP, DEGRADED, DOWN (circuit open) or UNKNOWN (nothing sent yet)."""
        return self.stats.health(self.breaker.state.value)

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
        """Send one call; return the last reply whatever its status, or raise ``AgencyError``.

        ``read``: whether the call only reads (default: ``GET``/``HEAD``/``OPTIONS`` do), so
        that it may be retried. ``idempotency_key`` is sent as ``Idempotency-Key`` and makes
        a write retryable; a write without one is sent at most once. ``failure_in`` finds a
        failure reported inside a 2xx reply; it is raised (and retried) like a 5xx.
        """
        sent_headers = dict(headers or {})
        if idempotency_key:
            sent_headers[IDEMPOTENCY_HEADER] = idempotency_key
        retryable = is_retryable_call(
            method, sent_headers, read=read, idempotency_key=idempotency_key
        )
        # The transport may send a call once more on a fresh connection when a kept-alive one
        # proves closed: only a read. A write, even one with a key, goes as often as the
        # retry policy below says and no more: an agency that took the order and lost its
        # answer must see the tries the policy counts (connectors/lean_transport.py).
        resend = is_read_call(method, read)
        call = _Call(method, path, body, sent_headers, dict(params or {}), failure_in, resend)
        last: HttpReply | AgencyError | None = None
        retry = 0
        while True:
            try:
                reply = await self._attempt(call, retry)
            except (CircuitOpen, _NotSent):
                # Nothing went out (the circuit opened, or time ran out, under our retries):
                # what the agency last said stands.
                if isinstance(last, HttpReply):
                    return last
                if last is not None:
                    raise last from None
                raise
            except (AgencyTimeout, AgencyUnavailable) as exc:
                if not retryable:
                    raise
                last = exc
                delay = self.policy.wait(retry + 1, None, deadline.remaining(), self._rng)
                if delay is None:
                    raise
            else:
                if not retryable or reply.status not in RETRY_STATUSES:
                    return reply
                last = reply
                wait_for = retry_after(reply)
                delay = self.policy.wait(retry + 1, wait_for, deadline.remaining(), self._rng)
                if delay is None:
                    return reply
            retry += 1
            log.debug("retrying %s %s in %.3fs (retry %d)", self.agency, method, delay, retry)
            await asyncio.sleep(delay)

    async def _attempt(self, call: _Call, retry: int) -> HttpReply:
        budget = deadline.remaining()
        if budget is not None and budget <= 0:
            self.stats.shed += 1
            raise _NotSent(self.agency, "the request's deadline passed before sending")
        try:
            probe = self.breaker.acquire()
        except CircuitOpen:
            self.stats.short_circuited += 1
            raise
        try:
            if not take_free(self._slots):  # else a slot was free, taken without a coroutine
                await self._take_slot(budget)
            try:
                return await self._counted(call, retry > 0)
            finally:
                self._slots.release()
        finally:
            if probe:
                # A probe that ended without an outcome (shed, cancelled) gives its turn
                # back; after success or failure this changes nothing.
                self.breaker.release()

    async def _take_slot(self, budget: float | None) -> None:
        """The bulkhead: one of ``max_concurrency`` slots, waited for within the deadline.

        Only called when none was free at once (``_attempt`` takes a free one itself: no
        timeout to arm, as entering ``asyncio.timeout`` schedules and cancels a timer).
        """
        slots = self._slots
        try:
            async with asyncio.timeout(budget):
                await slots.acquire()
        except TimeoutError:
            self.stats.shed += 1
            raise _NotSent(self.agency, "no free connection slot before the deadline") from None

    async def _counted(self, call: _Call, is_retry: bool) -> HttpReply:
        """One attempt on the wire, with its figures and its verdict for the breaker."""
        stats = self.stats
        stats.requests += 1
        stats.retries += is_retry
        stats.in_flight += 1
        started = time.perf_counter()
        status = 0
        try:
            reply = await self._send(call)
            status = reply.status
        except AgencyError as exc:
            stats.outcome(exc.code, timeout=isinstance(exc, AgencyTimeout))
            if isinstance(exc, AgencyTimeout | AgencyUnavailable):
                self.breaker.failure()
            else:
                self.breaker.success()  # it answered, badly: up, but not to be trusted
            raise
        finally:
            stats.in_flight -= 1
            stats.record((time.perf_counter() - started) * 1000)
            note_attempt(retry=is_retry, status=status)  # on the request's trace, if any
        failed = None
        if call.failure_in is not None and 200 <= reply.status < 300:
            failed = call.failure_in(reply)
        if failed is not None:
            stats.outcome(failed.code, timeout=isinstance(failed, AgencyTimeout))
            self.breaker.failure()
            raise failed
        stats.outcome(_status_error_code(reply.status))
        if reply.status >= 500:
            self.breaker.failure()
        else:
            self.breaker.success()
        return reply

    def _total_timeout(self) -> float:
        total = self.settings.total_timeout
        left = deadline.remaining()
        if left is not None:
            total = max(0.001, min(total, left))
        return total

    async def _send(self, call: _Call) -> HttpReply:
        lean = self._client.lean
        if lean is None:
            return await self._send_aiohttp(call)
        settings = self.settings
        status, headers, body = await lean.send(
            self.agency,
            settings.base_url,
            call.method,
            call.path,
            params=call.params,
            headers=call.headers,
            body=call.body,
            total_s=self._total_timeout(),
            connect_s=settings.connect_timeout,
            read_s=settings.read_timeout,
            max_body=settings.max_body_bytes,
            resend=call.resend,
        )
        return HttpReply(status, headers, body)

    async def _send_aiohttp(self, call: _Call) -> HttpReply:
        session = self._client.session()
        limit = self.settings.max_body_bytes
        try:
            async with session.request(
                call.method,
                self.url(call.path),
                data=call.body,
                headers=dict(call.headers),
                params=dict(call.params),
                timeout=aiohttp.ClientTimeout(
                    total=self._total_timeout(),
                    sock_connect=self.settings.connect_timeout,
                    sock_read=self.settings.read_timeout,
                ),
                allow_redirects=False,
            ) as resp:
                if resp.content_length is not None and resp.content_length > limit:
                    raise AgencyBadResponse(self.agency, f"body over {limit} bytes")
                # Chunk by chunk: read(n) returns what is buffered, not the whole body, and
                # a compressed body must be capped after decompression.
                chunks: list[bytes] = []
                size = 0
                async for chunk in resp.content.iter_any():
                    size += len(chunk)
                    if size > limit:
                        raise AgencyBadResponse(self.agency, f"body over {limit} bytes")
                    chunks.append(chunk)
                return HttpReply(resp.status, resp.headers, b"".join(chunks))
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise AgencyTimeout(self.agency, "no answer within the timeout") from exc
        except aiohttp.ClientPayloadError as exc:
            raise AgencyBadResponse(self.agency, "truncated or corrupt body") from exc
        except aiohttp.ClientResponseError as exc:
            raise AgencyBadResponse(self.agency, f"malformed response ({exc.status})") from exc
        except aiohttp.ClientError as exc:
            raise AgencyUnavailable(
                self.agency, f"connection failed ({type(exc).__name__})"
            ) from exc


AgencyClient = Literal["lean", "aiohttp"]


class HttpClient:
    """Owns what the whole process shares for agency calls: the lean transport's pools
    (``client="lean"``, the default) or one ``aiohttp.ClientSession``.

    ``limit`` caps connections per agency on the lean transport, in all on aiohttp.
    """

    def __init__(self, *, limit: int = 256, client: AgencyClient = "lean") -> None:
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self.lean = LeanClient(limit=limit) if client == "lean" else None
        self.agencies: dict[str, AgencyHttp] = {}

    def session(self) -> aiohttp.ClientSession:
        # Created lazily inside the running loop: aiohttp binds the loop at construction.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300),
                raise_for_status=False,
                # One session serves every officer: a cookie an agency set in answer to one
                # officer's request must never go out with the next officer's.
                cookie_jar=aiohttp.DummyCookieJar(),
            )
        return self._session

    def for_agency(self, agency: str, settings: HttpSettings) -> AgencyHttp:
        http = AgencyHttp(agency, settings, self)
        self.agencies[agency] = http
        return http

    async def aclose(self) -> None:
        if self.lean is not None:
            self.lean.close()
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
