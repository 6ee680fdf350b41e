"""A FAILED control resent from its timeline, and the command centre's per-agency figures
following it: sent, failed, then done, without a reload of the command centre."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import expect

from gateway.cli.demo import DEMO_JUDGE, DEMO_OFFICER
from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack

REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { request { id } } }"""
APPROVE = "mutation($id: ID!) { approveAssistance(id: $id) { status } }"


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    # Two unanswered sends and the request is FAILED, soon.
    quick = {"max_attempts": 2, "retry_base_s": 0.05, "retry_max_s": 0.1}
    async for running in console_stack(tmp_path, cases, assistance=quick):
        yield running


async def test_a_failed_control_is_resent_and_the_figures_follow(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=30_000)
    case = stack.case
    vin = stack.world.vehicles_of(case.debtor_ids[0])[0].vin
    page = await browser.context.new_page()
    await page.goto(stack.console)
    await page.locator('button[data-role="officer"]').click()
    await page.get_by_role("link", name="指挥中心").click()
    ps = 'tr[data-agency="PUBLIC_SECURITY"]'
    await expect(page.locator(f"{ps} td.sent")).to_have_text("0")

    # Filed and approved over the API; public security loses every answer once approved.
    officer = stack.gw.token(officer=DEMO_OFFICER)
    _, body = await stack.gw.post(
        REQUEST,
        {
            "input": {
                "caseNumber": case.number,
                "debtorId": case.debtor_ids[0],
                "action": "SEIZE_VEHICLE",
                "target": vin,
                "documentNumber": "（2026）苏0311执4214号之二",
            }
        },
        token=officer,
    )
    assert "errors" not in body, body
    rid = body["data"]["requestAssistance"]["request"]["id"]
    await stack.gw.set_faults("public_security", {"lost_response": True})
    _, body = await stack.gw.post(
        APPROVE, {"id": rid}, token=stack.gw.token(officer=DEMO_JUDGE, roles=["judge"])
    )
    assert body["data"]["approveAssistance"]["status"] == "APPROVED", body

    # The command centre's figures change on their own: sent, and failed.
    await expect(page.locator(f"{ps} td.failed")).to_have_text("1")
    await expect(page.locator(f"{ps} td.sent")).to_have_text("1")
    await expect(page.locator(f"{ps} td.completed")).to_have_text("0")
    await stack.shot(page, "command-centre-failed")

    # The officer opens the request from the case and resends it once the agency answers.
    await page.get_by_role("link", name="案件").click()
    await page.get_by_role("link", name=case.number).click()
    await page.get_by_role("link", name="查封车辆").click()
    panel = page.locator(".timeline-panel")
    await expect(panel).to_have_attribute("data-status", "FAILED")
    await stack.gw.set_faults("public_security", {"lost_response": False})
    await panel.get_by_role("button", name="重新发送").click()
    await expect(panel).to_have_attribute("data-status", "COMPLETED")
    await expect(panel.locator('li[data-kind="RESENT"]')).to_have_count(1)

    await page.get_by_role("link", name="指挥中心").click()
    await expect(page.locator(f"{ps} td.completed")).to_have_text("1")
    await expect(page.locator(f"{ps} td.failed")).to_have_text("0")
    await expect(page.locator(f"{ps} td.sent")).to_have_text("1")
    assert browser.outside == []
