"""Who approves a control: the case's judge or the bureau head, never the request's maker."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mocks.records import CaseRecord
from tests.harness import JUDGE
from tests.integration.assistance_requests import OTHER_JUDGE, assistance_gateway

REJECT = """mutation($id: ID!) { rejectAssistance(id: $id, reason: "不予批准") { status } }"""


def rule_of(body: dict[str, Any]) -> tuple[str, str | None]:
    assert body.get("errors"), body
    ext = body["errors"][0]["extensions"]
    return ext["code"], ext.get("rule")


async def test_a_judges_own_request_needs_another_approver_of_the_case(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        vin = ag.world.vehicles_of(debtor)[0].vin
        order = {
            "caseNumber": number,
            "debtorId": debtor,
            "action": "SEIZE_VEHICLE",
            "target": vin,
            "documentNumber": "（2026）苏0311执保1号",
        }
        rid = await ag.request_ok(order, token=ag.judge(JUDGE))  # the case's own judge asks
        # FOUR_EYES holds for judges too: the maker cannot approve their own request.
        assert rule_of(await ag.approve(rid, token=ag.judge(JUDGE))) == ("FORBIDDEN", "FOUR_EYES")
        # Any other judge of the court is not enough: not the case's judge nor the head.
        other = ag.judge(OTHER_JUDGE)
        assert rule_of(await ag.approve(rid, token=other)) == ("FORBIDDEN", "JUDGE_APPROVES")
        _, body = await ag.gw.post(REJECT, {"id": rid}, token=other)
        assert rule_of(body) == ("FORBIDDEN", "JUDGE_APPROVES")
        assert (await ag.state(rid))["status"] == "PENDING_APPROVAL"
        assert await ag.executions("public_security") == {}
        # The enforcement bureau's head approves it.
        body = await ag.approve(rid, token=ag.head())
        assert body["data"]["approveAssistance"]["status"] == "APPROVED", body
        await ag.settle(rid, {"COMPLETED"})
        assert await ag.executions("public_security") == {"SEIZE_VEHICLE": 1}
