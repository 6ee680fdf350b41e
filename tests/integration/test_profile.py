"""A debtor's full profile across the four agencies, through the real gateway and mocks."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord
from mocks.world import World
from tests.assertions import nodes
from tests.harness import OFFICER, PROFILE, PROFILE_VARIABLES, Gateway


async def test_example_profile_has_all_four_agencies(gateway: Gateway) -> None:
    status, body = await gateway.post(PROFILE, PROFILE_VARIABLES)
    assert status == 200
    assert "errors" not in body, body.get("errors")
    debtor = body["data"]["debtor"]
    assert debtor["identity"]["provenance"]["agency"] == "PUBLIC_SECURITY"
    marriage = debtor["marriage"]
    assert marriage["status"] == "MARRIED"
    assert marriage["provenance"]["agency"] == "CIVIL_AFFAIRS"
    assert marriage["spouse"]["identity"]["name"] == marriage["spouseName"]
    kinds = {a["__typename"] for a in debtor["assets"]}
    assert kinds == {"RealEstate", "Vehicle", "EquityStake"}
    agencies = {a["provenance"]["agency"] for a in debtor["assets"]}
    assert agencies == {"LAND_REGISTRY", "PUBLIC_SECURITY", "MARKET_REGULATION"}
    estate = next(a for a in debtor["assets"] if a["__typename"] == "RealEstate" and a["mortgages"])
    assert estate["mortgages"][0]["amount"].count(".") == 1
    assert any(a["controls"] for a in debtor["assets"]), "the showcase has a seizure elsewhere"
    assert any(r["kind"] == "EXIT_BAN" for r in nodes(debtor["restrictions"]))
    assert (
        debtor["companies"]
        and debtor["companies"][0]["provenance"]["agency"] == "MARKET_REGULATION"
    )


async def test_personal_numbers_masked_unless_unmask(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[0]
    pid = case.debtor_ids[0]
    query = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { maskedId identity { idNumber } } }"
    _, masked = await gateway.post(query, {"id": pid, "c": case.number})
    assert masked["data"]["debtor"]["maskedId"] == pid[:6] + "*" * 8 + pid[-4:]
    assert masked["data"]["debtor"]["identity"]["idNumber"] == pid[:6] + "*" * 8 + pid[-4:]
    _, clear = await gateway.post(
        query, {"id": pid, "c": case.number}, token=gateway.token(scopes=["unmask"])
    )
    assert clear["data"]["debtor"]["maskedId"] == pid
    assert pid not in json.dumps(masked, ensure_ascii=False)


async def test_case_lists_its_debtors_and_money_is_exact(
    gateway: Gateway, cases: list[CaseRecord]
) -> None:
    case = cases[1]
    query = "query($n: String!) { case(number: $n) { number court amountDue debtors { kind identity { name } } } }"
    status, body = await gateway.post(
        query, {"n": case.number.replace("（", "(").replace("）", ")")}
    )
    assert status == 200, body
    got = body["data"]["case"]
    assert got["number"] == case.number
    assert got["amountDue"] == f"{case.amount_due:.2f}"
    assert len(got["debtors"]) == len(case.debtor_ids)


async def test_assets_filtered_by_kind_call_only_that_agency(
    gateway: Gateway, cases: list[CaseRecord], world: World
) -> None:
    case = cases[0]
    await gateway.reset_stats()
    query = """query($id: ID!, $c: String!) {
      debtor(id: $id, caseNumber: $c) { assets(kinds: [REAL_ESTATE]) { __typename } } }"""
    status, body = await gateway.post(query, {"id": case.debtor_ids[0], "c": case.number})
    assert status == 200 and "errors" not in body
    assert {a["__typename"] for a in body["data"]["debtor"]["assets"]} == {"RealEstate"}
    assert sum((await gateway.stats("land_registry"))["requests"].values()) == 1
    for other in ("public_security", "civil_affairs", "market_regulation"):
        assert sum((await gateway.stats(other))["requests"].values()) == 0


async def test_organization_debtor(gateway: Gateway, world: World) -> None:
    code = world.company_codes()[0]
    number = "（2025）苏0311执9001号"
    await gateway.add_case(
        CaseIn(
            number=number,
            court=gateway.court,
            applicant="某银行",
            amount_due=Decimal("1000.00"),
            debtor_ids=[debtor_id(code)],
            officers=[OFFICER],
        )
    )
    query = """query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) {
        maskedId kind identity { name } organization { code name legalRepresentative provenance { agency } } } }"""
    status, body = await gateway.post(query, {"id": code, "c": number})
    assert status == 200 and "errors" not in body, body
    got: dict[str, Any] = body["data"]["debtor"]
    assert got["kind"] == "ORGANIZATION" and got["maskedId"] == code
    assert got["identity"] is None
    assert got["organization"]["code"] == code
    assert got["organization"]["provenance"]["agency"] == "MARKET_REGULATION"
