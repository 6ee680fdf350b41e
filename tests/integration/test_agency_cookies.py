"""The process's one agency session keeps no cookies: what an agency set in answer to one
officer's request never goes out with another's."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from connectors.http import AgencyClient, HttpClient, HttpSettings


@pytest.fixture
async def agency() -> AsyncIterator[tuple[str, list[str | None]]]:
    """An agency on 127.0.0.1 that sets a session cookie and notes each request's Cookie."""
    seen: list[str | None] = []

    async def handle(request: web.Request) -> web.Response:
        seen.append(request.headers.get("Cookie"))
        response = web.json_response({"ok": True})
        response.set_cookie("SESSION", f"officer-{len(seen)}", path="/")
        return response

    app = web.Application()
    app.router.add_get("/persons", handle)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        # By name: aiohttp's default jar keeps no cookie from a bare IP address, and agencies
        # are reached by host name.
        yield f"http://localhost:{port}", seen
    finally:
        await runner.cleanup()


@pytest.mark.parametrize("kind", ["lean", "aiohttp"])
async def test_a_cookie_an_agency_sets_is_never_sent_back(
    agency: tuple[str, list[str | None]], kind: AgencyClient
) -> None:
    base_url, seen = agency
    async with HttpClient(client=kind) as client:
        http = client.for_agency("public_security", HttpSettings(base_url=base_url))
        for _ in range(3):
            reply = await http.request("GET", "/persons")
            assert reply.status == 200
    assert seen == [None, None, None]
