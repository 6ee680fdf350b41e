"""Killing the gateway between APPROVED and COMPLETED: the restarted one finishes, once.

The gateway runs as a real process (``liandong serve``) over SQLite; it is killed with
SIGKILL while the land registry holds its seizure order, then started again on the same
database. The registry carried the order out exactly once: the restarted worker resends
it with the same idempotency key and is given the first order's ticket.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from mocks.records import CaseRecord
from mocks.runner import AGENCIES, RunningMocks
from tests.harness import JUDGE, OFFICER, Stack, open_stack
from tests.integration.assistance_requests import APPROVE, NO_OTHER_PROPERTY, REQUEST, REQUEST_STATE

LR_CONTROLS = "POST /lr/controls"


async def _gql(
    session: aiohttp.ClientSession, url: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    async with session.post(
        url + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
        assert resp.status == 200 and "errors" not in body, body
        return body


async def _stats(session: aiohttp.ClientSession, mocks: RunningMocks) -> dict[str, Any]:
    async with session.get(mocks.urls["land_registry"] + "/_stats") as resp:
        data: dict[str, Any] = await resp.json()
        return data


async def test_killed_between_approved_and_completed_finishes_once(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with open_stack(
        tmp_path,
        cases,
        process=True,
        assistance={
            "poll_interval_s": 0.1,
            "ticket_poll_s": 0.1,
            "retry_base_s": 0.1,
            "retry_max_s": 0.5,
            "lease_s": 1.0,
        },
        agencies={name: {"max_retries": 0} for name in AGENCIES},
    ) as stack:
        await _killed_and_restarted(stack, cases)


async def _killed_and_restarted(stack: Stack, cases: list[CaseRecord]) -> None:
    mocks, session, gateway = stack.mocks, stack.session, stack.process
    assert gateway is not None

    def token(officer: str, role: str) -> str:
        return stack.token(officer=officer, roles=[role])

    number, debtor = cases[0].number, cases[0].debtor_ids[0]
    world = mocks.world
    cert = next(p.certificate_no for p in world.properties_of(debtor) if not p.seizures)
    body = await _gql(
        session,
        gateway.url,
        # Another judge of the court asks, so that the case's judge may approve.
        token("judge-2", "judge"),
        REQUEST,
        {
            "input": {
                "caseNumber": number,
                "debtorId": debtor,
                "action": "SEIZE_REAL_ESTATE",
                "target": cert,
                "documentNumber": "DOC-RESTART-1",
                "overrideReason": NO_OTHER_PROPERTY,
            }
        },
    )
    rid = body["data"]["requestAssistance"]["request"]["id"]
    async with session.post(mocks.urls["land_registry"] + "/_faults", json={"hang": True}) as r:
        assert r.status == 200
    await _gql(session, gateway.url, token(JUDGE, "judge"), APPROVE, {"id": rid})
    for _ in range(600):  # the registry now holds the gateway's order
        if (await _stats(session, mocks))["in_flight"] == 1:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the order never reached the land registry")
    await gateway.kill()
    # The registry goes on with the order its client died waiting for.
    async with session.delete(mocks.urls["land_registry"] + "/_faults") as r:
        assert r.status == 200
    for _ in range(200):
        if (await _stats(session, mocks))["in_flight"] == 0:
            break
        await asyncio.sleep(0.05)
    await gateway.start()
    for _ in range(600):
        state = (
            await _gql(session, gateway.url, token(OFFICER, "officer"), REQUEST_STATE, {"id": rid})
        )["data"]["assistanceRequest"]
        if state["status"] not in {"APPROVED", "SUBMITTED"}:
            break
        await asyncio.sleep(0.05)
    assert state["status"] == "COMPLETED", state
    stats = await _stats(session, mocks)
    assert stats["executions"] == {"SEIZE_REAL_ESTATE": 1}
    assert stats["requests"][LR_CONTROLS] == 2  # the first order and its resend
    assert [e["kind"] for e in state["events"]].count("SUBMITTED") == 1
