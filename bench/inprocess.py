"""CPU per warm look-up in one process, through the gateway's ASGI app: the A/B yardstick.

``python -m bench.inprocess [--audit on|off] [--requests N] [--split]`` starts the mocks
(a process of their own), builds the gateway app in this process on a fresh data dir with
the bench's config, warms the cache with every profile of the 1,000-person data set, then
drives ``--requests`` full profiles through the app at 32 concurrent requests, calling it
as an ASGI server would (no sockets, no load generator), and prints CPU time per request
(``time.process_time``: the event loop and every thread of this process).

This is the figure the "What the gateway does for speed" table in ``bench/README.md`` is
made of. On a shared machine run the two sides of a comparison one after the other, a few
times each (``git worktree`` for the old side, with ``PYTHONPATH`` pointing at it). Start
each side from its own tree's directory: ``python -m`` puts the current directory first on
``sys.path``, ahead of ``PYTHONPATH``, so run from the new tree both sides are the new code.

``--split`` first runs the look-ups one at a time and reports how much of each request's
CPU is spent inside strawberry's ``Schema.execute`` and how much around it.

``--cold`` measures cold look-ups instead, as the peer scenario asks them (its query, the
fact and response caches off, bulkheads opened, cases of 50 debtors): every request goes
to the mocks, whose CPU is their own process's. ``--batch`` asks one case's 50 debtors per
request (``debtors(ids:)``, the peer's query), warm or cold. ``--profile FILE`` writes a
cProfile of the measured run.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import time
from collections.abc import AsyncIterator
from typing import Any

import orjson
import strawberry
import uvloop
from starlette.applications import Starlette
from starlette.types import Message

from bench.__main__ import PEOPLE, SEED
from bench.fixtures import (
    PROFILE,
    GatewayConfig,
    bench_token,
    person_cases,
    prepare_audit_log,
    seed_cases,
)
from bench.lab import Lab
from bench.peer_facts import LIANDONG_QUERY, LIANDONG_QUERY_MANY
from gateway.settings import load_settings
from gateway.web.app import create_app
from mocks.world import World

__all__ = ["main", "measure"]

CONCURRENCY = 32
BATCH = 50  # debtors per case in the cold mode, and per request with --batch
OPEN_BULKHEAD = 2048  # as in the peer scenario: nothing waits for a slot


async def call(app: Starlette, body: bytes, token: str) -> list[Message]:
    """One POST /graphql through ``app``, as an ASGI server makes it; the sent messages."""
    sent: list[Message] = []
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> Message:
        return pending.pop() if pending else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"content-type", b"application/json"),
            (b"authorization", b"Bearer " + token.encode()),
            (b"host", b"bench"),
        ],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    await app(scope, receive, send)
    return sent


@contextlib.asynccontextmanager
async def running(app: Starlette) -> AsyncIterator[None]:
    """The app's lifespan: started on entry, shut down on exit."""
    inbox: asyncio.Queue[Message] = asyncio.Queue()
    started, stopped = asyncio.Event(), asyncio.Event()

    async def send(message: Message) -> None:
        if message["type"].startswith("lifespan.startup"):
            started.set()
        elif message["type"].startswith("lifespan.shutdown"):
            stopped.set()

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, inbox.get, send))
    await inbox.put({"type": "lifespan.startup"})
    await started.wait()
    try:
        yield
    finally:
        await inbox.put({"type": "lifespan.shutdown"})
        await stopped.wait()
        await task


async def _split(app: Starlette, bodies: list[bytes], token: str, n: int) -> dict[str, float]:
    spent = 0.0
    original = strawberry.Schema.execute

    async def timed(self: strawberry.Schema, *args: Any, **kwargs: Any) -> Any:
        nonlocal spent
        started = time.thread_time()
        try:
            return await original(self, *args, **kwargs)
        finally:
            spent += time.thread_time() - started

    strawberry.Schema.execute = timed  # type: ignore[method-assign]
    try:
        started = time.thread_time()
        for i in range(n):
            await call(app, bodies[i % len(bodies)], token)
        total = time.thread_time() - started
    finally:
        strawberry.Schema.execute = original  # type: ignore[method-assign]
    return {
        "sequential_ms_per_request": round(total / n * 1000, 3),
        "schema_execute_ms": round(spent / n * 1000, 3),
        "around_ms": round((total - spent) / n * 1000, 3),
    }


