"""The lean agency transport against a raw-bytes agency on 127.0.0.1: keep-alive reuse,
stale connections, framing, caps, timeouts, malformed replies and cancellation. Each claim
is proven by what the server counted or what the pool holds."""

from __future__ import annotations

import asyncio
import gzip
import zlib
from collections.abc import AsyncIterator
from typing import Any

import pytest

from connectors.http import AgencyHttp, HttpClient, HttpSettings
from connectors.lean_transport import LeanPool
from gateway.errors import AgencyBadResponse, AgencyTimeout, AgencyUnavailable
from tests.reliability.raw_agency import RawAgency, RawRequest, ok

AGENCY = "land_registry"


@pytest.fixture
async def server() -> AsyncIterator[RawAgency]:
    running = await RawAgency().start()
    try:
        yield running
    finally:
        await running.aclose()


@pytest.fixture
async def client() -> AsyncIterator[HttpClient]:
    async with HttpClient(client="lean") as running:
        yield running


def agency(client: HttpClient, server: RawAgency, **settings: Any) -> AgencyHttp:
    options: dict[str, Any] = {"max_retries": 0, "breaker_threshold": 100, **settings}
    return client.for_agency(AGENCY, HttpSettings(base_url=server.url, **options))


def pool(client: HttpClient) -> LeanPool:
    assert client.lean is not None
    return client.lean.pools[AGENCY]


async def settle() -> None:
    # Lets the loop deliver what the other end did (a FIN, a close) to the protocols.
    for _ in range(5):
        await asyncio.sleep(0.01)


async def test_calls_in_turn_share_one_connection(server: RawAgency, client: HttpClient) -> None:
    http = agency(client, server)
    for n in range(5):
        reply = await http.request("GET", f"/parcels/{n}", params={"q": "a b"})
        assert reply.status == 200 and reply.body == b'{"ok": true}'
        assert reply.headers["content-type"] == "application/json"
    assert len(server.requests) == 5 and server.connections == 1
    assert [r.nth_on_connection for r in server.requests] == [1, 2, 3, 4, 5]
    assert server.requests[0].target == "/parcels/0?q=a+b"
    assert pool(client).opened == 1 and pool(client).idle == 1


async def test_connection_close_is_honoured(server: RawAgency, client: HttpClient) -> None:
    async def closing(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(extra="Connection: close\r\n"))
        return False

    server.answer = closing
    http = agency(client, server)
    for _ in range(3):
        assert (await http.request("GET", "/a")).status == 200
    assert server.connections == 3 and pool(client).idle == 0


async def test_a_connection_the_agency_closed_while_idle_is_not_used(
    server: RawAgency, client: HttpClient
) -> None:
    async def answer_then_hang_up(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok())  # keep-alive by the headers, then closed at once
        return False

    server.answer = answer_then_hang_up
    http = agency(client, server)
    await http.request("POST", "/a", body=b"{}")
    await settle()
    assert pool(client).idle == 1  # still listed, known to be closed
    await http.request("POST", "/b", body=b"{}")
    assert len(server.requests) == 2 and server.connections == 2
    assert http.stats.errors_by_code == {}


