"""Listings and consumption bans: a written decision, the president's signature, art. 3.

Through the GraphQL API: 法释〔2017〕7号 arts. 3 and 5, 法释〔2015〕17号 arts. 1 and 5.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from gateway.domain.terms import add_years
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord
from tests.assertions import nodes
from tests.harness import JUDGE, OFFICER
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway
from tests.integration.test_restrictions import IMPOSE, PRESIDENT, RESTRICTIONS, SIGN, error_of

DOCUMENT = "（2026）苏0311执1号决定书"


def president(ag: AssistanceGateway, officer: str = PRESIDENT) -> str:
    return ag.gw.token(officer=officer, roles=["judge", "president"])


async def restrictions_in(ag: AssistanceGateway, debtor: str, number: str) -> list[dict[str, Any]]:
    _, body = await ag.gw.post(RESTRICTIONS, {"id": debtor, "c": number})
    found: list[dict[str, Any]] = [
        r for r in nodes(body["data"]["debtor"]["restrictions"]) if r["caseNumber"] == number
    ]
    return found


async def test_a_listing_takes_effect_only_when_the_president_signs_it(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        judge = ag.judge()
        listing = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "DISHONEST_LIST",
            "grounds": ["EVADES_ENFORCEMENT", "VIOLATES_PROPERTY_REPORTING"],
        }
        # No written decision, no listing: the number of the 决定书 is required.
        _, body = await ag.gw.post(IMPOSE, {"input": listing}, token=judge)
        assert error_of(body)["rule"] == "DECISION_DOCUMENT"
        _, body = await ag.gw.post(
            IMPOSE, {"input": {**listing, "documentNumber": DOCUMENT}}, token=judge
        )
        assert "errors" not in body, body
        decision = body["data"]["imposeRestriction"]["decision"]
        assert body["data"]["imposeRestriction"]["restriction"] is None
        assert decision["status"] == "PENDING_SIGNOFF" and decision["decidedBy"] == JUDGE
        assert decision["grounds"] == ["EVADES_ENFORCEMENT", "VIOLATES_PROPERTY_REPORTING"]
        # Decided is not in force: no restriction exists yet.
        assert await restrictions_in(ag, debtor, number) == []
        # The judge alone cannot put it in force, nor can another judge of the court.
        for token in (judge, ag.judge("judge-2")):
            _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=token)
            assert error_of(body)["rule"] == "PRESIDENT_SIGNS"
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president(ag))
        assert "errors" not in body, body
        signed = body["data"]["signRestrictionDecision"]
        assert signed["decision"]["status"] == "SIGNED"
        assert signed["decision"]["signedBy"] == PRESIDENT
        kinds = {r["kind"]: r for r in signed["restrictions"]}
        # The listing has the decision's id; the mandatory consumption ban came with it.
        assert kinds["DISHONEST_LIST"]["recordId"] == decision["id"]
        assert kinds["HIGH_CONSUMPTION_BAN"]["ground"] == "FOLLOWS_DISHONEST_LISTING"
        shown = await restrictions_in(ag, debtor, number)
        assert sorted(r["kind"] for r in shown if r["status"] == "ACTIVE") == [
            "DISHONEST_LIST",
            "HIGH_CONSUMPTION_BAN",
        ]
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president(ag))
        assert error_of(body)["code"] == "CONFLICT"  # signed once
        # Each step is on the record.
        auditor = ag.gw.token(officer="auditor-1", roles=["auditor"])
        _, log = await ag.gw.post(
            """query($c: String!) { auditRecords(filter: {caseNumber: $c}, first: 200) {
                 edges { node { operation officer } } } }""",
            {"c": number},
            token=auditor,
        )
        ops = [e["node"]["operation"] for e in log["data"]["auditRecords"]["edges"]]
        assert ops.count("restriction.decide") == 1 and ops.count("restriction.sign") == 1
        assert ops.count("restriction.impose") == 2


async def test_a_consumption_ban_needs_a_signature_by_someone_else(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        head = president(ag, "president-2")  # a president who decides it himself
        ban = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "HIGH_CONSUMPTION_BAN",
            "ground": "申请执行人申请",
            "documentNumber": "（2026）苏0311执1号限制消费令",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": ban}, token=head)
        decision = body["data"]["imposeRestriction"]["decision"]
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=head)
        assert error_of(body)["rule"] == "FOUR_EYES"
        assert await restrictions_in(ag, debtor, number) == []
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president(ag))
        assert [r["kind"] for r in body["data"]["signRestrictionDecision"]["restrictions"]] == [
            "HIGH_CONSUMPTION_BAN"
        ]


async def test_no_listing_for_refusing_to_pay_when_the_seized_property_covers_the_debt(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        # The case: ¥100k due, a completed seizure of a flat worth ¥500k or more.
        debtor, flat = next(
            (d, p)
            for c in cases
            for d in c.debtor_ids
            for p in ag.world.properties_of(d)
            if not p.seizures and not p.mortgages and (p.assessed_value or 0) >= 500_000
        )
        number = "（2026）苏0311执9921号"
        await ag.gw.add_case(
            CaseIn(
                number=number,
                court=ag.gw.court,
                applicant="某银行",
                amount_due=Decimal("100000.00"),
                debtor_ids=[debtor_id(debtor)],
                officers=[OFFICER],
                judges=[JUDGE],
            )
        )
        judge = ag.judge()
        refusal = {
            "caseNumber": number,
            "debtorId": debtor,
            "kind": "DISHONEST_LIST",
            "ground": "ABLE_BUT_REFUSES",
            "documentNumber": DOCUMENT,
        }
        seizure = {
            "caseNumber": number,
            "debtorId": debtor,
            "action": "SEIZE_REAL_ESTATE",
            "target": flat.certificate_no,
            "documentNumber": "（2026）苏0311执9921号之一",
        }
        rid = await ag.request_whole(seizure)  # worth far more than owed: taken whole (art. 19)
        # Decided while the seizure was still on its way...
        _, body = await ag.gw.post(IMPOSE, {"input": refusal}, token=judge)
        decision = body["data"]["imposeRestriction"]["decision"]
        assert decision["status"] == "PENDING_SIGNOFF", body
        await ag.approve(rid)
        await ag.settle(rid, {"COMPLETED"})
        # ... and refused at signature: the flat now held covers the debt (art. 3).
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president(ag))
        ext = error_of(body)
        assert ext["rule"] == "DISHONEST_NOT_WHEN_COVERED" and ext["field"] == "input.grounds"
        _, body = await ag.gw.post(IMPOSE, {"input": refusal}, token=judge)
        assert error_of(body)["rule"] == "DISHONEST_NOT_WHEN_COVERED"  # and at decision
        assert await restrictions_in(ag, debtor, number) == []


async def test_security_bars_refusal_and_an_extension_needs_its_statutory_basis(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        debtor = cases[0].debtor_ids[0]
        number = "（2026）苏0311执9922号"
        await ag.gw.add_case(
            CaseIn(
                number=number,
                court=ag.gw.court,
                applicant="某银行",
                amount_due=Decimal("100000.00"),
                debtor_ids=[debtor_id(debtor)],
                officers=[OFFICER],
                judges=[JUDGE],
                security=Decimal("120000.00"),  # a guarantee covering the debt
            )
        )
        judge = ag.judge()
        base = {"caseNumber": number, "debtorId": debtor, "documentNumber": DOCUMENT}
        listing = {**base, "kind": "DISHONEST_LIST"}
        _, body = await ag.gw.post(
            IMPOSE, {"input": {**listing, "ground": "ABLE_BUT_REFUSES"}}, token=judge
        )
        assert error_of(body)["rule"] == "DISHONEST_NOT_WHEN_SECURED"
        # The case: a property-report breach, reason "x", five years.
        today = ag.services.assistance.clock.today()  # type: ignore[union-attr]
        five = add_years(today, 5).isoformat()
        breach = {
            **listing,
            "ground": "VIOLATES_PROPERTY_REPORTING",
            "until": five,
            "extensionReason": "x",
        }
        for basis in (None, "VIOLENT_OBSTRUCTION", "SEVERAL_DISHONEST_ACTS"):
            _, body = await ag.gw.post(
                IMPOSE, {"input": {**breach, "extensionBasis": basis}}, token=judge
            )
            assert error_of(body)["rule"] == "DISHONEST_EXTENSION_BASIS"
        # Two dishonest acts recorded together may be extended, with the reason.
        several = {
            **breach,
            "grounds": ["VIOLATES_CONSUMPTION_BAN"],
            "extensionBasis": "SEVERAL_DISHONEST_ACTS",
            "extensionReason": "违反财产报告制度且违反限制消费令",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": several}, token=judge)
        assert "errors" not in body, body
        decision = body["data"]["imposeRestriction"]["decision"]
        assert decision["grounds"] == ["VIOLATES_PROPERTY_REPORTING", "VIOLATES_CONSUMPTION_BAN"]
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president(ag))
        listed = next(
            r
            for r in body["data"]["signRestrictionDecision"]["restrictions"]
            if r["kind"] == "DISHONEST_LIST"
        )
        assert listed["until"] == five
