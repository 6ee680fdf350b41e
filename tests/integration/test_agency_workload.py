"""``agencyWorkload``: per agency, the court's requests sent, done, failed and overdue.

Counted against requests the test makes and drives to each status, on SQLite and on
PostgreSQL; another court's token sees none of them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from gateway.clock import ManualClock
from mocks.land_registry import LandRegistrySettings
from mocks.records import CaseRecord
from tests.harness import open_stack, wait_for
from tests.integration.assistance_requests import FAST_WORKER, AssistanceGateway
from tests.servers.postgres import PostgresServer

WORKLOAD = """{ agencyWorkload { agency sent submitted completed failed queued overdue } }"""
ZERO = {"sent": 0, "submitted": 0, "completed": 0, "failed": 0, "queued": 0, "overdue": 0}


@asynccontextmanager
async def workload_stack(
    tmp_path: Path, cases: list[CaseRecord], clock: ManualClock, database_url: str
) -> AsyncIterator[AssistanceGateway]:
    async with open_stack(
        tmp_path,
        cases,
        database_url=database_url,
        # The registry hands out a ticket and answers on a later poll: a request waits there.
        mock_options={"land_registry_settings": LandRegistrySettings(pending_polls=1)},
        services=True,
        clock=clock,
        assistance={**FAST_WORKER, "max_attempts": 2, "deadline_s": {"land_registry": 3600.0}},
        agencies={
            name: {"max_retries": 1, "breaker_threshold": 1000}
            for name in ("public_security", "land_registry", "market_regulation")
        },
    ) as gw:
        yield AssistanceGateway(gw)


async def workload(ag: AssistanceGateway, token: str | None = None) -> dict[str, dict[str, int]]:
    status, body = await ag.gw.post(WORKLOAD, {}, token=token)
    assert status == 200 and "errors" not in body, body
    return {row.pop("agency"): row for row in body["data"]["agencyWorkload"]}


def order(case: CaseRecord, action: str, target: str) -> dict[str, Any]:
    return {
        "caseNumber": case.number,
        "debtorId": case.debtor_ids[0],
        "action": action,
        "target": target,
        "documentNumber": f"DOC-{action}-{target}",
    }


def with_vehicle(ag: AssistanceGateway, cases: list[CaseRecord]) -> list[tuple[CaseRecord, str]]:
    found = []
    for case in cases:
        if case.court != ag.gw.court:
            continue  # the stack's court is the first case's; the world has others too
        vehicles = ag.world.vehicles_of(case.debtor_ids[0])
        if vehicles:
            found.append((case, vehicles[0].vin))
    return found


async def run_workload(tmp_path: Path, cases: list[CaseRecord], database_url: str) -> None:
    clock = ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    async with workload_stack(tmp_path, cases, clock, database_url) as ag:
        assert await workload(ag) == {
            a: ZERO
            for a in ("PUBLIC_SECURITY", "CIVIL_AFFAIRS", "LAND_REGISTRY", "MARKET_REGULATION")
        }
        (done_case, done_vin), (failed_case, failed_vin), (pending_case, pending_vin) = (
            with_vehicle(ag, cases)[:3]
        )
        # Carried out by public security.
        done = await ag.request_ok(order(done_case, "SEIZE_VEHICLE", done_vin))
        await ag.approve(done)
        await ag.settle(done, {"COMPLETED"})
        # Every answer of public security lost once approved: two sends, then FAILED.
        failed = await ag.request_ok(order(failed_case, "SEIZE_VEHICLE", failed_vin))
        await ag.gw.set_faults("public_security", {"lost_response": True})
        await ag.approve(failed)

        async def failed_state() -> dict[str, Any]:
            clock.advance(seconds=1)  # the resend's back-off runs on the stack's clock
            return await ag.state(failed)

        await wait_for(failed_state, lambda s: s["status"] == "FAILED")
        await ag.gw.set_faults("public_security", {"lost_response": False})
        # Asked and not approved: not sent, so counted nowhere.
        await ag.request_ok(order(pending_case, "SEIZE_VEHICLE", pending_vin))
        # A flat at the land registry: ticketed, then past its one-hour deadline.
        flat_case = cases[0]
        flat = next(
            p.certificate_no
            for p in ag.world.properties_of(flat_case.debtor_ids[0])
            if not p.seizures
        )
        waiting = await ag.request_whole(order(flat_case, "SEIZE_REAL_ESTATE", flat))
        await ag.approve(waiting)
        await wait_for(
            lambda: ag.state(waiting), lambda s: any(e["kind"] == "TICKET" for e in s["events"])
        )
        figures = await workload(ag)
        assert figures["PUBLIC_SECURITY"] == {**ZERO, "sent": 2, "completed": 1, "failed": 1}
        assert figures["LAND_REGISTRY"] == {**ZERO, "sent": 1, "submitted": 1}
        clock.advance(hours=2)
        # Overdue at once, before the worker's next scan marks it.
        late = await workload(ag)
        assert late["LAND_REGISTRY"] == {**ZERO, "sent": 1, "submitted": 1, "overdue": 1}
        assert late["PUBLIC_SECURITY"] == figures["PUBLIC_SECURITY"]
        assert late["CIVIL_AFFAIRS"] == late["MARKET_REGULATION"] == ZERO
        # Another court's command centre sees none of this court's requests.
        other = ag.gw.token(officer="officer-9", court="江苏省徐州市鼓楼区人民法院")
        assert all(row == ZERO for row in (await workload(ag, other)).values())
        # Outside parties are refused.
        status, body = await ag.gw.post(WORKLOAD, {}, token=ag.gw.token(roles=["agency"]))
        assert status == 200 and body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_agency_workload_counts_the_courts_requests_on_sqlite(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    await run_workload(tmp_path, cases, "")


async def test_agency_workload_counts_the_courts_requests_on_postgres(
    tmp_path: Path, cases: list[CaseRecord], postgres_server: PostgresServer
) -> None:
    async with postgres_server.database() as url:
        await run_workload(tmp_path, cases, url)
