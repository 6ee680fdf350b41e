"""A scriptable stand-in agency: a real aiohttp server on 127.0.0.1 whose answer the test sets.

Counts what it received (and each request's ``Idempotency-Key``), so retries can be proven
by counts. By default it forwards to ``upstream`` (a real mock agency) when one is given,
so a gateway can run against it normally until the test makes it hostile.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
from aiohttp import web

Reply = Callable[[web.Request], Awaitable[web.StreamResponse]]

_HOP_BY_HOP = {"host", "content-length", "transfer-encoding", "connection", "accept-encoding"}


@dataclass
class AgencyServer:
    """The server's state: what to answer, and what it saw."""

    upstream: str | None = None
    reply: Reply | None = None
    requests: int = 0
    keys: list[str | None] = field(default_factory=list)
    in_flight: int = 0
    max_in_flight: int = 0
    url: str = ""
    _runner: web.AppRunner | None = None
    _session: aiohttp.ClientSession | None = None

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        self.keys.append(request.headers.get("Idempotency-Key"))
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            if self.reply is not None:
                return await self.reply(request)
            return await self.forward(request)
        finally:
            self.in_flight -= 1

    async def forward(self, request: web.Request) -> web.Response:
        """The upstream agency's answer to ``request``, as it gave it."""
        if self.upstream is None or self._session is None:
            return web.json_response({"error": "no_reply_set"}, status=500)
        headers = {k: v for k, v in request.headers.items() if k.lower() not in _HOP_BY_HOP}
        async with self._session.request(
            request.method,
            self.upstream + request.path_qs,
            data=await request.read(),
            headers=headers,
        ) as upstream:
            body = await upstream.read()
            kept = {
                "Content-Type": upstream.headers.get("Content-Type", "application/octet-stream")
            }
            if "Retry-After" in upstream.headers:
                kept["Retry-After"] = upstream.headers["Retry-After"]
            return web.Response(status=upstream.status, body=body, headers=kept)

    def reset(self) -> None:
        self.reply = None
        self.requests = 0
        self.keys.clear()
        self.max_in_flight = self.in_flight

    async def start(self) -> AgencyServer:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=1.0
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.url = f"http://{host}:{port}"
        if self.upstream is not None:
            self._session = aiohttp.ClientSession()
        return self

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()
