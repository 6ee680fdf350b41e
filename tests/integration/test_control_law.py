"""Controls on assets as courts apply the law, through the GraphQL API (issue 22, 1, 5, 6).

- Lapse (查扣冻规定 art. 27): a control not renewed before its ``until`` counts for nothing,
  frees the asset and cannot be renewed; a warning comes before; renewal is checked again
  at approval and at sending.
- Over-seizure on net value (art. 19; 民诉法 art. 264): mortgages and earlier seizures'
  claims come off the estimate; costs and interest are owed too; an indivisible asset
  clearly worth more needs a judge's finding that no other property will do.
- Queued seizures (art. 26) take effect when the seizure ahead is lifted.
"""

from __future__ import annotations

import dataclasses
import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from connectors.control import ControlAction, ControlOrder
from connectors.lr_control import order_xml
from gateway.assistance.lifecycle_worker import LifecycleWorker
from gateway.clock import ManualClock
from gateway.settings import AssistanceSettings
from mocks.records import CaseRecord, MortgageRecord
from mocks.world import AS_OF
from tests.harness import JUDGE, wait_for
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway
from tests.integration.control_steps import (
    CAR_VALUE,
    case_value,
    error_of,
    order,
    owing_less_than_the_car,
    seize_the_car,
)

LAPSING = """query($n: String!, $d: Int!) { lapsingControls(caseNumber: $n, withinDays: $d) {
  id until } }"""
STEPS = """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 500) {
  edges { node { operation code detail } } } }"""
NET = "query($id: ID!) { assistanceRequest(id: $id) { targetValue netValue since until } }"
CANCEL = "mutation($id: ID!) { cancelAssistance(id: $id) { status } }"
COSTS = """mutation($n: String!, $c: Money!, $i: Money!) {
  setCaseCosts(caseNumber: $n, enforcementCosts: $c, lateInterest: $i) { amountOwed } }"""


async def steps(ag: AssistanceGateway, number: str, operation: str) -> list[dict[str, Any]]:
    auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
    _, log = await ag.gw.post(STEPS, {"c": number}, token=auditor)
    nodes = [e["node"] for e in log["data"]["auditRecords"]["edges"]]
    return [n for n in nodes if n["operation"] == operation]


async def test_a_lapsed_vehicle_seizure_counts_for_nothing_and_frees_the_vehicle(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = owing_less_than_the_car(cases[0])
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    async with assistance_gateway(tmp_path, [case], clock=clock) as ag:
        car = await seize_the_car(ag, case)
        vin, stake, first, seized = car.vin, car.stake, car.request_id, car.state
        until = date.fromisoformat(
            (await ag.gw.post(NET, {"id": first}))[1]["data"]["assistanceRequest"]["until"]
        )
        assert (await case_value(ag, case.number))["controlledValue"] == CAR_VALUE
        _, again = await ag.request(order(case, "SEIZE_VEHICLE", vin, documentNumber="二"))
        assert error_of(again)["rule"] == "ALREADY_CONTROLLED"
        _, more = await ag.request(order(case, "FREEZE_EQUITY", stake))
        assert error_of(more)["rule"] == "OVER_SEIZURE"
        _, soon = await ag.gw.post(LAPSING, {"n": case.number, "d": 30})
        assert soon["data"]["lapsingControls"] == []

        # Ten days before the end: warned once, however many scans run.
        clock.advance(days=(until - clock.today()).days - 10)
        warned = await wait_for(
            lambda: ag.state(first), lambda s: "LAPSING" in [e["kind"] for e in s["events"]]
        )
        assert warned["status"] == "COMPLETED"
        worker = ag.services.assistance.worker  # type: ignore[union-attr]
        assert worker is not None
        for _ in range(3):
            await worker.run_once()
        assert [e["kind"] for e in (await ag.state(first))["events"]].count("LAPSING") == 1
        assert len(await steps(ag, case.number, "assistance.lapsing")) == 1
        _, soon = await ag.gw.post(LAPSING, {"n": case.number, "d": 30})
        assert [c["id"] for c in soon["data"]["lapsingControls"]] == [first]

        # Eleven months after the end, unrenewed: the seizure has lapsed.
        clock.advance(days=10 + 335)
        value = await case_value(ag, case.number)
        assert value["controlledValue"] == "0.00", value
        _, soon = await ag.gw.post(LAPSING, {"n": case.number, "d": 30})
        assert soon["data"]["lapsingControls"] == []
        _, late = await ag.request(
            order(case, "SEIZE_VEHICLE", vin, renewalOf=first, documentNumber="续")
        )
        assert error_of(late)["rule"] == "RENEWAL_BEFORE_EXPIRY"
        # Nothing is held: a freeze is no over-seizure, and the vehicle is free to seize.
        freeze = await ag.request_ok(order(case, "FREEZE_EQUITY", stake))
        # Withdrawn again, so that the vehicle is weighed alone.
        _, cancelled = await ag.gw.post(CANCEL, {"id": freeze})
        assert cancelled["data"]["cancelAssistance"]["status"] == "CANCELLED", cancelled
        fresh = await ag.request_ok(order(case, "SEIZE_VEHICLE", vin, documentNumber="新"))
        # Public security's records have moved on to the same day: its seizure lapsed too.
        ag.world.today = clock.today()
        await ag.approve(fresh)
        await ag.settle(fresh, {"COMPLETED"})
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 2}
        assert (await case_value(ag, case.number))["controlledValue"] == CAR_VALUE
        assert seized["status"] == "COMPLETED"


