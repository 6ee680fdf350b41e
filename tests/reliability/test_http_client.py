"""``AgencyHttp`` against a real stand-in server: retries, idempotency, deadline, bulkhead,
body cap. Every claim is proven by what the server counted."""

from __future__ import annotations

import asyncio
import gzip
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from connectors.deadline import deadline_after
from connectors.http import AgencyHttp, HttpClient, HttpSettings
from gateway.errors import AgencyBadResponse, AgencyTimeout, AgencyUnavailable
from tests.reliability.agency_server import AgencyServer

RETRIES = 2


@pytest.fixture
async def server() -> AsyncIterator[AgencyServer]:
    running = await AgencyServer().start()
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture(params=["lean", "aiohttp"])
async def client(request: pytest.FixtureRequest) -> AsyncIterator[HttpClient]:
    # Every claim below holds for both agency clients, whichever one the setting picks.
    async with HttpClient(client=request.param) as running:
        yield running


def agency(client: HttpClient, server: AgencyServer, **settings: Any) -> AgencyHttp:
    options: dict[str, Any] = {
        "max_retries": RETRIES,
        "backoff_base_s": 0.01,
        "breaker_threshold": 100,
        **settings,
    }
    return client.for_agency("land_registry", HttpSettings(base_url=server.url, **options))


async def unavailable(_request: web.Request) -> web.StreamResponse:
    return web.json_response({"error": "service_unavailable"}, status=503)


async def dropped(request: web.Request) -> web.StreamResponse:
    # Executed, then the answer is lost: the connection closes with no response.
    assert request.transport is not None
    request.transport.close()
    return web.Response()


async def test_a_write_without_its_key_is_sent_once(
    server: AgencyServer, client: HttpClient
) -> None:
    http = agency(client, server)
    server.reply = unavailable
    reply = await http.request("POST", "/lr/seize", body=b"<Seize/>")
    assert reply.status == 503
    assert server.requests == 1

    server.reset()
    server.reply = dropped
    with pytest.raises(AgencyUnavailable):
        await http.request("POST", "/lr/seize", body=b"<Seize/>")
    assert server.requests == 1, "a lost response may mean it was executed: never resend"


async def test_a_write_with_its_key_is_retried_with_the_same_key(
    server: AgencyServer, client: HttpClient
) -> None:
    http = agency(client, server)
    server.reply = dropped
    with pytest.raises(AgencyUnavailable):
        await http.request("POST", "/lr/seize", body=b"<Seize/>", idempotency_key="req-42")
    assert server.requests == 1 + RETRIES
    assert server.keys == ["req-42"] * (1 + RETRIES)

    server.reset()
    server.reply = unavailable
    await http.request("POST", "/lr/seize", headers={"Idempotency-Key": "req-43"})
    assert server.keys == ["req-43"] * (1 + RETRIES)
    assert http.stats.retries == 2 * RETRIES


async def test_reads_are_retried_then_succeed(server: AgencyServer, client: HttpClient) -> None:
    http = agency(client, server)
    answers = iter([503, 503, 200])

    async def flaky(_request: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=next(answers))

    server.reply = flaky
    reply = await http.request("POST", "/lr/query", body=b"<q/>", read=True)
    assert reply.status == 200
    assert server.requests == 3
    assert (http.stats.requests, http.stats.errors, http.stats.retries) == (3, 2, 2)


async def test_retry_after_is_honoured_then_succeeds(
    server: AgencyServer, client: HttpClient
) -> None:
    http = agency(client, server)
    answers = iter([429, 200])

    async def limited(_request: web.Request) -> web.StreamResponse:
        status = next(answers)
        return web.json_response(
            {}, status=status, headers={"Retry-After": "1"} if status == 429 else {}
        )

    server.reply = limited
    with deadline_after(5.0):
        reply = await http.request("GET", "/ca/v2/marriage/1")
    assert reply.status == 200 and server.requests == 2


async def test_no_retry_waits_past_the_deadline(server: AgencyServer, client: HttpClient) -> None:
    http = agency(client, server)

    async def limited(_request: web.Request) -> web.StreamResponse:
        return web.json_response({}, status=503, headers={"Retry-After": "1"})

    server.reply = limited
    with deadline_after(0.5):
        reply = await http.request("GET", "/ca/v2/marriage/1")
    assert reply.status == 503 and server.requests == 1


async def test_bulkhead_caps_calls_in_flight(server: AgencyServer, client: HttpClient) -> None:
    http = agency(client, server, max_concurrency=2)

    async def slow(_request: web.Request) -> web.StreamResponse:
        await asyncio.sleep(0.1)
        return web.json_response({})

    server.reply = slow
    await asyncio.gather(*(http.request("GET", f"/x/{i}") for i in range(6)))
    assert server.requests == 6
    assert server.max_in_flight == 2


async def test_waiting_for_a_slot_ends_at_the_deadline(
    server: AgencyServer, client: HttpClient
) -> None:
    http = agency(client, server, max_concurrency=1, max_retries=0)
    release = asyncio.Event()

    async def held(_request: web.Request) -> web.StreamResponse:
        await release.wait()
        return web.json_response({})

    server.reply = held
    with deadline_after(0.3):
        outcomes = await asyncio.gather(
            http.request("GET", "/a"), http.request("GET", "/b"), return_exceptions=True
        )
    release.set()
    assert all(isinstance(o, AgencyTimeout) for o in outcomes), outcomes
    assert server.requests == 1  # the second never got a slot, so never went out
    assert http.stats.shed == 1 and http.stats.timeouts == 1


async def test_a_long_body_is_read_whole(server: AgencyServer, client: HttpClient) -> None:
    http = agency(client, server)
    chunk = b"x" * 10_000

    async def streamed(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "application/json"})
        await response.prepare(request)
        for _ in range(30):
            await response.write(chunk)
            await asyncio.sleep(0)
        await response.write_eof()
        return response

    server.reply = streamed
    reply = await http.request("GET", "/big")
    assert len(reply.body) == 300_000


@pytest.mark.parametrize("shape", ["content-length", "chunked", "gzip-bomb"])
async def test_a_body_over_the_cap_is_refused(
    server: AgencyServer, client: HttpClient, shape: str
) -> None:
    http = agency(client, server, max_body_bytes=64 * 1024, max_retries=0)

    async def huge(request: web.Request) -> web.StreamResponse:
        if shape == "content-length":
            return web.Response(body=b"x" * 1_000_000)
        if shape == "gzip-bomb":  # 64 MiB of zeros in well under 100 KiB on the wire
            bomb = gzip.compress(b"\0" * (64 * 1024 * 1024), compresslevel=9)
            return web.Response(body=bomb, headers={"Content-Encoding": "gzip"})
        response = web.StreamResponse()
        response.enable_chunked_encoding()
        await response.prepare(request)
        try:
            for _ in range(1000):
                await response.write(b"x" * 65536)
        except ConnectionError:
            pass  # the client stopped reading, as it should
        return response

    server.reply = huge
    with pytest.raises(AgencyBadResponse, match="body over"):
        await http.request("GET", "/huge")
    assert http.stats.errors_by_code == {"AGENCY_BAD_RESPONSE": 1}
