"""``requestAssistance`` named by handle: what a caller who sees masked numbers holds."""

from __future__ import annotations

from pathlib import Path

from mocks.records import CaseRecord
from tests.integration.assistance_requests import assistance_gateway

HANDLES = """query($c: String!) { case(number: $c) { debtors { handle maskedId } } }"""
COUNT = """query($c: String!) {
  assistanceRequests(caseNumber: $c) { edges { node { id } } } }"""


async def test_a_handle_names_the_debtor_and_one_of_another_case_is_refused(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with assistance_gateway(tmp_path, cases) as ag:
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        _, body = await ag.gw.post(HANDLES, {"c": number})
        seen = body["data"]["case"]["debtors"][0]
        assert "*" in seen["maskedId"]  # the officer sees the number masked, and the handle
        vin = ag.world.vehicles_of(debtor)[0].vin
        order = {
            "caseNumber": number,
            "action": "SEIZE_VEHICLE",
            "target": vin,
            "documentNumber": "DOC-BY-HANDLE",
        }
        by_handle = await ag.request({**order, "debtorId": seen["handle"]})
        assert by_handle[0] == 200 and "errors" not in by_handle[1], by_handle
        first = by_handle[1]["data"]["requestAssistance"]
        assert first["replayed"] is False
        # The same order by the clear number is the same request: the handle named that debtor.
        again = await ag.request({**order, "debtorId": debtor})
        assert again[1]["data"]["requestAssistance"]["replayed"] is True
        assert again[1]["data"]["requestAssistance"]["request"]["id"] == first["request"]["id"]

        # A handle made for another case carries no right into this one.
        _, other = await ag.gw.post(HANDLES, {"c": cases[1].number})
        foreign = other["data"]["case"]["debtors"][0]["handle"]
        _, refused = await ag.request(
            {**order, "debtorId": foreign, "documentNumber": "DOC-FOREIGN"}
        )
        assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"
        _, listed = await ag.gw.post(COUNT, {"c": number})
        assert len(listed["data"]["assistanceRequests"]["edges"]) == 1
