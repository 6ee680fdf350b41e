"""The bulk look-up client against a scripted gateway: retries, splits, per-id verdicts."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from gateway.cli.lookup import (
    GatewayUnavailable,
    LookupClient,
    LookupOptions,
    QueryRefused,
    graphql_url,
    run_lookup,
)
from gateway.cli.lookup_io import OutputFile

Handler = Callable[[list[str]], Awaitable[web.Response]]


class FakeGateway:
    """Answers POST /graphql with whatever ``handler`` says; counts and keeps each ask."""

    def __init__(self) -> None:
        self.asked: list[list[str]] = []
        self.handler: Handler = self.profiles
        self.url = ""

    async def graphql(self, request: web.Request) -> web.Response:
        body = await request.json()
        assert request.headers["Authorization"] == "Bearer t0ken"
        assert body["variables"]["caseNumber"] == "（2025）苏0311执1号"
        ids = list(body["variables"]["ids"])
        self.asked.append(ids)
        return await self.handler(ids)

    async def profiles(self, ids: list[str]) -> web.Response:
        return web.json_response({"data": {"debtors": [{"kind": "PERSON"} for _ in ids]}})


@pytest.fixture
async def fake() -> AsyncIterator[FakeGateway]:
    gw = FakeGateway()
    app = web.Application()
    app.router.add_post("/graphql", gw.graphql)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    gw.url = f"http://{host}:{port}"
    try:
        yield gw
    finally:
        await runner.cleanup()


def options(fake: FakeGateway, **kw: Any) -> LookupOptions:
    values: dict[str, Any] = {
        "url": fake.url,
        "case_number": "（2025）苏0311执1号",
        "token": "t0ken",
        "backoff_s": 0.001,
        "retries": 2,
    }
    values.update(kw)
    return LookupOptions(**values)


async def ask(fake: FakeGateway, ids: list[str], **kw: Any) -> list[dict[str, Any]]:
    async with aiohttp.ClientSession() as session:
        return await LookupClient(options(fake, **kw), session).results(ids)


def test_the_url_may_name_the_server_or_the_endpoint() -> None:
    assert graphql_url("http://127.0.0.1:8000") == "http://127.0.0.1:8000/graphql"
    assert graphql_url("http://127.0.0.1:8000/") == "http://127.0.0.1:8000/graphql"
    assert graphql_url("https://gw/x/graphql") == "https://gw/x/graphql"
    with pytest.raises(ValueError, match="--url"):
        graphql_url("127.0.0.1:8000")


async def test_unwell_answers_are_retried_and_retry_after_is_honoured(fake: FakeGateway) -> None:
    statuses = [503, 429]

    async def flaky(ids: list[str]) -> web.Response:
        if statuses:
            return web.json_response({}, status=statuses.pop(0), headers={"Retry-After": "0"})
        return await fake.profiles(ids)

    fake.handler = flaky
    got = await ask(fake, ["a", "b"])
    assert [r["status"] for r in got] == ["ok", "ok"]
    assert len(fake.asked) == 3


async def test_a_gateway_that_stays_down_stops_the_run(fake: FakeGateway) -> None:
    async def down(_ids: list[str]) -> web.Response:
        return web.json_response({}, status=503)

    fake.handler = down
    with pytest.raises(GatewayUnavailable, match="3 attempts"):
        await ask(fake, ["a"])
    assert len(fake.asked) == 3


async def test_a_refused_token_stops_at_once(fake: FakeGateway) -> None:
    async def refused(_ids: list[str]) -> web.Response:
        return web.json_response({"errors": [{"message": "no"}]}, status=401)

    fake.handler = refused
    with pytest.raises(GatewayUnavailable, match="401"):
        await ask(fake, ["a"])
    assert len(fake.asked) == 1


async def test_each_id_gets_its_own_verdict(fake: FakeGateway) -> None:
    async def mixed(ids: list[str]) -> web.Response:
        return web.json_response(
            {
                "data": {"debtors": [{"n": 0}, None, {"n": 2}]},
                "errors": [
                    {"message": "lr down", "path": ["debtors", 0, "assets"],
                     "extensions": {"code": "AGENCY_UNAVAILABLE"}},
                    {"message": "gone", "path": ["debtors", 1],
                     "extensions": {"code": "NOT_FOUND"}},
                ],
            }
        )  # fmt: skip

    fake.handler = mixed
    first, second, third = await ask(fake, ["a", "b", "c"])
    assert (first["status"], first["data"]) == ("partial", {"n": 0})
    assert first["errors"][0]["extensions"]["code"] == "AGENCY_UNAVAILABLE"
    assert (second["status"], second["data"]) == ("failed", None)
    assert second["errors"][0]["extensions"]["code"] == "NOT_FOUND"
    assert (third["status"], third["errors"]) == ("ok", [])


async def test_a_chunk_over_the_limit_is_halved(fake: FakeGateway) -> None:
    async def small_only(ids: list[str]) -> web.Response:
        if len(ids) > 2:
            error = {"message": "too many", "path": ["debtors"],
                     "extensions": {"code": "LIMIT_EXCEEDED"}}  # fmt: skip
            return web.json_response({"data": None, "errors": [error]})
        return await fake.profiles(ids)

    fake.handler = small_only
    got = await ask(fake, ["a", "b", "c", "d", "e"])
    assert [r["id"] for r in got] == ["a", "b", "c", "d", "e"]
    assert {r["status"] for r in got} == {"ok"}
    assert [len(a) for a in fake.asked] == [5, 2, 3, 1, 2]


async def test_one_foreign_id_does_not_sink_its_chunk(fake: FakeGateway) -> None:
    async def guarded(ids: list[str]) -> web.Response:
        if "x" in ids:
            error = {"message": "not a party", "path": ["debtors"],
                     "extensions": {"code": "FORBIDDEN", "field": "ids"}}  # fmt: skip
            return web.json_response({"data": None, "errors": [error]})
        return await fake.profiles(ids)

    fake.handler = guarded
    got = await ask(fake, ["a", "x", "b"])
    assert [r["status"] for r in got] == ["ok", "failed", "ok"]
    assert got[1]["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert len(fake.asked) == 4  # the chunk, then each id alone


async def test_a_refused_query_is_not_blamed_on_the_ids(fake: FakeGateway) -> None:
    async def invalid_query(_ids: list[str]) -> web.Response:
        error = {"message": "Cannot query field 'nope' on type 'Debtor'."}
        return web.json_response({"data": None, "errors": [error]})

    fake.handler = invalid_query
    with pytest.raises(QueryRefused, match="nope"):
        await ask(fake, ["a", "b"])


async def test_run_lookup_writes_each_chunk_whole_and_stops_on_trouble(
    fake: FakeGateway, tmp_path: Path
) -> None:
    ids = [f"id{i:03d}" for i in range(23)]

    async def fails_late(chunk: list[str]) -> web.Response:
        if "id020" in chunk:
            return web.json_response({}, status=502)
        return await fake.profiles(chunk)

    fake.handler = fails_late
    out = OutputFile.open(tmp_path / "out.jsonl")
    with pytest.raises(GatewayUnavailable):
        await run_lookup(options(fake, chunk_size=5, concurrency=1), ids, out)
    assert list(out.done) == ids[:20]
    assert (tmp_path / "out.jsonl").read_bytes().count(b"\n") == 20
