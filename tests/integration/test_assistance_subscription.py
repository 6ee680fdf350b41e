"""``assistanceRequestUpdated`` over graphql-transport-ws: every change, in order, to the case's staff."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp

from mocks.records import CaseRecord
from tests.harness import OUTSIDER
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway

SUBSCRIBE = """subscription($c: String!) { assistanceRequestUpdated(caseNumber: $c) {
  event { requestId seq kind status } request { id status } } }"""


async def _open(ag: AssistanceGateway, token: str | None) -> aiohttp.ClientWebSocketResponse:
    ws = await ag.gw.session.ws_connect(
        ag.gw.url.replace("http://", "ws://"), protocols=["graphql-transport-ws"]
    )
    payload = {} if token is None else {"Authorization": f"Bearer {token}"}
    await ws.send_json({"type": "connection_init", "payload": payload})
    return ws


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 30)
    if message.type != aiohttp.WSMsgType.TEXT:
        return {"type": "closed", "code": ws.close_code}
    data: dict[str, Any] = message.json()
    return data


async def test_subscriber_sees_every_status_change_in_order(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases, pending_polls=1) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        ws = await _open(ag, ag.gw.token())
        try:
            assert (await _next(ws))["type"] == "connection_ack"
            await ws.send_json(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"c": number}},
                }
            )
            bus = ag.services.assistance.bus  # type: ignore[union-attr]
            for _ in range(200):  # the subscription is registered once its resolver runs
                if bus.subscriber_count(f"case:{number}"):
                    break
                await asyncio.sleep(0.02)
            cert = next(p.certificate_no for p in ag.world.properties_of(debtor) if not p.seizures)
            rid = await ag.request_whole(
                {
                    "caseNumber": number,
                    "debtorId": debtor,
                    "action": "SEIZE_REAL_ESTATE",
                    "target": cert,
                    "documentNumber": "（2026）苏0311执4214号之一",
                }
            )
            await ag.approve(rid)
            events: list[dict[str, Any]] = []
            while not events or events[-1]["status"] != "COMPLETED":
                message = await _next(ws)
                assert message["type"] == "next", message
                assert "errors" not in message["payload"], message
                update = message["payload"]["data"]["assistanceRequestUpdated"]
                assert update["request"]["id"] == rid
                events.append(update["event"])
        finally:
            await ws.close()
        assert [e["seq"] for e in events] == list(range(1, len(events) + 1))
        statuses = [e["status"] for e in events]
        changes = [s for i, s in enumerate(statuses) if i == 0 or s != statuses[i - 1]]
        assert changes == ["PENDING_APPROVAL", "APPROVED", "SUBMITTED", "COMPLETED"]
        assert "TICKET" in [e["kind"] for e in events]
        timeline = (await ag.state(rid))["events"]
        assert [(e["seq"], e["kind"]) for e in timeline] == [(e["seq"], e["kind"]) for e in events]


async def test_subscription_needs_a_token_and_the_case(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        ws = await _open(ag, None)
        try:
            closed = await _next(ws)
            assert closed["type"] == "closed" and closed["code"] == 4403
        finally:
            await ws.close()
        ws = await _open(ag, ag.gw.token(officer=OUTSIDER))
        try:
            assert (await _next(ws))["type"] == "connection_ack"
            await ws.send_json(
                {
                    "id": "1",
                    "type": "subscribe",
                    "payload": {"query": SUBSCRIBE, "variables": {"c": cases[0].number}},
                }
            )
            message = await _next(ws)
            assert message["type"] in {"next", "error"}, message
            errors = (
                message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            )
            assert errors[0]["extensions"]["code"] == "FORBIDDEN"
        finally:
            await ws.close()
