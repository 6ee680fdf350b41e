"""Two gateway processes on one PostgreSQL database and one Redis.

Both run ``python -m gateway.cli.main serve`` with their lifecycle workers on, over the mocks of
this test process; the store and the audit log are on PostgreSQL, the fact cache, the event
bus and the rate limiter on Redis. What one instance does, the other sees:

- a request made on A and approved on B is sent to the agency once;
- a subscriber on B sees the changes made through A;
- a fact A fetched is served to B from Redis, without asking the agency;
- under load on both, the audit log stays one chain (``liandong audit verify``);
- SIGKILL one instance mid-lifecycle: the other finishes its request, still once.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
import redis.asyncio as aioredis
from sqlalchemy import select
from sqlalchemy.ext.asyncio import create_async_engine

from gateway.auth import issue_token
from gateway.settings import Settings
from gateway.store.assistance_tables import assistance_requests
from mocks.land_registry import LandRegistrySettings
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import JUDGE, OFFICER, SECRET, GatewayProcess, open_stack
from tests.integration.assistance_requests import APPROVE, NO_OTHER_PROPERTY, REQUEST, REQUEST_STATE
from tests.servers.postgres import PostgresServer

LR_CONTROLS = "POST /lr/controls"
AUDIT_KEY = "two-instances-audit-key-0123456789abcdef"
CANCEL = 'mutation($id: ID!) { cancelAssistance(id: $id, reason: "test") { id status } }'
SUBSCRIBE = """subscription($c: String!) { assistanceRequestUpdated(caseNumber: $c) {
  event { requestId seq kind status } request { id status } } }"""
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"
LOAD_PER_INSTANCE = 100
CONCURRENCY = 8


@dataclass
class Pair:
    """Two running instances over one database, and the means to drive them."""

    a: GatewayProcess
    b: GatewayProcess
    mocks: RunningMocks
    world: World
    cases: list[CaseRecord]
    settings: Settings
    session: aiohttp.ClientSession
    redis_url: str
    chosen: str = ""

    def token(self, officer: str = OFFICER, role: str = "officer") -> str:
        return issue_token(
            SECRET.encode(),
            settings=self.settings.auth,
            subject=officer,
            court=self.cases[0].court,
            roles=[role],
        )

    async def gql(
        self, gw: GatewayProcess, query: str, variables: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        async with self.session.post(
            gw.url + "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {token or self.token()}"},
        ) as resp:
            body: dict[str, Any] = await resp.json(content_type=None)
            assert resp.status == 200 and "errors" not in body, body
            return body

    async def stats(self, agency: str) -> dict[str, Any]:
        async with self.session.get(self.mocks.urls[agency] + "/_stats") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    def target(self) -> str:
        """The first unseized property of the first case's first debtor."""
        if not self.chosen:  # chosen once: a seizure the test makes changes the world
            debtor = self.cases[0].debtor_ids[0]
            self.chosen = next(
                p.certificate_no for p in self.world.properties_of(debtor) if not p.seizures
            )
        return self.chosen

    async def seize(self, gw: GatewayProcess, doc: str) -> str:
        number, debtor = self.cases[0].number, self.cases[0].debtor_ids[0]
        cert = self.target()
        body = await self.gql(
            gw,
            REQUEST,
            {
                "input": {
                    "caseNumber": number,
                    "debtorId": debtor,
                    "action": "SEIZE_REAL_ESTATE",
                    "target": cert,
                    "documentNumber": doc,
                    "overrideReason": NO_OTHER_PROPERTY,
                }
            },
            # Another judge of the court asks, so that the case's judge may approve.
            self.token("judge-2", "judge"),
        )
        rid: str = body["data"]["requestAssistance"]["request"]["id"]
        return rid

    async def approve(self, gw: GatewayProcess, rid: str) -> None:
        await self.gql(gw, APPROVE, {"id": rid}, self.token(JUDGE, "judge"))

    async def settle(self, gw: GatewayProcess, rid: str) -> dict[str, Any]:
        for _ in range(600):  # bounded by polls, not by a clock
            body = await self.gql(gw, REQUEST_STATE, {"id": rid})
            state: dict[str, Any] = body["data"]["assistanceRequest"]
            if state["status"] not in {"PENDING_APPROVAL", "APPROVED", "SUBMITTED"}:
                return state
            await asyncio.sleep(0.05)
        raise AssertionError(f"request {rid} never settled: {state}")


