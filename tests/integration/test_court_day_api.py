"""The court's calendar day through the API (``COURT_DAY_CST``).

The gateway's clock is set to instants where UTC and Beijing dates differ: a control ending
"yesterday" in Beijing has lapsed although its UTC day has not ended, and a start of
yesterday (Beijing) is refused at 17:00 UTC although it is still that day in UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.clock import ManualClock, court_date
from mocks.records import CaseRecord
from tests.integration.assistance_requests import assistance_gateway
from tests.integration.control_steps import (
    CAR_VALUE,
    case_value,
    error_of,
    order,
    owing_less_than_the_car,
    seize_the_car,
)

IMPOSE = """mutation($input: ImposeRestrictionInput!) { imposeRestriction(input: $input) {
  restriction { id } decision { id } } }"""
SET_STATUS = """mutation($input: SetCaseStatusInput!) { setCaseStatus(input: $input) {
  case { status statusSince } requeriedDebtors } }"""
SCHEDULES = """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 100) {
  edges { node { operation detail } } } }"""


async def test_a_control_ending_yesterday_in_beijing_no_longer_counts(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = owing_less_than_the_car(cases[0])
    clock = ManualClock(datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    async with assistance_gateway(tmp_path, [case], clock=clock) as ag:
        car = await seize_the_car(ag, case, until="2026-11-20")
        vin, stake, seized = car.vin, car.stake, car.request_id

        # 23:30 in Beijing on its last day: the seizure still holds the car.
        clock.advance(days=18, hours=6, minutes=30)  # 2026-11-20 15:30 UTC
        assert (await case_value(ag, case.number))["controlledValue"] == CAR_VALUE
        _, more = await ag.request(order(case, "FREEZE_EQUITY", stake))
        assert error_of(more)["rule"] == "OVER_SEIZURE"

        # 00:30 in Beijing the day after, still 11-20 in UTC: it has lapsed.
        clock.advance(hours=1)  # 2026-11-20 16:30 UTC
        assert (await case_value(ag, case.number))["controlledValue"] == "0.00"
        await ag.request_ok(order(case, "FREEZE_EQUITY", stake))
        _, late = await ag.request(
            order(case, "SEIZE_VEHICLE", vin, renewalOf=seized, documentNumber="续")
        )
        assert error_of(late)["rule"] == "RENEWAL_BEFORE_EXPIRY"


async def test_a_start_of_yesterday_in_beijing_is_refused_at_17_utc(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    # 17:00 UTC on 11-02 is 01:00 on 11-03 in Beijing: 11-02 is yesterday for the court.
    clock = ManualClock(datetime(2026, 11, 2, 17, 0, tzinfo=UTC))
    async with assistance_gateway(tmp_path, [case], clock=clock) as ag:
        vin = ag.world.vehicles_of(case.debtor_ids[0])[0].vin
        _, body = await ag.request(order(case, "SEIZE_VEHICLE", vin, since="2026-11-02"))
        ext = error_of(body)
        assert (ext["code"], ext["field"], ext["rule"]) == (
            "INVALID_INPUT",
            "input.since",
            "START_NOT_IN_PAST",
        )
        await ag.request_ok(order(case, "SEIZE_VEHICLE", vin, since="2026-11-03"))

        ban: dict[str, Any] = {
            "caseNumber": case.number,
            "debtorId": case.debtor_ids[0],
            "kind": "HIGH_CONSUMPTION_BAN",
            "ground": "未按执行通知履行",
            "documentNumber": "（2026）苏0312执1号限制消费令",
        }
        _, body = await ag.gw.post(
            IMPOSE, {"input": {**ban, "since": "2026-11-02"}}, token=ag.judge()
        )
        assert error_of(body)["rule"] == "START_NOT_IN_PAST", body
        _, body = await ag.gw.post(
            IMPOSE, {"input": {**ban, "since": "2026-11-03"}}, token=ag.judge()
        )
        assert "errors" not in body, body


async def test_a_case_made_dormant_after_16_utc_counts_five_years_from_the_beijing_day(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    # 16:30 UTC on 03-01 is 00:30 on 03-02 in Beijing: the five years run from 03-02 and
    # end with the court's 2031-03-02, at 16:00 UTC.
    clock = ManualClock(datetime(2026, 3, 1, 16, 30, tzinfo=UTC))
    async with assistance_gateway(tmp_path, [case], clock=clock) as ag:
        dormant = {"caseNumber": case.number, "status": "DORMANT", "reason": "无可供执行财产"}
        _, body = await ag.gw.post(SET_STATUS, {"input": dormant}, token=ag.judge())
        assert "errors" not in body, body
        changed = body["data"]["setCaseStatus"]
        assert changed["case"] == {"status": "DORMANT", "statusSince": "2026-03-02"}
        assert changed["requeriedDebtors"] == len(case.debtor_ids)

        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(SCHEDULES, {"c": case.number}, token=auditor)
        nodes = [e["node"] for e in log["data"]["auditRecords"]["edges"]]
        (schedule,) = [n["detail"] for n in nodes if n["operation"] == "case.dormant_schedule"]
        ends = datetime.fromisoformat(schedule["endsAt"])
        assert court_date(ends) == date(2031, 3, 2)
        assert court_date(ends + timedelta(microseconds=1)) == date(2031, 3, 3)