async def hang_up_on_the_second_call(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
    # The race a pool cannot see: the agency drops a kept-alive connection just as the next
    # call goes out on it. The call arrived; no answer comes.
    if request.nth_on_connection == 2:
        return False
    writer.write(ok())
    return True


async def test_a_read_on_a_stale_connection_goes_once_more_on_a_fresh_one(
    server: RawAgency, client: HttpClient
) -> None:
    server.answer = hang_up_on_the_second_call
    http = agency(client, server)
    await http.request("GET", "/a")
    reply = await http.request("GET", "/b")
    assert reply.status == 200
    assert [r.target for r in server.requests] == ["/a", "/b", "/b"]
    assert server.connections == 2
    assert http.stats.requests == 2 and http.stats.retries == 0 and http.stats.errors == 0


async def test_a_write_on_a_stale_connection_is_not_sent_again(
    server: RawAgency, client: HttpClient
) -> None:
    server.answer = hang_up_on_the_second_call
    http = agency(client, server, max_retries=2)
    await http.request("POST", "/a", body=b"1")
    with pytest.raises(AgencyUnavailable, match="closed before a reply"):
        await http.request("POST", "/b", body=b"2")
    assert [r.body for r in server.requests] == [b"1", b"2"]  # the write went out once
    assert server.connections == 1 and pool(client).idle == 0


async def test_a_keyed_write_on_a_stale_connection_goes_only_as_the_retry_policy_says(
    server: RawAgency, client: HttpClient
) -> None:
    # An agency that took an order and lost its answer looks like a stale connection: a key
    # makes the write retryable, but the tries are the policy's to count, not the pool's.
    server.answer = hang_up_on_the_second_call
    http = agency(client, server, max_retries=0)
    await http.request("POST", "/a", body=b"1")
    with pytest.raises(AgencyUnavailable, match="closed before a reply"):
        await http.request("POST", "/b", body=b"2", idempotency_key="order-7")
    assert [r.body for r in server.requests] == [b"1", b"2"]


async def test_a_chunked_body_is_read_whole(server: RawAgency, client: HttpClient) -> None:
    parts = [b"x" * 70_000, b"", b"y" * 3, b"z" * 9000]

    async def chunked(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
        for part in (p for p in parts if p):
            writer.write(b"%x\r\n%s\r\n" % (len(part), part))
            await writer.drain()
        writer.write(b"0\r\n\r\n")
        return True

    server.answer = chunked
    http = agency(client, server)
    reply = await http.request("GET", "/big")
    assert reply.body == b"".join(parts)
    assert pool(client).idle == 1  # a complete chunked reply leaves the connection usable


@pytest.mark.parametrize("shape", ["content-length", "chunked", "until-close", "gzip"])
async def test_a_body_over_the_cap_is_refused_and_its_connection_closed(
    server: RawAgency, client: HttpClient, shape: str
) -> None:
    async def huge(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if shape == "content-length":  # refused on the header, before any body is read
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 100000000\r\n\r\n")
            await request.closed()
        elif shape == "gzip":
            bomb = gzip.compress(b"\0" * (8 * 1024 * 1024))
            writer.write(ok(bomb, extra="Content-Encoding: gzip\r\n"))
        else:
            framing = "Transfer-Encoding: chunked\r\n" if shape == "chunked" else ""
            writer.write(f"HTTP/1.1 200 OK\r\n{framing}\r\n".encode())
            for _ in range(100):
                data = b"x" * 4096
                writer.write(b"%x\r\n%s\r\n" % (len(data), data) if framing else data)
                await writer.drain()
        return False

    server.answer = huge
    http = agency(client, server, max_body_bytes=64 * 1024)
    with pytest.raises(AgencyBadResponse, match="body over"):
        await http.request("GET", "/huge")
    assert pool(client).idle == 0
    await settle()
    assert server.closed_connections == 1


async def test_a_slow_body_hits_the_read_timeout(server: RawAgency, client: HttpClient) -> None:
    async def stalls(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345")
        await writer.drain()
        await asyncio.sleep(30)
        return False

    server.answer = stalls
    http = agency(client, server, read_timeout=0.2, total_timeout=20)
    with pytest.raises(AgencyTimeout, match="read timeout"):
        await http.request("GET", "/slow")
    assert http.stats.timeouts == 1 and pool(client).idle == 0


async def test_a_trickle_within_the_read_timeout_still_hits_the_total(
    server: RawAgency, client: HttpClient
) -> None:
    async def trickles(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n")
        for _ in range(1000):
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.05)
        return False

    server.answer = trickles
    http = agency(client, server, read_timeout=0.5, total_timeout=0.4)
    with pytest.raises(AgencyTimeout, match="within the timeout"):
        await http.request("GET", "/trickle")


@pytest.mark.parametrize(
    "raw",
    [
        b"HTTX/1.1 200 OK\r\n\r\n",
        b"HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Length: nine\r\n\r\n",
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: br\r\nContent-Length: 2\r\n\r\nhi",
        b"HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 5\r\n\r\nnotgz",
        b"HTTP/1.1 200 OK\r\nX-Long: " + b"a" * 100_000 + b"\r\n\r\n",
    ],
    ids=["status-line", "status-code", "length", "chunk-size", "encoding", "gzip", "header"],
)
async def test_a_malformed_reply_is_a_bad_response(
    server: RawAgency, client: HttpClient, raw: bytes
) -> None:
    async def garbage(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(raw)
        await writer.drain()
        await asyncio.sleep(30)  # the client must not wait for more
        return False

    server.answer = garbage
    http = agency(client, server, read_timeout=20)
    with pytest.raises(AgencyBadResponse):
        await http.request("GET", "/x")
    assert pool(client).idle == 0


@pytest.mark.parametrize("framing", ["Content-Length: 100\r\n", "Transfer-Encoding: chunked\r\n"])
async def test_an_early_close_mid_body_is_a_truncated_reply(
    server: RawAgency, client: HttpClient, framing: str
) -> None:
    async def cut(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(f"HTTP/1.1 200 OK\r\n{framing}\r\n".encode())
        writer.write(b"a\r\n0123456789\r\n" if "chunked" in framing else b"0123456789")
        return False

    server.answer = cut
    http = agency(client, server)
    with pytest.raises(AgencyBadResponse, match="truncated"):
        await http.request("GET", "/x")


async def test_a_body_read_until_close_is_read_whole(server: RawAgency, client: HttpClient) -> None:
    async def until_close(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\npart one, ")
        await writer.drain()
        writer.write(b"part two")
        return False

    server.answer = until_close
    reply = await agency(client, server).request("GET", "/x")
    assert reply.body == b"part one, part two" and pool(client).idle == 0


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
async def test_an_encoded_body_is_decoded(
    server: RawAgency, client: HttpClient, encoding: str
) -> None:
    plain = b'{"parcels": []}' * 100
    if encoding == "gzip":
        body = gzip.compress(plain)
    elif encoding == "deflate":
        body = zlib.compress(plain)
    else:
        squeezer = zlib.compressobj(wbits=-zlib.MAX_WBITS)
        body = squeezer.compress(plain) + squeezer.flush()
    name = "gzip" if encoding == "gzip" else "deflate"

    async def encoded(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        writer.write(ok(body, extra=f"Content-Encoding: {name}\r\n"))
        return True

    server.answer = encoded
    reply = await agency(client, server).request("GET", "/x")
    assert reply.body == plain
    assert server.requests[0].headers["accept-encoding"] == "gzip, deflate"


async def test_interim_replies_and_head_are_read_right(
    server: RawAgency, client: HttpClient
) -> None:
    async def answers(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        if request.method == "HEAD":
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n")
        else:
            writer.write(b"HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n" + ok(b"{}"))
        return True

    server.answer = answers
    http = agency(client, server)
    reply = await http.request("POST", "/x", body=b"{}")
    assert reply.status == 200 and reply.body == b"{}" and "X-Interim" not in reply.headers
    head = await http.request("HEAD", "/x")
    assert head.status == 200 and head.body == b""


async def test_a_cancelled_call_leaves_no_connection_in_the_pool(
    server: RawAgency, client: HttpClient
) -> None:
    answered = asyncio.Event()

    async def never(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        answered.set()
        await request.closed()
        return False

    server.answer = never
    http = agency(client, server)
    call = asyncio.create_task(http.request("GET", "/x"))
    await answered.wait()
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call
    assert pool(client).idle == 0
    await settle()
    assert server.closed_connections == 1  # closed, not kept for the next call


async def test_connections_per_agency_are_capped(server: RawAgency) -> None:
    in_flight = peak = 0

    async def slow(_request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.05)
        in_flight -= 1
        writer.write(ok())
        return True

    server.answer = slow
    async with HttpClient(client="lean", limit=2) as limited:
        http = agency(limited, server, max_concurrency=8)
        replies = await asyncio.gather(*(http.request("GET", f"/{n}") for n in range(6)))
        assert [r.status for r in replies] == [200] * 6
        assert server.connections == 2 and peak == 2
        assert pool(limited).idle == 2
        await limited.aclose()
        await settle()
        assert server.closed_connections == 2  # aclose closed the idle ones


async def test_a_refused_connection_is_unavailable(client: HttpClient) -> None:
    closed = await RawAgency().start()
    await closed.aclose()  # its port now refuses
    http = client.for_agency(AGENCY, HttpSettings(base_url=closed.url, max_retries=0))
    with pytest.raises(AgencyUnavailable, match="connection failed"):
        await http.request("GET", "/x")


async def test_no_cookie_is_kept_and_no_redirect_followed(
    server: RawAgency, client: HttpClient
) -> None:
    async def sets_cookie(request: RawRequest, writer: asyncio.StreamWriter) -> bool:
        extra = "Set-Cookie: s=officer-a\r\nLocation: /elsewhere\r\n"
        writer.write(ok(extra=extra).replace(b"200 OK", b"302 Found", 1))
        return True

    server.answer = sets_cookie
    http = agency(client, server)
    first = await http.request("GET", "/a")
    await http.request("GET", "/b")
    assert first.status == 302 and first.headers["location"] == "/elsewhere"
    assert [r.target for r in server.requests] == ["/a", "/b"]
    assert all("cookie" not in r.headers for r in server.requests)
