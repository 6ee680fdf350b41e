"""graphql-transport-ws on the record: each refused connection and each operation is one
audit record, written before anything about it is sent, and none reaches an agency."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_records
from tests.harness import OUTSIDER, Gateway, open_stack

SUBSCRIBE = """subscription($c: String!) { assistanceRequestUpdated(caseNumber: $c) {
  event { requestId seq kind status } request { id status } } }"""


@pytest.fixture
async def gw(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> AsyncIterator[Gateway]:
    async with open_stack(tmp_path, cases, mocks=mocks) as gateway:
        yield gateway


async def connect(gw: Gateway, init: dict[str, Any] | None) -> aiohttp.ClientWebSocketResponse:
    ws = await gw.session.ws_connect(
        gw.url.replace("http://", "ws://"), protocols=["graphql-transport-ws"]
    )
    message: dict[str, Any] = {"type": "connection_init"}
    if init is not None:
        message["payload"] = init
    await ws.send_json(message)
    return ws


async def receive(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 30)
    if message.type != aiohttp.WSMsgType.TEXT:
        return {"type": "closed", "code": ws.close_code}
    data: dict[str, Any] = message.json()
    return data


@pytest.mark.parametrize(
    ("init", "reason"),
    [
        ({}, "missing_token"),
        ({"Authorization": "Bearer not-a-jwt"}, "malformed"),
        (None, "missing_token"),  # connection_init without a payload
    ],
    ids=["no-token", "bad-token", "no-payload"],
)
async def test_a_refused_websocket_is_one_record(
    gw: Gateway, init: dict[str, Any] | None, reason: str
) -> None:
    ws = await connect(gw, init)
    try:
        assert (await receive(ws)) == {"type": "closed", "code": 4403}
    finally:
        await ws.close()
    records = await audit_records(gw.settings)
    assert len(records) == 1
    record = records[0]
    assert (record.outcome, record.code, record.http_status) == ("refused", "UNAUTHENTICATED", None)
    assert record.detail["transport"] == "graphql-transport-ws"
    assert (record.detail["close"], record.detail["reason"]) == (4403, reason)
    assert await gw.total_requests() == 0


async def test_a_forbidden_subscription_is_one_record(gw: Gateway, cases: list[CaseRecord]) -> None:
    ws = await connect(gw, {"Authorization": f"Bearer {gw.token(officer=OUTSIDER)}"})
    try:
        assert (await receive(ws))["type"] == "connection_ack"
        subscribe = {"query": SUBSCRIBE, "variables": {"c": cases[0].number}}
        await ws.send_json({"id": "1", "type": "subscribe", "payload": subscribe})
        message = await receive(ws)
        assert message["type"] in {"next", "error"}, message
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        # Its record was durable before that message left.
        records = await audit_records(gw.settings)
        assert len(records) == 1
        record = records[0]
        assert (record.outcome, record.code) == ("refused", "FORBIDDEN")
        assert record.principal == OUTSIDER and record.detail["operation_id"] == "1"
        assert record.variables == {"c": cases[0].number}
        await ws.send_json({"type": "ping"})
        while (message := await receive(ws))["type"] != "pong":
            assert message == {"id": "1", "type": "complete"}
        assert len(await audit_records(gw.settings)) == 1
    finally:
        await ws.close()
    assert await gw.total_requests() == 0


async def test_each_operation_on_one_connection_is_its_own_record(
    gw: Gateway, cases: list[CaseRecord]
) -> None:
    ws = await connect(gw, {"Authorization": f"Bearer {gw.token()}"})
    try:
        assert (await receive(ws))["type"] == "connection_ack"
        subscribe = {"query": SUBSCRIBE, "variables": {"c": cases[0].number}}
        await ws.send_json({"id": "a", "type": "subscribe", "payload": subscribe})
        await ws.send_json({"id": "b", "type": "subscribe", "payload": {"query": "{ nope }"}})
        message = await receive(ws)
        assert (message["id"], message["type"]) == ("b", "error")
        # The subscription notes its own start once its resolver runs; wait for that (by
        # polls, not time) so that the stop below always finds it started.
        for _ in range(600):
            started = await audit_records(gw.settings)
            if any(r.operation == "assistance.subscribe" for r in started):
                break
            await asyncio.sleep(0.05)
        await ws.send_json({"id": "a", "type": "complete"})  # stopped before any event
        # Messages are handled in order: once the pong is back, the stop was handled.
        await ws.send_json({"type": "ping"})
        assert (await receive(ws))["type"] == "pong"
        found = await audit_records(gw.settings)
    finally:
        await ws.close()
    # The subscription that was let through may also have noted its start itself, as it
    # does over HTTP ("assistance.subscribe", a record of the step, not of the request),
    # if it got that far before it was stopped.
    steps = [r.operation for r in found if "transport" not in r.detail]
    assert steps in ([], ["assistance.subscribe"])
    records = {r.detail["operation_id"]: r for r in found if "transport" in r.detail}
    assert len(records) == 2
    assert set(records) == {"a", "b"}
    assert records["a"].request_id != records["b"].request_id
    assert (records["a"].outcome, records["a"].detail["ended"]) == ("ok", "client")
    assert (records["b"].outcome, records["b"].code) == ("refused", "GRAPHQL_VALIDATION_FAILED")


async def test_protocol_refusals_are_records(gw: Gateway, cases: list[CaseRecord]) -> None:
    ws = await connect(gw, {"Authorization": f"Bearer {gw.token()}"})
    try:
        assert (await receive(ws))["type"] == "connection_ack"
        subscribe = {"query": SUBSCRIBE, "variables": {"c": cases[0].number}}
        await ws.send_json({"id": "x", "type": "subscribe", "payload": subscribe})
        await ws.send_json({"id": "x", "type": "subscribe", "payload": subscribe})
        assert (await receive(ws)) == {"type": "closed", "code": 4409}
    finally:
        await ws.close()
    ws = await connect(gw, {"Authorization": f"Bearer {gw.token()}"})
    try:
        assert (await receive(ws))["type"] == "connection_ack"
        await ws.send_str("not json \ud7ff")
        assert (await receive(ws)) == {"type": "closed", "code": 4400}
    finally:
        await ws.close()
    app: Any = gw.app
    view = app.routes[0].endpoint.holder["view"]
    view.connection_init_wait_timeout = timedelta(milliseconds=50)
    ws = await gw.session.ws_connect(
        gw.url.replace("http://", "ws://"), protocols=["graphql-transport-ws"]
    )
    try:
        assert (await receive(ws)) == {"type": "closed", "code": 4408}
    finally:
        await ws.close()
    refusals = [r for r in await audit_records(gw.settings) if "close" in r.detail]
    assert [(r.code, r.detail["close"], r.detail["reason"]) for r in refusals] == [
        ("BAD_REQUEST", 4409, "duplicate_id"),
        ("BAD_REQUEST", 4400, "invalid_message"),
        ("BAD_REQUEST", 4408, "init_timeout"),
    ]
    assert refusals[0].principal == "officer-1"
    assert await gw.total_requests() == 0
