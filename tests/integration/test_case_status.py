"""Case status: what full performance ends (法释〔2017〕7号 art. 10, 法释〔2015〕17号 art. 9)
and the dormant case's re-query schedule (法〔2016〕373号)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from gateway.audit.query import AuditFilter
from gateway.clock import ManualClock
from gateway.restrictions.case_status import add_working_days
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from gateway.watch.scheduler import SCHEDULER
from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import JUDGE, OFFICER
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway
from tests.integration.test_listing_formalities import DOCUMENT, president
from tests.integration.test_restrictions import IMPOSE, SIGN, error_of
from tests.integration.test_watch import watching

SET_STATUS = """mutation($input: SetCaseStatusInput!) { setCaseStatus(input: $input) {
  case { number status statusSince }
  liftedRestrictions { id kind status liftReason }
  withdrawnDecisions deleteBy requeriedDebtors
  assistanceRequests { id action status target reason } } }"""


async def screen(ag: AssistanceGateway, debtor: str) -> list[dict[str, Any]]:
    token = ag.gw.token(officer="airline-1", roles=["agency"])
    async with ag.gw.session.post(
        ag.gw.base_url + "/v1/screen",
        json={"ids": [debtor]},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        assert response.status == 200
        body = orjson.loads(await response.read())
    measures: list[dict[str, Any]] = [m for hit in body["hits"] for m in hit["measures"]]
    return measures


async def test_full_performance_deletes_the_listing_and_lifts_both_bans(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        # A case of the test court with two people as debtors.
        debtor, other = cases[0].debtor_ids[0], cases[3].debtor_ids[1]
        number = "（2026）苏0311执9931号"
        await ag.gw.add_case(
            CaseIn(
                number=number,
                court=ag.gw.court,
                applicant="某银行",
                amount_due=Decimal("50000.00"),
                debtor_ids=[debtor_id(debtor), debtor_id(other)],
                officers=[OFFICER],
                judges=[JUDGE],
            )
        )
        judge = ag.judge()
        # A signed listing (with its mandatory consumption ban) and an exit ban at PS.
        listing = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "DISHONEST_LIST",
            "ground": "EVADES_ENFORCEMENT",
            "documentNumber": DOCUMENT,
        }
        _, body = await ag.gw.post(IMPOSE, {"input": listing}, token=judge)
        decision = body["data"]["imposeRestriction"]["decision"]["id"]
        _, body = await ag.gw.post(SIGN, {"id": decision}, token=president(ag))
        assert "errors" not in body, body
        exit_ban = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "EXIT_BAN",
            "documentNumber": "（2026）苏0311执1号限出",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": exit_ban})
        rid = body["data"]["imposeRestriction"]["assistanceRequest"]["id"]
        await ag.approve(rid)
        ban = await ag.settle(rid, {"COMPLETED"})
        screened = {m["measure"] for m in await screen(ag, debtor) if m["caseNumber"] == number}
        assert {"DISHONEST_LIST", "HIGH_CONSUMPTION_BAN"} <= screened
        # A pending ban decision of the case is withdrawn, never signed.
        pending = {
            **listing,
            "kind": "HIGH_CONSUMPTION_BAN",
            "ground": "申请执行人申请",
            "debtorId": other,
        }
        _, body = await ag.gw.post(IMPOSE, {"input": pending}, token=judge)
        pending_id = body["data"]["imposeRestriction"]["decision"]["id"]

        paid = {"caseNumber": number, "status": "FULLY_PERFORMED", "reason": "全部履行"}
        _, body = await ag.gw.post(SET_STATUS, {"input": paid}, token=judge)
        assert error_of(body)["field"] == "input.documentNumber"  # the exit ban needs one
        _, body = await ag.gw.post(
            SET_STATUS, {"input": {**paid, "documentNumber": "解限-1"}}, token=judge
        )
        assert "errors" not in body, body
        done = body["data"]["setCaseStatus"]
        today = ag.services.assistance.clock.today()  # type: ignore[union-attr]
        assert done["case"]["status"] == "FULLY_PERFORMED"
        assert done["case"]["statusSince"] == today.isoformat()
        assert done["deleteBy"] == add_working_days(today, 3).isoformat()
        lifted = {r["kind"]: r for r in done["liftedRestrictions"]}
        assert sorted(lifted) == ["DISHONEST_LIST", "HIGH_CONSUMPTION_BAN"]
        assert all(r["status"] == "LIFTED" for r in lifted.values())
        assert done["withdrawnDecisions"] == [pending_id]
        # Screening stops matching at once: deleted well within three working days.
        assert not [m for m in await screen(ag, debtor) if m["caseNumber"] == number]
        # The exit ban is lifted at public security, once, after approval like any control.
        (lift,) = done["assistanceRequests"]
        assert (lift["action"], lift["target"]) == ("LIFT_EXIT_BAN", ban["reference"])
        await ag.approve(lift["id"], token=ag.head())
        await ag.settle(lift["id"], {"COMPLETED"})
        assert await ag.executions("public_security") == {"EXIT_BAN": 1, "LIFT_EXIT_BAN": 1}
        # Nothing new in a paid case, and it stays paid.
        _, body = await ag.gw.post(IMPOSE, {"input": listing}, token=judge)
        assert error_of(body)["rule"] == "CASE_CLOSED"
        _, body = await ag.gw.post(SET_STATUS, {"input": {**paid, "status": "ACTIVE"}}, token=judge)
        assert error_of(body)["rule"] == "CASE_CLOSED"
        # Every effect is on the record.
        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(
            """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 300) {
                 edges { node { operation detail } } } }""",
            {"c": number},
            token=auditor,
        )
        nodes = [e["node"] for e in log["data"]["auditRecords"]["edges"]]
        lifts = [n for n in nodes if n["operation"] == "restriction.lift"]
        assert len(lifts) == 2
        assert {n["detail"]["rule"] for n in lifts} == {"PAYMENT_ENDS_RESTRICTIONS"}
        assert sum(n["operation"] == "case.status" for n in nodes) == 1


async def test_an_officer_or_another_judge_cannot_close_the_case(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        paid = {"caseNumber": cases[0].number, "status": "FULLY_PERFORMED", "reason": "全部履行"}
        for token in (None, ag.judge("judge-2")):
            _, body = await ag.gw.post(SET_STATUS, {"input": paid}, token=token)
            assert error_of(body)["code"] == "FORBIDDEN"
        _, body = await ag.gw.post(
            "query($c: String!) { case(number: $c) { status } }", {"c": cases[0].number}
        )
        assert body["data"]["case"]["status"] == "ACTIVE"


async def test_a_dormant_case_is_requeried_every_six_months_for_five_years(
    tmp_path: Path, cases: list[CaseRecord], database_url: str
) -> None:
    world = World(seed=7, people=1000)
    case = cases[0]
    start = datetime(2026, 3, 2, 9, tzinfo=UTC)
    clock = ManualClock(start)
    async with watching(tmp_path, world, database_url, clock, cases) as gw:
        services = gw.require_services()
        dormant = {"caseNumber": case.number, "status": "DORMANT", "reason": "无可供执行财产"}
        _, body = await gw.post(
            SET_STATUS, {"input": dormant}, token=gw.token(officer=JUDGE, roles=["judge"])
        )
        assert "errors" not in body, body
        debtors = len(case.debtor_ids)
        assert body["data"]["setCaseStatus"]["requeriedDebtors"] == debtors
        assert services.watch is not None
        runs: list[date] = []
        for _day in range(6 * 366):  # a pass a day for six years
            summary = await services.watch.run_pass()
            if summary.refreshed:
                assert summary.refreshed == debtors
                runs.append(clock.today())
            clock.advance(days=1)
        # A baseline, then ten re-queries, each within six months of the last; none after
        # the five years.
        assert len(runs) == 11 and runs[0] == start.date()
        assert all((b - a).days <= 181 for a, b in itertools.pairwise(runs))
        assert runs[-1] <= date(2031, 3, 2)
        # Every re-query is on the record, by the scheduler for the case.
        assert services.audit_search is not None
        records, _ = await services.audit_search.page(
            AuditFilter(case_number=case.number, officer=SCHEDULER), first=100
        )
        assert [r.operation for r in records] == ["watch.requery"] * 11
