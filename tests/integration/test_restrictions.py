"""Imposing and lifting restrictions: court-side at once, exit bans through public security."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from stdnum.cn import ric

from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord
from tests.assertions import nodes
from tests.harness import JUDGE, OFFICER
from tests.integration.assistance_requests import assistance_gateway

IMPOSE = """mutation($input: ImposeRestrictionInput!) { imposeRestriction(input: $input) {
  restriction { id kind ground since until status liftReason }
  decision { id status kind grounds documentNumber decidedBy }
  assistanceRequest { id status action } } }"""
SIGN = """mutation($id: ID!) { signRestrictionDecision(id: $id) {
  decision { id status signedBy follows }
  restrictions { id recordId kind ground since until status caseNumber } } }"""
PRESIDENT = "president-1"
LIFT = """mutation($input: LiftRestrictionInput!) { liftRestriction(input: $input) {
  restriction { id status liftReason } assistanceRequest { id status action reason } } }"""
RESTRICTIONS = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
  restrictions(first: 100) { edges { node {
    id recordId kind caseNumber status ground liftReason } } } } }"""
NODE = """query($id: ID!) { node(id: $id) { id ... on Restriction { recordId kind status } } }"""


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    assert body.get("errors"), body
    ext: dict[str, Any] = body["errors"][0]["extensions"]
    return ext


async def test_dishonest_listing_by_a_judge_with_ground_and_lift_reason(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        listing = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "DISHONEST_LIST",
            "documentNumber": "（2026）苏0311执1号之一",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": {**listing, "ground": "EVADES_ENFORCEMENT"}})
        assert error_of(body)["code"] == "FORBIDDEN"  # an officer does not decide it
        _, body = await ag.gw.post(IMPOSE, {"input": {**listing, "ground": "不还钱"}}, token=judge)
        assert error_of(body)["rule"] == "DISHONEST_GROUND"
        decided = {**listing, "ground": "EVADES_ENFORCEMENT"}
        _, body = await ag.gw.post(IMPOSE, {"input": decided}, token=judge)
        assert "errors" not in body, body
        decision = body["data"]["imposeRestriction"]["decision"]
        president = ag.gw.token(officer=PRESIDENT, roles=["judge", "president"])
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president)
        assert "errors" not in body, body
        listed = body["data"]["signRestrictionDecision"]["restrictions"][0]
        assert listed["status"] == "ACTIVE" and listed["until"] is not None
        _, body = await ag.gw.post(RESTRICTIONS, {"id": debtor, "c": number})
        mine = [r for r in nodes(body["data"]["debtor"]["restrictions"]) if r["id"] == listed["id"]]
        assert mine and mine[0]["ground"] == "EVADES_ENFORCEMENT"
        lift = {"caseNumber": number, "kind": "DISHONEST_LIST", "id": listed["id"]}
        _, body = await ag.gw.post(LIFT, {"input": {**lift, "reason": " "}}, token=judge)
        assert error_of(body)["field"] == "input.reason"
        _, body = await ag.gw.post(LIFT, {"input": {**lift, "reason": "已履行完毕"}}, token=judge)
        lifted = body["data"]["liftRestriction"]["restriction"]
        assert lifted == {"id": listed["id"], "status": "LIFTED", "liftReason": "已履行完毕"}


async def test_a_minor_cannot_be_listed(tmp_path: Path, cases: list[CaseRecord]) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        body17 = "32031120150101123"
        minor = body17 + ric.calc_check_digit(body17 + "0")  # it takes a full-length number
        number = "（2026）苏0311执9911号"
        await ag.gw.add_case(
            CaseIn(
                number=number,
                court=ag.gw.court,
                applicant="某银行",
                amount_due=Decimal("1000.00"),
                debtor_ids=[debtor_id(minor)],
                officers=[OFFICER],
                judges=[JUDGE],
            )
        )
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        variables = {
            "caseNumber": number,
            "debtorId": minor,
            "kind": "DISHONEST_LIST",
            "ground": "EVADES_ENFORCEMENT",
            "documentNumber": "（2026）失2号",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": variables}, token=judge)
        ext = error_of(body)
        assert ext["rule"] == "NO_MINOR_ON_DISHONEST_LIST" and ext["field"] == "input.debtorId"


async def test_exit_ban_goes_through_public_security_and_shows_at_once(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        _, before = await ag.gw.post(RESTRICTIONS, {"id": debtor, "c": number})  # now cached
        assert not any(
            r["caseNumber"] == number for r in nodes(before["data"]["debtor"]["restrictions"])
        )
        ban = {"caseNumber": number, "debtorId": debtor, "kind": "EXIT_BAN"}
        _, body = await ag.gw.post(IMPOSE, {"input": ban})
        assert error_of(body)["field"] == "input.documentNumber"
        _, body = await ag.gw.post(IMPOSE, {"input": {**ban, "documentNumber": "限出-1"}})
        request = body["data"]["imposeRestriction"]["assistanceRequest"]
        assert request["action"] == "EXIT_BAN" and request["status"] == "PENDING_APPROVAL"
        await ag.approve(request["id"])
        done = await ag.settle(request["id"], {"COMPLETED"})
        assert await ag.executions("public_security") == {"EXIT_BAN": 1}
        _, after = await ag.gw.post(RESTRICTIONS, {"id": debtor, "c": number})
        bans = [
            r
            for r in nodes(after["data"]["debtor"]["restrictions"])
            if r["kind"] == "EXIT_BAN" and r["caseNumber"] == number
        ]
        assert [b["recordId"] for b in bans] == [done["reference"]]
        # The ban's node id fetches it again, and is what a front-end lifts it by.
        _, again = await ag.gw.post(NODE, {"id": bans[0]["id"]})
        assert again["data"]["node"] == {
            "id": bans[0]["id"],
            "recordId": done["reference"],
            "kind": "EXIT_BAN",
            "status": "ACTIVE",
        }, again
        lift = {
            "caseNumber": number,
            "kind": "EXIT_BAN",
            "id": bans[0]["id"],
            "debtorId": debtor,
            "reason": "已履行",
            "documentNumber": "解限-1",
        }
        _, body = await ag.gw.post(LIFT, {"input": lift})
        lifting = body["data"]["liftRestriction"]["assistanceRequest"]
        assert lifting["action"] == "LIFT_EXIT_BAN" and lifting["reason"] == "已履行"
        await ag.approve(lifting["id"])
        await ag.settle(lifting["id"], {"COMPLETED"})
        assert await ag.executions("public_security") == {"EXIT_BAN": 1, "LIFT_EXIT_BAN": 1}
        # The reason travelled with the order: public security keeps it with the lifted ban.
        _, lifted = await ag.gw.post(RESTRICTIONS, {"id": debtor, "c": number})
        (ban,) = [
            r
            for r in nodes(lifted["data"]["debtor"]["restrictions"])
            if r["recordId"] == done["reference"]
        ]
        assert (ban["status"], ban["liftReason"]) == ("LIFTED", "已履行")
