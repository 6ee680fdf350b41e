"""Issue 22, finding 3: the persons behind an organisation.

A consumption ban on an organisation reaches its legal representative, executives and
controlling shareholder (法释〔2015〕17号 art. 3 ¶2): they screen as restricted through it.
An exit ban for an organisation is placed on its legal representative (执行程序解释 art. 24).
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from gateway.auth import issue_token
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.records import CaseRecord, RoleRecord
from mocks.world import World
from tests.harness import JUDGE, OFFICER, SECRET
from tests.integration.assistance_requests import AssistanceGateway, assistance_gateway

IMPOSE = """mutation($input: ImposeRestrictionInput!) { imposeRestriction(input: $input) {
  restriction { id kind status } decision { id status }
  assistanceRequest { id status action target } } }"""
LIFT = """mutation($input: LiftRestrictionInput!) { liftRestriction(input: $input) {
  restriction { id status } } }"""
LIFT_BAN = """mutation($input: LiftRestrictionInput!) { liftRestriction(input: $input) {
  assistanceRequest { id status } } }"""
NUMBER = "（2026）苏0311执9931号"
SIGN = """mutation($id: ID!) { signRestrictionDecision(id: $id) { restrictions { id kind } } }"""
PRESIDENT = "president-1"


def _company(world: World) -> tuple[str, list[RoleRecord]]:
    """A company with an executive, a controlling shareholder who is not its legal
    representative, and a minority shareholder with no other role."""
    for code in world.company_codes():
        members = world.members_of(code)
        roles: dict[str, set[str]] = {}
        for m in members:
            roles.setdefault(m.person_id, set()).add(m.role)
        controlling = [
            m
            for m in members
            if m.role == "SHAREHOLDER"
            and m.share_ratio is not None
            and m.share_ratio > Decimal("0.5")
            and roles[m.person_id] == {"SHAREHOLDER"}
        ]
        minority = [
            m
            for m in members
            if m.role == "SHAREHOLDER"
            and m.share_ratio is not None
            and m.share_ratio < Decimal("0.5")
            and roles[m.person_id] == {"SHAREHOLDER"}
        ]
        executives = [m for m in members if roles[m.person_id] == {"EXECUTIVE"}]
        if controlling and minority and executives:
            return code, members
    raise AssertionError("the seeded world has no such company")


def _one(members: Sequence[RoleRecord], role: str, *, only: bool = True) -> str:
    holders: dict[str, set[str]] = {}
    for m in members:
        holders.setdefault(m.person_id, set()).add(m.role)
    for m in members:
        controls = role != "SHAREHOLDER" or (m.share_ratio or 0) > Decimal("0.5")
        if m.role == role and (not only or holders[m.person_id] == {role}) and controls:
            return m.person_id
    raise AssertionError(role)


def _minority(members: Sequence[RoleRecord]) -> str:
    holders: dict[str, set[str]] = {}
    for m in members:
        holders.setdefault(m.person_id, set()).add(m.role)
    return next(
        m.person_id
        for m in members
        if m.role == "SHAREHOLDER"
        and (m.share_ratio or 0) < Decimal("0.5")
        and holders[m.person_id] == {"SHAREHOLDER"}
    )


async def _case(ag: AssistanceGateway, organization: str) -> None:
    await ag.gw.add_case(
        CaseIn(
            number=NUMBER,
            court=ag.gw.court,
            applicant="某银行",
            amount_due=Decimal("300000.00"),
            debtor_ids=[debtor_id(organization)],
            officers=[OFFICER],
            judges=[JUDGE],
        )
    )


async def _screen(ag: AssistanceGateway, ids: Sequence[str]) -> dict[str, Any]:
    token = issue_token(
        SECRET.encode(),
        settings=ag.gw.settings.auth,
        subject="airline-1",
        court="",
        roles=["agency"],
    )
    async with ag.gw.session.post(
        ag.gw.base_url + "/v1/screen",
        json={"ids": list(ids)},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        assert resp.status == 200, await resp.text()
        body: dict[str, Any] = orjson.loads(await resp.read())
        return body


def _hits(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    return {hit["id"]: hit["measures"] for hit in body["hits"]}


async def test_a_consumption_ban_on_an_organisation_screens_its_legal_representative(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        organization, members = _company(ag.world)
        company = ag.world.company(organization)
        assert company is not None
        legal = company.legal_representative_id
        executive = _one(members, "EXECUTIVE")
        controlling = _one(members, "SHAREHOLDER")
        minority = _minority(members)
        await _case(ag, organization)
        assert _hits(await _screen(ag, [legal])) == {}  # before: the representative is clean

        judge = ag.gw.token(officer=JUDGE, roles=["judge"])
        ban = {
            "caseNumber": NUMBER,
            "debtorId": organization,
            "kind": "HIGH_CONSUMPTION_BAN",
            "ground": "未按执行通知履行",
            "documentNumber": "（2026）苏0311执9931号限制消费令",
        }
        _, body = await ag.gw.post(IMPOSE, {"input": ban}, token=judge)
        assert "errors" not in body, body
        decision = body["data"]["imposeRestriction"]["decision"]
        assert await ag.route_count("market_regulation", "POST /mr/api/v1/members") == 1
        assert _hits(await _screen(ag, [legal])) == {}  # decided, not yet in force
        president = ag.gw.token(officer=PRESIDENT, roles=["judge", "president"])
        _, body = await ag.gw.post(SIGN, {"id": decision["id"]}, token=president)
        assert "errors" not in body, body
        [restriction] = body["data"]["signRestrictionDecision"]["restrictions"]

        hits = _hits(await _screen(ag, [legal, executive, controlling, minority]))
        assert set(hits) == {legal, executive, controlling}  # not the minority shareholder
        expected_roles = {
            legal: "LEGAL_REPRESENTATIVE",
            executive: "EXECUTIVE",
            controlling: "CONTROLLING_SHAREHOLDER",
        }
        for person, role in expected_roles.items():
            [measure] = hits[person]
            assert measure["measure"] == "HIGH_CONSUMPTION_BAN"
            assert measure["caseNumber"] == NUMBER
            assert measure["through"] == {"organization": organization, "role": role}

        lift = {"caseNumber": NUMBER, "kind": "HIGH_CONSUMPTION_BAN", "id": restriction["id"]}
        _, body = await ag.gw.post(LIFT, {"input": {**lift, "reason": "已履行完毕"}}, token=judge)
        assert body["data"]["liftRestriction"]["restriction"]["status"] == "LIFTED", body
        assert _hits(await _screen(ag, [legal, executive, controlling])) == {}


async def test_an_exit_ban_for_an_organisation_is_placed_on_its_legal_representative(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        organization, members = _company(ag.world)
        company = ag.world.company(organization)
        assert company is not None
        legal = company.legal_representative_id
        await _case(ag, organization)
        ban = {
            "caseNumber": NUMBER,
            "debtorId": organization,
            "kind": "EXIT_BAN",
            "documentNumber": "限出-31",
        }
        # A shareholder who neither represents nor runs the company is no target (art. 24).
        _, body = await ag.gw.post(IMPOSE, {"input": {**ban, "personId": _minority(members)}})
        assert body["errors"][0]["extensions"]["rule"] == "EXIT_BAN_ORGANIZATION_PERSON", body

        _, body = await ag.gw.post(IMPOSE, {"input": ban})
        assert "errors" not in body, body
        request = body["data"]["imposeRestriction"]["assistanceRequest"]
        assert request["action"] == "EXIT_BAN" and request["status"] == "PENDING_APPROVAL"
        await ag.approve(request["id"])
        await ag.settle(request["id"], {"COMPLETED"})
        assert await ag.executions("public_security") == {"EXIT_BAN": 1}
        placed = [b for b in ag.world.exit_bans_of(legal) if b.case_number == NUMBER]
        assert [(b.person_id, b.status) for b in placed] == [(legal, "ACTIVE")]

        # Naming an executive instead places a second ban on them.
        executive = _one(members, "EXECUTIVE")
        _, body = await ag.gw.post(
            IMPOSE, {"input": {**ban, "personId": executive, "documentNumber": "限出-32"}}
        )
        assert "errors" not in body, body
        second = body["data"]["imposeRestriction"]["assistanceRequest"]["id"]
        await ag.approve(second)
        await ag.settle(second, {"COMPLETED"})
        assert [b.case_number for b in ag.world.exit_bans_of(executive)] == [NUMBER]

        # Lifted by the organisation's case, naming the person the ban is on.
        [held] = placed
        lift = {
            "caseNumber": NUMBER,
            "kind": "EXIT_BAN",
            "id": held.ban_id,
            "debtorId": organization,
            "reason": "已履行",
            "documentNumber": "解限-31",
        }
        _, body = await ag.gw.post(LIFT_BAN, {"input": lift})
        assert body["errors"][0]["extensions"]["field"] == "input.personId", body
        _, body = await ag.gw.post(LIFT_BAN, {"input": {**lift, "personId": legal}})
        assert "errors" not in body, body
        lifting = body["data"]["liftRestriction"]["assistanceRequest"]["id"]
        await ag.approve(lifting)
        await ag.settle(lifting, {"COMPLETED"})
        assert held.status == "LIFTED"
        assert await ag.executions("public_security") == {"EXIT_BAN": 2, "LIFT_EXIT_BAN": 1}
