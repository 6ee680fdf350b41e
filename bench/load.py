"""``python -m bench.load``: closed-loop HTTP load from a process of its own.

``--concurrency`` keep-alive connections each send the next request as soon as the previous
answer is in, until ``--requests`` answers have come back or ``--seconds`` have passed,
whichever is first (a short warm-up before that is not counted). Request bodies come from a
JSON-lines file and are sent in turn, so that consecutive requests ask for different
debtors. Each HTTP request is encoded once up front and responses are parsed no further
than ``Content-Length``: on a two-core machine every cycle the client spends is taken from
the server it measures. Prints one JSON object: counts, statuses, req/s and latency
percentiles, and how busy the client itself was.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import sys
import time
from collections import Counter
from collections.abc import Coroutine
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import orjson

__all__ = ["LoadResult", "main", "percentile", "run"]


def percentile(sorted_values: list[float], p: float) -> float:
    """The ``p``-th percentile (0..100) by nearest rank; 0.0 for no values."""
    if not sorted_values:
        return 0.0
    rank = max(0, min(len(sorted_values) - 1, round(p / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[rank]


class _Conn(asyncio.Protocol):
    """One keep-alive HTTP/1.1 connection that has at most one request in flight."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.waiter: asyncio.Future[tuple[int, bytes]] | None = None
        self.head_end = -1
        self.status = 0
        self.length = 0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # uvloop's transports implement the interface without subclassing asyncio's.
        self.transport = cast(asyncio.Transport, transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self.transport = None
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_exception(ConnectionError("connection closed"))

    def data_received(self, data: bytes) -> None:
        self.buf += data
        waiter = self.waiter
        if waiter is None or waiter.done():
            return
        if self.head_end < 0:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            head = bytes(self.buf[:end]).lower()
            at = head.find(b"\r\ncontent-length:")
            if at < 0:
                waiter.set_exception(ValueError("response without Content-Length"))
                return
            self.status = int(head[9:12])
            stop = head.find(b"\r\n", at + 2)
            self.length = int(head[at + 17 : stop if stop >= 0 else len(head)])
            self.head_end = end + 4
        total = self.head_end + self.length
        if len(self.buf) >= total:
            body = bytes(self.buf[self.head_end : total])
            del self.buf[:total]
            self.head_end = -1
            waiter.set_result((self.status, body))

    async def exchange(self, request: bytes) -> tuple[int, bytes]:
        if self.transport is None:
            raise ConnectionError("not connected")
        self.waiter = asyncio.get_running_loop().create_future()
        self.transport.write(request)
        return await self.waiter


@dataclass
class LoadResult:
    """What one run measured; ``as_json`` is what the command prints."""

    concurrency: int
    latencies_ms: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    graphql_errors: int = 0
    transport_errors: int = 0
    bytes_in: int = 0
    elapsed_s: float = 0.0
    client_cpu_s: float = 0.0

    def as_json(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        done = len(lat)
        return {
            "requests": done,
            "concurrency": self.concurrency,
            "elapsed_s": round(self.elapsed_s, 3),
            "rps": round(done / self.elapsed_s, 1) if self.elapsed_s else 0.0,
            "p50_ms": round(percentile(lat, 50), 2),
            "p90_ms": round(percentile(lat, 90), 2),
            "p99_ms": round(percentile(lat, 99), 2),
            "max_ms": round(lat[-1], 2) if lat else 0.0,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "non_200": sum(v for k, v in self.statuses.items() if k != 200),
            "graphql_errors": self.graphql_errors,
            "transport_errors": self.transport_errors,
            "mean_body_bytes": round(self.bytes_in / done) if done else 0,
            "client_cpu_share": round(self.client_cpu_s / self.elapsed_s, 3)
            if self.elapsed_s
            else 0.0,
        }


def encode_requests(
    host: str, port: int, path: str, token: str, bodies: list[bytes]
) -> list[bytes]:
    """Each body as one complete ``POST`` request, bytes ready to write."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json\r\n"
    )
    if token:
        head += f"Authorization: Bearer {token}\r\n"
    return [(head + f"Content-Length: {len(b)}\r\n\r\n").encode() + b for b in bodies]


async def run(
    host: str,
    port: int,
    requests: list[bytes],
    *,
    concurrency: int,
    count: int,
    seconds: float,
    warmup_s: float,
) -> LoadResult:
    """Drive the load; stops at ``count`` answers or after ``seconds``, whichever is first."""
    loop = asyncio.get_running_loop()
    result = LoadResult(concurrency)
    order = itertools.cycle(range(len(requests)))
    state = {"measuring": False, "sent": 0, "stop_at": 0.0}

    async def connect() -> _Conn:
        _, conn = await loop.create_connection(_Conn, host, port)
        return conn

    async def worker() -> None:
        conn = await connect()
        try:
            while True:
                now = time.perf_counter()
                if state["measuring"] and (state["sent"] >= count or now >= state["stop_at"]):
                    return
                if state["measuring"]:
                    state["sent"] += 1
                request = requests[next(order)]
                measuring = state["measuring"]
                try:
                    status, body = await conn.exchange(request)
                except (OSError, ValueError):
                    if measuring:
                        result.transport_errors += 1
                    if conn.transport is not None:
                        conn.transport.close()
                    conn = await connect()
                    continue
                if measuring:
                    result.latencies_ms.append((time.perf_counter() - now) * 1000)
                    result.statuses[status] += 1
                    result.bytes_in += len(body)
                    if b'"errors"' in body:
                        result.graphql_errors += 1
        finally:
            if conn.transport is not None:
                conn.transport.close()

    tasks = [asyncio.create_task(worker()) for _ in range(concurrency)]
    await asyncio.sleep(warmup_s)
    started = time.perf_counter()
    cpu0 = time.process_time()
    state.update(measuring=True, stop_at=started + seconds)
    print("measuring", file=sys.stderr, flush=True)
    await asyncio.gather(*tasks)
    result.elapsed_s = time.perf_counter() - started
    result.client_cpu_s = time.process_time() - cpu0
    return result


def main(argv: list[str] | None = None) -> None:
    """Run one load test from the command line; print its result as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.load", description=__doc__)
    parser.add_argument("--url", required=True, help="http://127.0.0.1:PORT/graphql")
    parser.add_argument("--bodies", type=Path, required=True, help="JSON lines: request bodies")
    parser.add_argument("--token", default="")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--requests", type=int, default=10_000, help="stop after this many")
    parser.add_argument("--seconds", type=float, default=10.0, help="or after this long")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds sent, not counted")
    args = parser.parse_args(argv)
    rest = args.url.removeprefix("http://")
    hostport, _, path = rest.partition("/")
    host, _, port = hostport.partition(":")
    if host not in ("127.0.0.1", "localhost"):
        parser.error("the bench only sends load to 127.0.0.1")
    bodies = [line for line in args.bodies.read_bytes().splitlines() if line.strip()]
    requests = encode_requests(host, int(port), "/" + path, args.token, bodies)
    result = _run_loop(
        run(
            host,
            int(port),
            requests,
            concurrency=args.concurrency,
            count=args.requests,
            seconds=args.seconds,
            warmup_s=args.warmup,
        )
    )
    sys.stdout.buffer.write(orjson.dumps(result.as_json()) + b"\n")


def _run_loop(coro: Coroutine[Any, Any, LoadResult]) -> LoadResult:
    # uvloop when it is installed: the client's own overhead is what it must keep small.
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


if __name__ == "__main__":
    main()