def _sections(audit_db: str, redis_url: str) -> dict[str, dict[str, Any]]:
    return {
        "cache": {"redis_url": redis_url},
        "audit": {"database_url": audit_db, "key": AUDIT_KEY},
        "limits": {"rate_per_minute": 1_000_000},
        "assistance": {
            "poll_interval_s": 0.05,
            "ticket_poll_s": 0.05,
            "retry_base_s": 0.05,
            "retry_max_s": 0.2,
            "lease_s": 2.0,
            "max_attempts": 50,
        },
        "agencies.land_registry": {"max_retries": 0, "breaker_threshold": 1000},
    }


@pytest.fixture
async def pair(
    tmp_path: Path, cases: list[CaseRecord], postgres_server: PostgresServer, redis_url: str
) -> AsyncIterator[Pair]:
    async with (
        postgres_server.database() as db,
        postgres_server.database() as audit_db,
        open_stack(
            tmp_path / "a",
            cases,
            mock_options={"land_registry_settings": LandRegistrySettings(pending_polls=1)},
            database_url=db,
            process=True,
            sections=_sections(audit_db, redis_url),
        ) as a,
        # One database: the cases are registered once.
        open_stack(
            tmp_path / "b",
            mocks=a.mocks,
            database_url=db,
            process=True,
            sections=_sections(audit_db, redis_url),
        ) as b,
    ):
        assert a.process is not None and b.process is not None
        yield Pair(a.process, b.process, a.mocks, a.world, cases, a.settings, a.session, redis_url)


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 30)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    assert data["type"] == "next" and "errors" not in data["payload"], data
    update: dict[str, Any] = data["payload"]["data"]["assistanceRequestUpdated"]
    return update


async def _until(ws: aiohttp.ClientWebSocketResponse, rid: str, status: str) -> list[Any]:
    events: list[Any] = []
    while not events or events[-1]["status"] != status:
        update = await _next(ws)
        assert update["request"]["id"] == rid, update
        events.append(update["event"])
    return events


async def test_made_on_a_approved_on_b_sent_once_and_seen_on_b(pair: Pair) -> None:
    number = pair.cases[0].number
    ws = await pair.session.ws_connect(
        pair.b.url.replace("http://", "ws://") + "/graphql", protocols=["graphql-transport-ws"]
    )
    try:
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {pair.token()}"}}
        )
        assert (await ws.receive_json(timeout=30))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"c": number}},
            }
        )
        rid = await pair.seize(pair.a, "DOC-TWO-1")
        await pair.approve(pair.b, rid)
        first = await _until(ws, rid, "COMPLETED")
        seqs = [e["seq"] for e in first]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))  # in order, none missing
        assert [e["status"] for e in first][-2:] == ["SUBMITTED", "COMPLETED"]
        # The subscription is live on B now: a request made and cancelled through A shows.
        lift = {
            "caseNumber": number,
            "debtorId": pair.cases[0].debtor_ids[0],
            "action": "LIFT_REAL_ESTATE_SEIZURE",
            "target": pair.target(),
            "documentNumber": "DOC-TWO-2",
        }
        second = await pair.gql(pair.a, REQUEST, {"input": lift})
        other = second["data"]["requestAssistance"]["request"]["id"]
        await pair.gql(pair.a, CANCEL, {"id": other})
        events = await _until(ws, other, "CANCELLED")
        assert [e["status"] for e in events] == ["PENDING_APPROVAL", "CANCELLED"]
    finally:
        await ws.close()
    state = await pair.settle(pair.a, rid)
    assert state["status"] == "COMPLETED"
    assert [e["kind"] for e in state["events"]].count("SUBMITTED") == 1
    stats = await pair.stats("land_registry")
    assert stats["executions"] == {"SEIZE_REAL_ESTATE": 1}