def _cold_config(config: GatewayConfig) -> None:
    config.cache = False
    config.ca_concurrency = OPEN_BULKHEAD
    agencies = config.as_dict()["agencies"]
    for options in agencies.values():
        options["max_concurrency"] = OPEN_BULKHEAD
    config.extra["agencies"] = agencies


def _bodies(ids: list[str], case_of: dict[str, str], *, cold: bool, batch: bool) -> list[bytes]:
    if batch:
        groups = [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]
        return [
            orjson.dumps(
                {
                    "query": LIANDONG_QUERY_MANY,
                    "variables": {"ids": g, "caseNumber": case_of[g[0]]},
                }
            )
            for g in groups
        ]
    query = LIANDONG_QUERY if cold else PROFILE
    return [
        orjson.dumps({"query": query, "variables": {"id": pid, "caseNumber": case_of[pid]}})
        for pid in ids
    ]


async def measure(
    *,
    audit: bool,
    requests: int,
    split: bool = False,
    cold: bool = False,
    batch: bool = False,
    profile: str | None = None,
    response_cache: bool = False,
    latency_ms: int = 0,
) -> dict[str, Any]:
    """Warm the app, then CPU per request over ``requests`` look-ups at 32 concurrent."""
    async with await Lab.open() as lab:
        world = World(seed=SEED, people=PEOPLE)
        ids = list(world.person_ids())
        cases = person_cases(ids, BATCH if cold or batch else 5, 7001)
        case_of = {pid: case.number for case in cases for pid, _ in case.debtor_ids}
        urls = await lab.mocks("mocks", people=PEOPLE, seed=SEED, ca_rate=1e6, ca_burst=10**6)
        config = GatewayConfig(
            lab.root / "gateway", urls, audit=audit, response_cache=response_cache
        )
        if cold:
            _cold_config(config)
        path = config.write(lab.root / "gateway.toml")
        await seed_cases(config.database_url, cases)
        await prepare_audit_log(path)
        app = create_app(load_settings(path), freeze_gc=True)
        token = bench_token()
        bodies = _bodies(ids, case_of, cold=cold, batch=batch)
        result: dict[str, Any] = {"audit": audit, "cold": cold, "batch": batch}
        result["response_cache"] = response_cache
        result["requests"] = requests
        async with running(app):
            # Warm-up: every body once (fills the fact cache; cold, opens the connections).
            for start in range(0, len(bodies), CONCURRENCY):
                await asyncio.gather(
                    *(call(app, b, token) for b in bodies[start : start + CONCURRENCY])
                )
            answer = await call(app, bodies[0], token)
            if b'"errors"' in answer[-1].get("body", b""):
                raise RuntimeError(f"the profile has errors: {answer[-1]['body'][:300]!r}")
            if latency_ms:
                await lab.set_faults(urls, {"latency_ms": latency_ms})
                result["latency_ms"] = latency_ms
            if split:
                result |= await _split(app, bodies, token, min(requests, 4000))

            async def worker(first: int) -> None:
                for i in range(first, requests, CONCURRENCY):
                    await call(app, bodies[i % len(bodies)], token)

            profiler = cProfile.Profile() if profile else None
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler is not None:
                profiler.enable()
            await asyncio.gather(*(worker(k) for k in range(CONCURRENCY)))
            if profiler is not None:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            if profiler is not None and profile:
                profiler.dump_stats(profile)
        result |= {
            "cpu_ms_per_request": round(cpu / requests * 1000, 3),
            "requests_per_s": round(requests / wall),
        }
        return result


def main() -> None:
    """Print the figures of one run."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--audit", choices=["on", "off"], default="off")
    parser.add_argument("--requests", type=int, default=8000)
    parser.add_argument("--split", action="store_true")
    # On: every measured look-up after the warm-up is a response-cache hit.
    parser.add_argument("--response-cache", choices=["on", "off"], default="off")
    parser.add_argument("--cold", action="store_true", help="cold look-ups, the peer's query")
    parser.add_argument("--batch", action="store_true", help="50 debtors a request")
    parser.add_argument("--profile", metavar="FILE", help="write a cProfile of the measured run")
    parser.add_argument(
        "--latency-ms", type=int, default=0, help="every mock holds each answer this long"
    )
    args = parser.parse_args()
    result = uvloop.run(
        measure(
            audit=args.audit == "on",
            requests=args.requests,
            split=args.split,
            response_cache=args.response_cache == "on",
            cold=args.cold,
            batch=args.batch,
            profile=args.profile,
            latency_ms=args.latency_ms,
        )
    )
    print(" ".join(f"{k}={v}" for k, v in result.items()))


if __name__ == "__main__":
    main()
