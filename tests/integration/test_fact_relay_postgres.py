"""Two instances on one PostgreSQL and no Redis: a control on one drops the other's facts.

The event bus is LISTEN/NOTIFY; the fact cache of each instance is its own. A vehicle
seized through instance A must not be shown free by instance B from a copy B fetched
before: B's fact cache hears of the invalidation over the bus (``gateway/events/fact_relay.py``)
and asks the agency again.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from gateway.events.fact_relay import FactRelay
from gateway.events.postgres_bus import PgEventBus, PgRelay, asyncpg_dsn
from mocks.land_registry import LandRegistrySettings
from mocks.records import CaseRecord
from tests.harness import open_stack, wait_for
from tests.integration.assistance_requests import FAST_WORKER, AssistanceGateway
from tests.integration.bus_links import hold_listener
from tests.integration.control_steps import order
from tests.servers.postgres import PostgresServer

PS_VEHICLES = "POST /ps/v1/vehicles/query"
PS_EXIT_BANS = "POST /ps/v1/exit-bans/query"
VEHICLES = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  assets(kinds: [VEHICLE]) { ... on Vehicle { vin controls { caseNumber } } } } }"""
EXIT_BANS = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  restrictions(first: 100) { edges { node { kind caseNumber status } } } } }"""
AGENCIES = {
    name: {"max_retries": 1, "breaker_threshold": 1000}
    for name in ("public_security", "land_registry", "market_regulation")
}


@pytest.fixture
async def pair(
    tmp_path: Path, cases: list[CaseRecord], postgres_server: PostgresServer
) -> AsyncIterator[tuple[AssistanceGateway, AssistanceGateway]]:
    """A (whose worker carries out controls) and B (no worker), one database, no Redis."""
    async with contextlib.AsyncExitStack() as stack:
        url = await stack.enter_async_context(postgres_server.database())
        instances: list[AssistanceGateway] = []
        for name, worker in (("a", True), ("b", False)):
            (tmp_path / name).mkdir()
            gw = await stack.enter_async_context(
                open_stack(
                    tmp_path / name,
                    cases if worker else (),  # one store: the cases are registered once
                    mocks=instances[0].gw.mocks if instances else None,
                    mock_options={"land_registry_settings": LandRegistrySettings(pending_polls=1)},
                    database_url=url,
                    services=True,
                    court=cases[0].court,
                    assistance={**FAST_WORKER, "worker_enabled": worker},
                    agencies=AGENCIES,
                )
            )
            instances.append(AssistanceGateway(gw))
        a, b = instances
        for instance in (a, b):
            assert isinstance(instance.services.assistance.bus, PgEventBus)  # type: ignore[union-attr]
        yield a, b


def pg_bus_of(instance: AssistanceGateway) -> PgEventBus:
    bus = instance.services.assistance.bus  # type: ignore[union-attr]
    assert isinstance(bus, PgEventBus)
    return bus


def relay_of(instance: AssistanceGateway) -> FactRelay:
    runtime = instance.services.assistance
    assert runtime is not None and runtime.fact_relay is not None
    return runtime.fact_relay


async def carried_out_and_heard(
    a: AssistanceGateway, b: AssistanceGateway, control: dict[str, Any]
) -> None:
    """Carry out ``control`` through A, then wait (bounded by polls) until B has applied
    every invalidation A sent."""
    await a.carry_out(control)

    async def counts() -> tuple[int, int]:
        return relay_of(a).sent, relay_of(b).applied

    sent, applied = await wait_for(counts, lambda c: c[0] > 0 and c[1] >= c[0])
    assert applied == sent


async def test_a_seizure_through_a_is_seen_by_b(
    pair: tuple[AssistanceGateway, AssistanceGateway], cases: list[CaseRecord]
) -> None:
    a, b = pair
    case = cases[0]
    debtor = case.debtor_ids[0]
    vin = a.world.vehicles_of(debtor)[0].vin
    variables: dict[str, Any] = {"id": debtor, "c": case.number}

    def car(body: dict[str, Any]) -> dict[str, Any]:
        assert "errors" not in body, body
        found: list[dict[str, Any]] = body["data"]["debtor"]["assets"]
        (mine,) = [v for v in found if v.get("vin") == vin]
        return mine

    _, before = await b.gw.post(VEHICLES, variables)  # B keeps the car as free
    assert case.number not in [c["caseNumber"] for c in car(before)["controls"]]

    await carried_out_and_heard(a, b, order(case, "SEIZE_VEHICLE", vin))

    # Counted from here: A may have asked the agency meanwhile (for the target's value).
    asked = await b.route_count("public_security", PS_VEHICLES)
    _, after = await b.gw.post(VEHICLES, variables)
    assert case.number in [c["caseNumber"] for c in car(after)["controls"]]
    assert await b.route_count("public_security", PS_VEHICLES) == asked + 1


async def test_an_exit_ban_through_a_is_seen_by_b(
    pair: tuple[AssistanceGateway, AssistanceGateway], cases: list[CaseRecord]
) -> None:
    a, b = pair
    case = cases[0]
    debtor = case.debtor_ids[0]
    variables: dict[str, Any] = {"id": debtor, "c": case.number}

    def exit_bans(body: dict[str, Any]) -> list[str]:
        assert "errors" not in body, body
        edges = body["data"]["debtor"]["restrictions"]["edges"]
        found = [edge["node"] for edge in edges]
        return [r["caseNumber"] for r in found if r["kind"] == "EXIT_BAN"]

    _, before = await b.gw.post(EXIT_BANS, variables)
    assert case.number not in exit_bans(before)

    await carried_out_and_heard(a, b, order(case, "EXIT_BAN", debtor))

    # Counted from here: A may have asked the agency meanwhile (for the target's value).
    asked = await b.route_count("public_security", PS_EXIT_BANS)
    _, after = await b.gw.post(EXIT_BANS, variables)
    assert case.number in exit_bans(after)
    assert await b.route_count("public_security", PS_EXIT_BANS) == asked + 1


async def test_a_seizure_sent_while_b_reconnects_is_not_lost(
    pair: tuple[AssistanceGateway, AssistanceGateway],
    cases: list[CaseRecord],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    a, b = pair
    case = cases[0]
    debtor = case.debtor_ids[0]
    vin = a.world.vehicles_of(debtor)[0].vin
    variables: dict[str, Any] = {"id": debtor, "c": case.number}

    def controls(body: dict[str, Any]) -> list[str]:
        assert "errors" not in body, body
        found: list[dict[str, Any]] = body["data"]["debtor"]["assets"]
        (mine,) = [v for v in found if v.get("vin") == vin]
        return [c["caseNumber"] for c in mine["controls"]]

    _, before = await b.gw.post(VEHICLES, variables)  # B keeps the car as free
    assert case.number not in controls(before)

    # B's listener stays away until the test lets it back: the seizure happens meanwhile.
    bus = pg_bus_of(b)
    assert isinstance(bus.relay, PgRelay) and bus.relay.listener_pid is not None
    reopen = hold_listener(bus, monkeypatch)
    subscriptions, applied = bus.subscriptions, relay_of(b).applied
    killer = await asyncpg.connect(asyncpg_dsn(b.services.settings.database_url))
    try:
        assert await killer.fetchval("SELECT pg_terminate_backend($1)", bus.relay.listener_pid)
    finally:
        await killer.close()

    async def listening() -> bool:
        return bus.listening

    await wait_for(listening, lambda up: not up)

    await a.carry_out(order(case, "SEIZE_VEHICLE", vin))
    await relay_of(a).flush()
    assert relay_of(a).sent > 0 and relay_of(b).applied == applied  # B missed the notice

    reopen.set()

    async def subscribed() -> tuple[bool, int]:
        return bus.listening, bus.subscriptions

    await wait_for(subscribed, lambda s: s[0] and s[1] > subscriptions)

    asked = await b.route_count("public_security", PS_VEHICLES)
    _, after = await b.gw.post(VEHICLES, variables)
    assert case.number in controls(after)
    assert await b.route_count("public_security", PS_VEHICLES) == asked + 1