async def test_a_renewal_is_checked_again_at_approval_and_at_sending(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    async with assistance_gateway(tmp_path, [case], clock=clock) as ag:
        vin = ag.world.vehicles_of(case.debtor_ids[0])[0].vin
        first = await ag.request_ok(order(case, "SEIZE_VEHICLE", vin, until="2026-11-20"))
        await ag.approve(first)
        await ag.settle(first, {"COMPLETED"})
        # Requested in time, approved too late: refused at approval.
        clock.advance(days=10)
        renewal = await ag.request_ok(
            order(case, "SEIZE_VEHICLE", vin, renewalOf=first, documentNumber="续-1")
        )
        clock.advance(days=9)
        body = await ag.approve(renewal)
        assert error_of(body)["rule"] == "RENEWAL_BEFORE_EXPIRY"
        assert (await ag.state(renewal))["status"] == "PENDING_APPROVAL"

    # Approved in time, sent too late: the worker never sends it.
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    (tmp_path / "2").mkdir()
    async with assistance_gateway(tmp_path / "2", [case], clock=clock) as ag:
        vin = ag.world.vehicles_of(case.debtor_ids[0])[0].vin
        first = await ag.request_ok(order(case, "SEIZE_VEHICLE", vin, until="2026-11-20"))
        await ag.approve(first)
        await ag.settle(first, {"COMPLETED"})
        running = ag.services.assistance.worker  # type: ignore[union-attr]
        assert running is not None
        await running.stop()
        clock.advance(days=10)
        renewal = await ag.request_ok(
            order(case, "SEIZE_VEHICLE", vin, renewalOf=first, documentNumber="续-2")
        )
        await ag.approve(renewal)
        clock.advance(days=9)
        settings = AssistanceSettings()
        worker = LifecycleWorker(
            ag.services.assistance.requests,  # type: ignore[union-attr]
            connectors=ag.services.connectors,
            effects=ag.services.assistance.effects,  # type: ignore[union-attr]
            settings=settings,
            clock=clock,
        )
        await worker.run_once()
        state = await ag.state(renewal)
        assert state["status"] == "REJECTED" and "RENEWAL_BEFORE_EXPIRY" in state["reply"]
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}
        refused = await steps(ag, case.number, "assistance.renewal_lapsed")
        assert len(refused) == 1 and refused[0]["detail"]["rule"] == "RENEWAL_BEFORE_EXPIRY"