async def test_fact_fetched_by_a_is_served_to_b_from_redis(pair: Pair) -> None:
    number, debtor = pair.cases[0].number, pair.cases[0].debtor_ids[0]
    variables = {"id": debtor, "c": number}
    await pair.gql(pair.a, DEBTOR, variables)
    client = aioredis.Redis.from_url(pair.redis_url)
    try:
        for _ in range(200):  # A writes to Redis after answering
            if [k async for k in client.scan_iter(match="liandong:fact:*public_security*")]:
                break
            await asyncio.sleep(0.02)
    finally:
        await client.aclose()
    before = sum((await pair.stats("public_security"))["requests"].values())
    assert before >= 1
    on_b = await pair.gql(pair.b, DEBTOR, variables)
    after = sum((await pair.stats("public_security"))["requests"].values())
    assert after == before  # B asked Redis, not the agency
    assert on_b["data"]["debtor"]["identity"]["name"]


async def test_load_on_both_keeps_one_audit_chain(pair: Pair) -> None:
    number = pair.cases[0].number
    debtors = pair.cases[0].debtor_ids
    queue: asyncio.Queue[tuple[GatewayProcess, str]] = asyncio.Queue()
    for i in range(LOAD_PER_INSTANCE):
        for gw in (pair.a, pair.b):
            queue.put_nowait((gw, debtors[i % len(debtors)]))
    answered = 0

    async def client() -> None:
        nonlocal answered
        while not queue.empty():
            gw, debtor = queue.get_nowait()
            await pair.gql(gw, DEBTOR, {"id": debtor, "c": number})
            answered += 1

    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    assert answered == 2 * LOAD_PER_INSTANCE
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *(
            "-m",
            "gateway.cli.main",
            "audit",
            "verify",
            "--config",
            str(pair.a.config),
        ),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")},
    )
    out, err = await proc.communicate()
    assert proc.returncode == 0, (out, err)
    found = re.search(r"(\d+) records checked", out.decode())
    assert found is not None, out
    assert int(found.group(1)) >= 2 * LOAD_PER_INSTANCE  # every answered look-up is in it


async def test_sigkill_mid_lifecycle_the_other_instance_finishes_once(pair: Pair) -> None:
    rid = await pair.seize(pair.a, "DOC-TWO-KILL")
    async with pair.session.post(
        pair.mocks.urls["land_registry"] + "/_faults", json={"hang": True}
    ) as r:
        assert r.status == 200
    await pair.approve(pair.b, rid)
    for _ in range(600):  # the registry now holds one instance's order
        if (await pair.stats("land_registry"))["in_flight"] == 1:
            break
        await asyncio.sleep(0.05)
    else:
        pytest.fail("the order never reached the land registry")
    engine = create_async_engine(pair.settings.database_url)
    try:
        async with engine.connect() as conn:
            owner = (
                await conn.execute(
                    select(assistance_requests.c.lease_owner).where(assistance_requests.c.id == rid)
                )
            ).scalar_one()
    finally:
        await engine.dispose()
    assert owner is not None
    pid = int(owner.split(":")[1])
    holder, survivor = (pair.a, pair.b) if pid == pair.a.pid else (pair.b, pair.a)
    assert pid == holder.pid, (owner, pair.a.pid, pair.b.pid)
    await holder.kill()
    # The registry goes on with the order whose sender died waiting for it.
    async with pair.session.delete(pair.mocks.urls["land_registry"] + "/_faults") as r:
        assert r.status == 200
    state = await pair.settle(survivor, rid)
    assert state["status"] == "COMPLETED", state
    assert [e["kind"] for e in state["events"]].count("SUBMITTED") == 1
    stats = await pair.stats("land_registry")
    assert stats["executions"] == {"SEIZE_REAL_ESTATE": 1}
    assert stats["requests"][LR_CONTROLS] == 2  # the first order and the survivor's resend
