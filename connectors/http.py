"""The shared HTTP client: one aiohttp session, one ``AgencyHttp`` per agency.

Every agency call goes through ``AgencyHttp.request``: it applies the agency's timeouts and
concurrency cap (bulkhead), caps the body size, records service figures, and translates
aiohttp's exceptions into our ``AgencyError`` tree in exactly one place.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import aiohttp
from multidict import CIMultiDict

from gateway.errors import AgencyBadResponse, AgencyError, AgencyTimeout, AgencyUnavailable

__all__ = ["AgencyHttp", "AgencyStats", "HttpClient", "HttpReply", "HttpSettings"]


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Transport settings for one agency."""

    base_url: str
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    total_timeout: float = 8.0
    max_concurrency: int = 8
    max_body_bytes: int = 8 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class HttpReply:
    status: int
    headers: Mapping[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "").split(";", 1)[0].strip().lower()


@dataclass(slots=True)
class AgencyStats:
    """Running service figures for one agency (exported to GraphQL and Prometheus)."""

    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    in_flight: int = 0
    latencies_ms: list[float] = field(default_factory=list)

    def record(self, ms: float) -> None:
        self.latencies_ms.append(ms)
        if len(self.latencies_ms) > 2048:  # a window, not a history: memory stays flat
            del self.latencies_ms[:1024]


class AgencyHttp:
    """HTTP access to one agency under its own limits."""

    def __init__(self, agency: str, settings: HttpSettings, client: HttpClient) -> None:
        self.agency = agency
        self.settings = settings
        self._client = client
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._timeout = aiohttp.ClientTimeout(
            total=settings.total_timeout,
            sock_connect=settings.connect_timeout,
            sock_read=settings.read_timeout,
        )
        self.stats = AgencyStats()

    def url(self, path: str) -> str:
        return self.settings.base_url.rstrip("/") + path

    async def request(
        self,
        method: str,
        path: str,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
    ) -> HttpReply:
        """Send one request; return the reply whatever its status, or raise ``AgencyError``."""
        async with self._slots:
            self.stats.requests += 1
            self.stats.in_flight += 1
            started = time.perf_counter()
            try:
                return await self._send(method, path, body, headers, params)
            except AgencyTimeout:
                self.stats.timeouts += 1
                self.stats.errors += 1
                raise
            except AgencyError:
                self.stats.errors += 1
                raise
            finally:
                self.stats.in_flight -= 1
                self.stats.record((time.perf_counter() - started) * 1000)

    async def _send(
        self,
        method: str,
        path: str,
        body: bytes | None,
        headers: Mapping[str, str] | None,
        params: Mapping[str, str] | None,
    ) -> HttpReply:
        session = self._client.session()
        try:
            async with session.request(
                method,
                self.url(path),
                data=body,
                headers=dict(headers or {}),
                params=dict(params or {}),
                timeout=self._timeout,
                allow_redirects=False,
            ) as resp:
                limit = self.settings.max_body_bytes
                if resp.content_length is not None and resp.content_length > limit:
                    raise AgencyBadResponse(self.agency, f"body over {limit} bytes")
                data = await resp.content.read(limit + 1)
                if len(data) > limit:
                    raise AgencyBadResponse(self.agency, f"body over {limit} bytes")
                return HttpReply(resp.status, CIMultiDict(resp.headers), data)
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


class HttpClient:
    """Owns the one ``aiohttp.ClientSession`` the whole process shares."""

    def __init__(self, *, limit: int = 256) -> None:
        self._session: aiohttp.ClientSession | None = None
        self._limit = limit
        self.agencies: dict[str, AgencyHttp] = {}

    def session(self) -> aiohttp.ClientSession:
        # Created lazily inside the running loop: aiohttp binds the loop at construction.
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._limit, ttl_dns_cache=300),
                raise_for_status=False,
            )
        return self._session

    def for_agency(self, agency: str, settings: HttpSettings) -> AgencyHttp:
        http = AgencyHttp(agency, settings, self)
        self.agencies[agency] = http
        return http

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