async def test_the_guard_weighs_net_value_against_due_costs_and_interest(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = dataclasses.replace(cases[0], amount_due=Decimal("200000.00"))
    async with assistance_gateway(tmp_path, [case]) as ag:
        debtor = case.debtor_ids[0]
        flat = next(p for p in ag.world.properties_of(debtor) if not p.seizures)
        assert flat.assessed_value is not None
        # A ¥1M flat carrying a ¥900k mortgage: ¥100k of it is the case's to take.
        flat.assessed_value = Decimal("1000000.00")
        flat.mortgages = [
            MortgageRecord("中国银行徐州分行", Decimal("900000.00"), date(2020, 1, 1))
        ]
        rid = await ag.request_ok(order(case, "SEIZE_REAL_ESTATE", flat.certificate_no))
        _, body = await ag.gw.post(NET, {"id": rid})
        assert body["data"]["assistanceRequest"]["netValue"] == "100000.00"
        await ag.approve(rid)
        await ag.settle(rid, {"COMPLETED"})
        assert (await case_value(ag, case.number))["controlledValue"] == "100000.00"
        # The car (¥30,000) is still needed: ¥100,000 of ¥200,000 held.
        vin = ag.world.vehicles_of(debtor)[0].vin
        car = await ag.request_ok(order(case, "SEIZE_VEHICLE", vin))
        await ag.approve(car)
        await ag.settle(car, {"COMPLETED"})
        # Costs and the doubled late interest are owed too: ¥130,000 held of ¥200,000 due
        # plus ¥5,000 costs plus ¥3,000 interest.
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        _, officer_try = await ag.gw.post(COSTS, {"n": case.number, "c": "5000.00", "i": "3000.00"})
        assert error_of(officer_try)["code"] == "FORBIDDEN"
        _, costs = await ag.gw.post(
            COSTS, {"n": case.number, "c": "5000.00", "i": "3000.00"}, token=judge
        )
        assert costs["data"]["setCaseCosts"]["amountOwed"] == "208000.00", costs
        value = await case_value(ag, case.number)
        assert value == {
            "amountDue": "200000.00",
            "amountOwed": "208000.00",
            "controlledValue": "130000.00",
        }
        # Equity is divisible: a freeze takes only what is still owed (partial seizure).
        role = ag.world.roles_of(debtor)[0]
        role.estimated_value = Decimal("500000.00")
        _, freeze = await ag.request(order(case, "FREEZE_EQUITY", role.company_code))
        request = freeze["data"]["requestAssistance"]["request"]
        assert request["targetValue"] == "500000.00" and request["amount"] == "78000.00"
        assert len(await steps(ag, case.number, "case.costs")) == 1


async def test_an_indivisible_asset_clearly_worth_more_needs_a_finding_of_no_other_property(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = dataclasses.replace(cases[0], amount_due=Decimal("10000.00"))
    async with assistance_gateway(tmp_path, [case]) as ag:
        flat = next(p for p in ag.world.properties_of(case.debtor_ids[0]) if not p.seizures)
        flat.assessed_value = Decimal("5000000.00")
        flat.mortgages = []
        whole = order(case, "SEIZE_REAL_ESTATE", flat.certificate_no)
        _, refused = await ag.request(whole)
        ext = error_of(refused)
        assert ext["code"] == "OVER_SEIZURE" and ext["rule"] == "INDIVISIBLE_ASSET_EXCEEDS"
        assert ext["netValue"] == "5000000.00" and ext["amountDue"] == "10000.00"
        # An officer cannot make the finding; the case's judge can, in writing.
        _, body = await ag.request({**whole, "overrideReason": "无其他财产"})
        assert error_of(body)["code"] == "FORBIDDEN"
        reason = "被执行人名下无其他可供执行的财产，该房产为不可分物"
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        rid = await ag.request_ok({**whole, "overrideReason": reason}, token=judge)
        overrides = await steps(ag, case.number, "assistance.override")
        assert [o["detail"]["reason"] for o in overrides] == [reason]
        assert (await ag.state(rid))["status"] == "PENDING_APPROVAL"


async def lift_at_registry(
    ag: AssistanceGateway, cert: str, owner: str, court: str, number: str
) -> None:
    """Another court lifts its seizure through the registry's own control API."""
    lift = ControlOrder(
        action=ControlAction.LIFT_REAL_ESTATE_SEIZURE,
        target=cert,
        debtor_id=owner,
        court=court,
        case_number=number,
        document_number=f"{number}之解封",
        since=AS_OF,
    )
    base = ag.mocks.urls["land_registry"]
    headers = {"Content-Type": "application/xml", "Idempotency-Key": f"lift-{number}"}
    async with aiohttp.ClientSession() as http:
        async with http.post(base + "/lr/controls", data=order_xml(lift), headers=headers) as r:
            assert r.status == 202
            ticket = ET.fromstring(await r.text()).attrib["id"]
        for _ in range(10):
            async with http.get(f"{base}/lr/tickets/{ticket}") as r:
                done = ET.fromstring(await r.text()).attrib
            if done["status"] == "DONE":
                assert done["outcome"] == "LIFTED", done
                return
    raise AssertionError("the registry never carried the lift out")


async def test_a_queued_seizure_takes_effect_when_the_seizure_ahead_is_lifted(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    async with assistance_gateway(tmp_path, [case], queue_check_s=0.05) as ag:
        debtor = case.debtor_ids[0]
        prop = next(p for p in ag.world.properties_of(debtor) if p.seizures)
        ahead = [c for c in prop.seizures if c.until is None or c.until >= AS_OF]
        assert ahead
        rid = await ag.request_whole(order(case, "SEIZE_REAL_ESTATE", prop.certificate_no))
        await ag.approve(rid)
        queued = await ag.settle(rid, {"QUEUED", "COMPLETED"})
        assert queued["status"] == "QUEUED" and queued["queuePosition"] == len(ahead)
        assert (await case_value(ag, case.number))["controlledValue"] == "0.00"
        # A queued seizure cannot be renewed: it is not yet in force.
        _, early = await ag.request(
            order(
                case, "SEIZE_REAL_ESTATE", prop.certificate_no, renewalOf=rid, documentNumber="续"
            )
        )
        assert error_of(early)["rule"] == "RENEWAL_OF_CONTROL"

        for control in ahead:
            await lift_at_registry(
                ag, prop.certificate_no, prop.owner_ids[0], control.court, control.case_number
            )
        done = await ag.settle(rid, {"COMPLETED"})
        kinds = [e["kind"] for e in done["events"]]
        assert kinds.count("TOOK_EFFECT") == 1 and done["queuePosition"] == 0
        _, body = await ag.gw.post(NET, {"id": rid})
        request = body["data"]["assistanceRequest"]
        # Its term runs from the day it took effect at the registry.
        assert request["since"] == AS_OF.isoformat()
        assert (await case_value(ag, case.number))["controlledValue"] == request["netValue"]
        assert len(await steps(ag, case.number, "assistance.took_effect")) == 1
        looks = await steps(ag, case.number, "assistance.queue_check")
        assert looks and {look["detail"]["assistanceRequest"] for look in looks} == {rid}
        executions = await ag.executions("land_registry")
        assert executions == {"SEIZE_REAL_ESTATE": 1, "LIFT_REAL_ESTATE_SEIZURE": len(ahead)}
        # In force now, it may be renewed.
        until = date.fromisoformat(request["until"])
        assert until - AS_OF >= timedelta(days=365)
        renewal = await ag.request_ok(
            order(
                case, "SEIZE_REAL_ESTATE", prop.certificate_no, renewalOf=rid, documentNumber="续-1"
            )
        )
        assert (await ag.state(renewal))["status"] == "PENDING_APPROVAL"
