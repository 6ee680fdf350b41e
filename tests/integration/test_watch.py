"""Asset watches: a scheduler re-queries watched debtors within a per-agency budget and
reports what changed to subscribers and to a signed webhook."""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import orjson
from aiohttp import web
from sqlalchemy import insert

from connectors.domain import DebtorKind
from gateway.audit.query import AuditFilter
from gateway.cli.demo import seed_cases
from gateway.clock import ManualClock
from gateway.store.cases import CaseIn, Store
from gateway.watch.scheduler import SCHEDULER, WatchScheduler
from gateway.watch.store import WatchStore
from gateway.watch.tables import asset_watches
from gateway.watch.webhook import SIGNATURE_HEADER
from gateway.web.services import Services
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import JUDGE, OFFICER, Stack, open_stack
from tests.integration.test_audit_cli import cli

WEBHOOK_SECRET = "webhook-secret-0123456789"
WATCH = """mutation($c: String!, $d: ID!) {
  watchDebtor(caseNumber: $c, debtorId: $d, every: MONTHLY) { id caseNumber intervalSeconds } }"""
UNWATCH = "mutation($c: String!, $d: ID!) { unwatchDebtor(caseNumber: $c, debtorId: $d) }"
SUBSCRIBE = """subscription($c: String!) { assetDiscovered(caseNumber: $c) {
  id caseNumber assetId assetKind change } }"""
ASSET_AGENCIES = ("public_security", "land_registry", "market_regulation")


@dataclass
class Receiver:
    """A webhook receiver on 127.0.0.1 that keeps what it was sent."""

    url: str
    received: list[tuple[bytes, str]]


@asynccontextmanager
async def receiver() -> AsyncIterator[Receiver]:
    received: list[tuple[bytes, str]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers.get(SIGNATURE_HEADER, "")))
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield Receiver(f"http://127.0.0.1:{port}/hook", received)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def watching(
    tmp_path: Path,
    world: World,
    database_url: str,
    clock: ManualClock,
    cases: Sequence[CaseRecord] = (),
    **watch: Any,
) -> AsyncIterator[Stack]:
    """A stack over ``world`` whose watch scheduler runs only when told (and no worker)."""
    async with open_stack(
        tmp_path,
        cases,
        world=world,
        database_url=database_url,
        services=True,
        clock=clock,
        assistance={"worker_enabled": False},
        watch={"scheduler_enabled": False, **watch},
    ) as stack:
        yield stack


def _scheduler(services: Services) -> WatchScheduler:
    assert services.watch is not None
    return services.watch


async def _next(ws: aiohttp.ClientWebSocketResponse) -> dict[str, Any]:
    message = await asyncio.wait_for(ws.receive(), 30)
    assert message.type == aiohttp.WSMsgType.TEXT, message
    data: dict[str, Any] = message.json()
    return data


