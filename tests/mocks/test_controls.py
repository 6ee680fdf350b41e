"""The mocks' control routes: Idempotency-Key honoured, executions counted, seizures queued."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from datetime import date

import aiohttp
import pytest

from mocks.control import remove_control
from mocks.records import ControlRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.signing import signed_headers
from mocks.world import World
from tests.mocks.helpers import set_faults, stats

CASE = "（2026）苏0311执1号"
COURT = "徐州市泉山区人民法院"


@pytest.fixture
async def fresh() -> AsyncIterator[RunningMocks]:
    """Control routes change the world: a world of its own for each test."""
    running = await start_mocks(World(seed=7, people=1000))
    try:
        yield running
    finally:
        await running.aclose()


def _owner_with_vehicle(world: World) -> tuple[str, str]:
    for pid in world.person_ids():
        for v in world.vehicles_of(pid):
            if not v.seizures and v.status == "NORMAL":
                return pid, v.vin
    raise AssertionError("no vehicle")


async def _ps(
    http: aiohttp.ClientSession, mocks: RunningMocks, body: Mapping[str, object], key: str | None
) -> aiohttp.ClientResponse:
    raw = json.dumps(body).encode()
    headers = signed_headers("test", mocks.secret, "POST", "/ps/v1/controls", raw)
    headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    return await http.post(
        mocks.urls["public_security"] + "/ps/v1/controls", data=raw, headers=headers
    )


async def test_same_key_is_executed_once(fresh: RunningMocks, http: aiohttp.ClientSession) -> None:
    owner, vin = _owner_with_vehicle(fresh.world)
    order = {
        "action": "SEIZE_VEHICLE",
        "target": vin,
        "subjectId": owner,
        "court": COURT,
        "caseNumber": CASE,
        "documentNumber": "D1",
        "since": "2026-10-31",
        "until": "2028-10-31",
    }
    answers = []
    for _ in range(3):
        async with await _ps(http, fresh, order, "key-1") as resp:
            assert resp.status == 200
            answers.append(await resp.json())
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["status"] == "DONE"
    assert (await stats(http, fresh.urls["public_security"]))["executions"] == {"SEIZE_VEHICLE": 1}
    async with await _ps(http, fresh, {**order, "documentNumber": "D2"}, "key-1") as resp:
        assert resp.status == 422
    async with await _ps(http, fresh, order, None) as resp:
        assert resp.status == 400 and (await resp.json())["error"] == "idempotency_key_required"
    # Another case seizing the same car is queued behind the first (轮候).
    async with await _ps(
        http, fresh, {**order, "caseNumber": "（2026）苏0311执2号"}, "key-2"
    ) as resp:
        queued = await resp.json()
    assert queued["status"] == "QUEUED" and queued["queuePosition"] == 1
    # Lifting the first moves the queue up.
    lift = {**order, "action": "LIFT_VEHICLE_SEIZURE", "documentNumber": "D3"}
    async with await _ps(http, fresh, lift, "key-3") as resp:
        assert (await resp.json())["status"] == "LIFTED"
    vehicle = fresh.world.vehicle(vin)
    assert vehicle is not None and [s.queue_position for s in vehicle.seizures] == [0]


async def test_lost_response_executes_and_the_resend_learns_the_result(
    fresh: RunningMocks, http: aiohttp.ClientSession
) -> None:
    owner, vin = _owner_with_vehicle(fresh.world)
    order = {
        "action": "SEIZE_VEHICLE",
        "target": vin,
        "subjectId": owner,
        "court": COURT,
        "caseNumber": CASE,
        "documentNumber": "D1",
        "since": "2026-10-31",
    }
    await set_faults(http, fresh.urls["public_security"], lost_response=True)
    with pytest.raises(aiohttp.ClientError):
        async with await _ps(http, fresh, order, "lost-1") as resp:
            await resp.read()
    await set_faults(http, fresh.urls["public_security"], lost_response=False)
    async with await _ps(http, fresh, order, "lost-1") as resp:
        assert resp.status == 200 and (await resp.json())["status"] == "DONE"
    assert (await stats(http, fresh.urls["public_security"]))["executions"] == {"SEIZE_VEHICLE": 1}


async def test_land_registry_ticket_is_pending_then_done(
    fresh: RunningMocks, http: aiohttp.ClientSession
) -> None:
    world = fresh.world
    pid = world.showcase_id()
    cert = next(p.certificate_no for p in world.properties_of(pid) if not p.seizures)
    body = (
        f'<ControlRequest action="SEIZE" certificateNo="{cert}" ownerId="{pid}" court="{COURT}" '
        f'caseNumber="{CASE}" documentNumber="D1" since="2026-10-31"/>'
    ).encode()
    base = fresh.urls["land_registry"]
    headers = {"Content-Type": "application/xml", "Idempotency-Key": "lr-1"}
    tickets = []
    for _ in range(2):
        async with http.post(base + "/lr/controls", data=body, headers=headers) as resp:
            assert resp.status == 202
            tickets.append(await resp.text())
    assert tickets[0] == tickets[1]
    ticket = tickets[0].split('id="')[1].split('"')[0]
    async with http.get(f"{base}/lr/tickets/{ticket}") as resp:
        assert 'status="PENDING"' in await resp.text()
    for _ in range(2):
        async with http.get(f"{base}/lr/tickets/{ticket}") as resp:
            text = await resp.text()
            assert 'status="DONE"' in text and 'outcome="SEIZED"' in text
    assert (await stats(http, base))["executions"] == {"SEIZE_REAL_ESTATE": 1}
    async with http.get(f"{base}/lr/tickets/LRT99999999") as resp:
        assert resp.status == 404


async def test_market_regulation_freeze_in_its_envelope(
    fresh: RunningMocks, http: aiohttp.ClientSession
) -> None:
    world = fresh.world
    pid = world.showcase_id()
    code = next(r.company_code for r in world.roles_of(pid) if r.role == "SHAREHOLDER")
    base = fresh.urls["market_regulation"] + "/mr/api/v1/equity/controls"
    order = {
        "action": "FREEZE",
        "personId": pid,
        "companyCode": code,
        "court": COURT,
        "caseNumber": CASE,
        "documentNumber": "D1",
        "since": "2026-10-31",
        "amount": "1000.00",
    }
    for _ in range(2):
        async with http.post(base, json=order, headers={"Idempotency-Key": "mr-1"}) as resp:
            data = await resp.json()
            assert data["code"] == 0 and data["data"]["status"] == "FROZEN"
    async with http.post(base, json=order) as resp:
        assert (await resp.json())["code"] == 40003
    unfreeze = {**order, "action": "UNFREEZE", "caseNumber": "（2026）苏0311执9号"}
    async with http.post(base, json=unfreeze, headers={"Idempotency-Key": "mr-2"}) as resp:
        assert (await resp.json())["code"] == 40901
    stats_now = await stats(http, fresh.urls["market_regulation"])
    assert stats_now["executions"] == {"FREEZE_EQUITY": 1}


def test_the_queued_control_that_reaches_the_front_runs_its_term_from_that_day() -> None:
    holder = ControlRecord("甲法院", "（2025）苏0311执1号", date(2025, 1, 1), date(2027, 1, 1), 0)
    queued = ControlRecord("乙法院", "（2025）苏0311执2号", date(2025, 6, 1), date(2028, 6, 1), 1)
    second = ControlRecord("丙法院", "（2025）苏0311执3号", date(2025, 7, 1), date(2028, 7, 1), 2)
    controls = [holder, queued, second]
    assert remove_control(controls, holder.case_number, date(2026, 10, 31))
    # Art. 26: effective by itself the day the holder is lifted, for the same length of term.
    assert (queued.queue_position, queued.since, queued.until) == (
        0,
        date(2026, 10, 31),
        date(2029, 10, 31),
    )
    assert (second.queue_position, second.since) == (1, date(2025, 7, 1))
