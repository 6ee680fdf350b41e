"""Over-seizure in the console: an officer is told a judge must write the reason; a judge
who writes one files the request, which then waits for another judge (four eyes: it is not
in its maker's inbox)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack

REASON = "被执行人无其他可供执行的财产，该房产为不可分物"


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    # The world's own figure: a flat worth millions is clearly more than the case is owed.
    async for running in console_stack(tmp_path, cases, amount_due=None):
        yield running


async def open_debtor(page: Page, stack: ConsoleStack, role: str) -> None:
    if await page.get_by_role("button", name="退出").count():
        await page.get_by_role("button", name="退出").click()
    await page.locator(f'button[data-role="{role}"]').click()
    await page.get_by_role("link", name="案件").click()
    await page.get_by_role("link", name=stack.case.number).click()
    await page.locator("table a").first.click()
    await expect(page.locator("h1")).to_contain_text("被执行人")


async def fill_seizure(page: Page, certificate: str, document: str) -> None:
    await page.get_by_label("标的物").select_option(certificate)
    await page.get_by_label("文号").fill(document)
    await page.get_by_role("button", name="提交审批").click()


async def test_the_guard_asks_for_a_judges_reason_and_four_eyes_hold(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=30_000)
    debtor = stack.case.debtor_ids[0]
    flat = next(p.certificate_no for p in stack.world.properties_of(debtor) if not p.seizures)
    page = await browser.context.new_page()
    await page.goto(stack.console)

    await open_debtor(page, stack, "officer")
    assert await page.locator("#c-override").count() == 0  # officers cannot override
    await fill_seizure(page, flat, "DOC-OFFICER")
    await expect(page.locator("#c-result")).to_contain_text("OVER_SEIZURE")
    await expect(page.locator("#c-guard")).to_contain_text("须由执行法官写明理由")

    await open_debtor(page, stack, "judge")
    await page.get_by_label("超标的查封理由").fill(REASON)
    await fill_seizure(page, flat, "DOC-JUDGE")
    await expect(page.locator("#c-result")).to_contain_text("待审批")

    # Four eyes: the judge's own request is not in the judge's inbox to approve.
    await page.get_by_role("link", name="审批").click()
    await expect(page.locator("#inbox-list")).to_contain_text("没有待审批的请求")
    await page.go_back()
    await page.get_by_role("link", name="查封不动产").click()  # the profile lists it
    panel = page.locator(".timeline-panel")
    await expect(panel).to_have_attribute("data-status", "PENDING_APPROVAL")
    await expect(panel).to_contain_text(REASON)
    assert browser.outside == []