async def test_a_new_asset_is_reported_once_to_subscriber_and_webhook(
    tmp_path: Path, cases: list[CaseRecord], database_url: str
) -> None:
    world = World(seed=7, people=1000)  # this test changes its world
    case = cases[0]
    debtor = case.debtor_ids[0]
    clock = ManualClock(datetime(2026, 3, 1, tzinfo=UTC))
    async with (
        receiver() as hook,
        watching(
            tmp_path,
            world,
            database_url,
            clock,
            cases,
            webhook_url=hook.url,
            webhook_secret=WEBHOOK_SECRET,
            webhook_backoff_s=0.01,
        ) as gw,
    ):
        services, session = gw.require_services(), gw.session
        status, body = await gw.post(WATCH, {"c": case.number, "d": debtor})
        assert status == 200 and "errors" not in body, body
        assert body["data"]["watchDebtor"]["intervalSeconds"] == 30 * 86400
        # Nobody else's case: an outsider may not watch.
        _, refused = await gw.post(
            WATCH, {"c": case.number, "d": debtor}, token=gw.token(officer="officer-9")
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"

        ws = await session.ws_connect(
            gw.url.replace("http://", "ws://"), protocols=["graphql-transport-ws"]
        )
        await ws.send_json(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {gw.token()}"}}
        )
        assert (await _next(ws))["type"] == "connection_ack"
        await ws.send_json(
            {
                "id": "1",
                "type": "subscribe",
                "payload": {"query": SUBSCRIBE, "variables": {"c": case.number}},
            }
        )
        bus: Any = _scheduler(services).bus
        for _ in range(200):  # the subscription is registered once its resolver runs
            if bus.subscriber_count(f"assets:{case.number}"):
                break
            await asyncio.sleep(0.02)

        scheduler = _scheduler(services)
        first = await scheduler.run_pass()  # the baseline
        assert (first.refreshed, first.events) == (1, 0)
        clock.advance(days=40)
        unchanged = await scheduler.run_pass()
        assert (unchanged.refreshed, unchanged.events) == (1, 0)
        assert (await scheduler.run_pass()).claimed == 0  # not due again yet

        template = world.properties_of(debtor)[0]
        cert = "苏(2026)徐州市不动产权第7654321号"
        world.add_property(
            dataclasses.replace(
                template, certificate_no=cert, owner_ids=[debtor], mortgages=[], seizures=[]
            )
        )
        clock.advance(days=40)
        found = await scheduler.run_pass()
        assert (found.refreshed, found.events, found.delivered) == (1, 1, 1)

        message = await _next(ws)
        assert message["type"] == "next", message
        event = message["payload"]["data"]["assetDiscovered"]
        assert event["change"] == "NEW_ASSET"
        assert event["assetId"] == cert and event["assetKind"] == "REAL_ESTATE"
        await ws.close()

        assert len(hook.received) == 1
        raw, signature = hook.received[0]
        expected = hmac.new(WEBHOOK_SECRET.encode(), raw, hashlib.sha256).hexdigest()
        assert hmac.compare_digest(signature, f"sha256={expected}")
        payload = orjson.loads(raw)
        assert payload["type"] == "AssetDiscovered" and payload["assetId"] == cert
        assert str(payload["id"]) == event["id"]

        clock.advance(days=40)
        again = await scheduler.run_pass()
        assert (again.refreshed, again.events, again.delivered) == (1, 0, 0)
        assert len(hook.received) == 1

        # Every re-query is on the record: the scheduler, acting for the case.
        assert services.audit_search is not None
        records, _ = await services.audit_search.page(
            AuditFilter(case_number=case.number, officer=SCHEDULER), first=50
        )
        assert len(records) == 4
        assert all(r.operation == "watch.requery" and r.court == case.court for r in records)
        subscribed, _ = await services.audit_search.page(
            AuditFilter(case_number=case.number, officer=OFFICER), first=50
        )
        assert "watch.subscribe" in {r.operation for r in subscribed}
        assert {c["agency"] for c in records[0].agencies} == set(ASSET_AGENCIES)

        status, body = await gw.post(UNWATCH, {"c": case.number, "d": debtor})
        assert body["data"]["unwatchDebtor"] is True, body
        clock.advance(days=40)
        assert (await scheduler.run_pass()).claimed == 0


async def _agency_requests(session: aiohttp.ClientSession, mocks: RunningMocks) -> dict[str, int]:
    counts = {}
    for agency, url in mocks.urls.items():
        async with session.get(url + "/_stats") as resp:
            counts[agency] = sum((await resp.json())["requests"].values())
        async with session.post(url + "/_stats/reset") as resp:
            assert resp.status == 200
    return counts


async def test_a_monthly_pass_never_exceeds_any_agencys_budget(
    tmp_path: Path, database_url: str
) -> None:
    world = World(seed=11, people=2400)
    people = list(world.person_ids())[:2000]
    template = world.cases(1)[0]
    now = datetime(2026, 3, 1, tzinfo=UTC)
    clock = ManualClock(now)
    budget = 10
    async with watching(tmp_path, world, database_url, clock, budget_per_agency=budget) as gw:
        services, mocks = gw.require_services(), gw.mocks
        await services.store.upsert_case(
            CaseIn(
                number=template.number,
                court=template.court,
                applicant=template.applicant,
                amount_due=template.amount_due,
                debtor_ids=[(p, DebtorKind.PERSON) for p in people],
                officers=[OFFICER],
            )
        )
        async with services.store.engine.begin() as conn:
            await conn.execute(
                insert(asset_watches),
                [
                    {
                        "id": f"w-{i:05d}",
                        "case_number": template.number,
                        "court": template.court,
                        "debtor_id": p,
                        "interval_s": 30 * 86400,
                        "next_due": now - timedelta(minutes=i),
                        "created_by": OFFICER,
                        "created_at": now,
                    }
                    for i, p in enumerate(people)
                ],
            )
        scheduler = _scheduler(services)
        async with aiohttp.ClientSession() as session:
            await _agency_requests(session, mocks)
            refreshed, passes = 0, 0
            while refreshed < len(people):
                passes += 1
                assert passes <= 8, f"only {refreshed} done after {passes - 1} passes"
                summary = await scheduler.run_pass()
                sent = await _agency_requests(session, mocks)
                for agency in ASSET_AGENCIES:
                    assert 0 < sent[agency] <= budget, (passes, sent)
                    assert summary.requests[agency] == sent[agency]
                assert sent["civil_affairs"] == 0
                refreshed += summary.refreshed
            assert refreshed == len(people)
            assert passes >= len(people) // scheduler.capacity()
            assert (await scheduler.run_pass()).claimed == 0  # all done until next month


async def test_watch_run_due_runs_one_pass_for_cron(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    lines = [f"data_dir = {str(tmp_path)!r}"]
    for agency, url in mocks.urls.items():
        lines += [f"[agencies.{agency}]", f"base_url = {url!r}"]
        if agency == "public_security":
            lines.append(
                f'options = {{ client_id = "court-test", secret = {mocks.secret.decode()!r} }}'
            )
    path = tmp_path / "liandong.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    store = await Store.open(f"sqlite+aiosqlite:///{tmp_path / 'liandong.db'}")
    try:
        await seed_cases(store, cases[:1], [OFFICER], [JUDGE])
        now = datetime.now(UTC)
        await WatchStore(store.engine).watch(
            case_number=cases[0].number,
            court=cases[0].court,
            debtor_id=cases[0].debtor_ids[0],
            interval_s=30 * 86400,
            next_due=now - timedelta(hours=1),
            officer=OFFICER,
            now=now,
        )
    finally:
        await store.close()
    code, out, err = await cli("watch", "run-due", "--config", str(path))
    assert code == 0, err
    assert "claimed=1 debtors=1 refreshed=1 left_due=0 events=0" in out, out
    code, out, err = await cli("watch", "run-due", "--config", str(path))
    assert code == 0, err
    assert "claimed=0" in out, out
