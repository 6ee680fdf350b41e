"""Issue 22, finding 8, through the GraphQL API: case numbers the 2016 rules refuse,
identifiers GB 32100 and GB 11643 accept, and no measure under a review case type."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from stdnum.cn import ric, uscc

from gateway.identifiers import organization_code_check
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord
from tests.harness import JUDGE, OFFICER
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway

IMPOSE = """mutation($input: ImposeRestrictionInput!) { imposeRestriction(input: $input) {
  restriction { id } assistanceRequest { id status } } }"""
CASE = "query($n: String!) { case(number: $n) { number } }"
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { id kind } }"

# A village collective economic organisation (registration authority N, category 2).
_COLLECTIVE = "N2320311" + "MA1W7XK2" + organization_code_check("MA1W7XK2")
RURAL_COLLECTIVE = _COLLECTIVE + uscc.calc_check_digit(_COLLECTIVE)
_PERMIT = f"810000{date(1985, 3, 1):%Y%m%d}021"
HONG_KONG_RESIDENT = _PERMIT + ric.calc_check_digit(_PERMIT + "0")


def _error(answer: dict[str, Any]) -> dict[str, Any]:
    assert answer.get("errors"), answer
    ext: dict[str, Any] = answer["errors"][0]["extensions"]
    return ext


async def _add(ag: AssistanceGateway, number: str, debtors: list[str]) -> None:
    await ag.gw.add_case(
        CaseIn(
            number=number,
            court=ag.gw.court,
            applicant="某银行",
            amount_due=Decimal("100000.00"),
            debtor_ids=[debtor_id(d) for d in debtors],
            officers=[OFFICER],
            judges=[JUDGE],
        )
    )


@pytest.mark.parametrize(
    "number",
    [
        "（2024）苏0312假执1号",
        "（2099）苏0312执1号",
        "（2024）苏031执1号",
        "（2015）苏0312执字第1号",
    ],
)
async def test_case_numbers_the_2016_rules_refuse(
    tmp_path: Path, cases: list[CaseRecord], number: str
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        _, answer = await ag.gw.post(CASE, {"n": number})
        ext = _error(answer)
        assert ext["code"] == "INVALID_INPUT" and ext["field"] == "number"
        assert ext["rule"] == "CASE_NUMBER_2016"


async def test_letter_authorities_and_residence_permits_are_debtors(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number = "（2026）苏0311执9941号"
        await _add(ag, number, [RURAL_COLLECTIVE, HONG_KONG_RESIDENT])
        for given, kind in ((RURAL_COLLECTIVE, "ORGANIZATION"), (HONG_KONG_RESIDENT, "PERSON")):
            _, answer = await ag.gw.post(DEBTOR, {"id": given, "c": number})
            assert "errors" not in answer, answer
            assert answer["data"]["debtor"]["kind"] == kind


@pytest.mark.parametrize("kind", ["执异", "执复", "执监"])
async def test_no_listing_or_control_under_a_review_case(
    tmp_path: Path, cases: list[CaseRecord], kind: str
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        person = ag.world.showcase_id()
        number = f"（2026）苏0311{kind}17号"
        await _add(ag, number, [person])
        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        listing = {
            "caseNumber": number,
            "debtorId": person,
            "kind": "DISHONEST_LIST",
            "ground": "EVADES_ENFORCEMENT",
        }
        _, answer = await ag.gw.post(IMPOSE, {"input": listing}, token=judge)
        assert _error(answer)["rule"] == "ENFORCEMENT_CASE_TYPE"
        vin = ag.world.vehicles_of(person)[0].vin
        _, answer = await ag.request(
            {
                "caseNumber": number,
                "debtorId": person,
                "action": "SEIZE_VEHICLE",
                "target": vin,
                "documentNumber": "协执-17",
            }
        )
        assert _error(answer)["rule"] == "ENFORCEMENT_CASE_TYPE"
        assert await ag.executions("public_security") == {}


async def test_a_preservation_case_seizes_but_does_not_ban(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        person = ag.world.showcase_id()
        number = "（2026）苏0311执保5号"
        await _add(ag, number, [person])
        ban = {
            "caseNumber": number,
            "debtorId": person,
            "kind": "EXIT_BAN",
            "documentNumber": "限-5",
        }
        _, answer = await ag.gw.post(IMPOSE, {"input": ban})
        assert _error(answer)["rule"] == "ENFORCEMENT_CASE_TYPE"
        vin = ag.world.vehicles_of(person)[0].vin
        rid = await ag.request_ok(
            {
                "caseNumber": number,
                "debtorId": person,
                "action": "SEIZE_VEHICLE",
                "target": vin,
                "documentNumber": "协执-5",
            }
        )
        assert (await ag.state(rid))["status"] == "PENDING_APPROVAL"
