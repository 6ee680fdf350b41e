"""The console as its users meet it: one scripted day, in a real Chromium with no internet.

The officer finds the case, opens the debtor (facts from all four agencies) and files a
seizure; the judge approves it from the inbox and watches its timeline reach COMPLETED with no
reload; land registry goes down and the profile and the command centre say so; the auditor
finds the seizure's records. Each step asserts what is on the page and leaves a screenshot.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Page, expect

from gateway.clock import court_date
from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack

WAIT_MS = 30_000
DOCUMENT = "（2026）苏0311执4214号之一"


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    async for running in console_stack(tmp_path, cases):
        yield running


async def sign_in(page: Page, role: str, heading: str) -> None:
    if await page.get_by_role("button", name="退出").count():
        await page.get_by_role("button", name="退出").click()
    await page.locator(f'button[data-role="{role}"]').click()
    await expect(page.locator("h1")).to_have_text(heading, timeout=WAIT_MS)


async def test_officer_judge_outage_and_auditor_in_one_journey(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=WAIT_MS)
    case = stack.case
    debtor = case.debtor_ids[0]
    free = [p for p in stack.world.properties_of(debtor) if not p.seizures]
    assert free, "the journey's debtor has real estate no court has seized"
    page = await browser.context.new_page()
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))

    # 1. The officer signs in from the demo users and finds the case by its number.
    await page.goto(stack.console)
    await expect(page.locator("h1")).to_have_text("登录")
    await sign_in(page, "officer", "我的案件")
    await page.get_by_label("案号").fill(case.number)
    await page.get_by_role("button", name="查询").click()
    await page.get_by_role("link", name=case.number).click()
    await expect(page.locator("h1")).to_have_text(f"案件 {case.number}")
    await expect(page.locator("#headroom")).to_contain_text("尚可控制")

    # 2. The debtor's profile holds facts from each of the four agencies, number masked.
    await page.locator("table a").first.click()
    await expect(page.locator("h1")).to_contain_text("被执行人")
    main = page.locator("main")
    for agency in ("公安", "民政", "不动产登记", "市场监管"):
        await expect(main).to_contain_text(f"来源：{agency}")
    await expect(main).not_to_contain_text(debtor)  # the officer may not unmask
    await expect(main).to_contain_text(free[0].certificate_no)
    assert await page.locator(".agency-failed").count() == 0
    await stack.shot(page, "profile")

    # 3. A seizure: the legal term is checked while typing; then it is filed.
    await page.get_by_label("标的物").select_option(free[0].certificate_no)
    await page.get_by_label("文号").fill(DOCUMENT)
    # From the court's tomorrow: a run across the court's midnight stays in the future.
    since = court_date(datetime.now(UTC)) + timedelta(days=1)
    await page.get_by_label("起始日期").fill(since.isoformat())
    await page.get_by_label("截止日期").fill(_years_after(since, 4).isoformat())
    await expect(page.locator("#c-term")).to_contain_text("最长 3 年")
    await expect(page.get_by_role("button", name="提交审批")).to_be_disabled()
    await page.get_by_label("截止日期").fill(
        (_years_after(since, 3) - timedelta(days=1)).isoformat()
    )
    await expect(page.locator("#c-term")).to_have_text("期限合法。")
    await page.get_by_role("button", name="提交审批").click()
    await expect(page.locator("#c-result")).to_contain_text("待审批")

    # 4. The judge approves it from the inbox and watches it complete, with no reload.
    await sign_in(page, "judge", "待审批")
    row = page.locator("#inbox tr", has_text=free[0].certificate_no)
    await row.get_by_role("button", name="审查").click()
    panel = page.locator(".timeline-panel")
    await expect(panel.locator("[data-live]")).to_have_attribute("data-live", "yes")
    await stack.shot(page, "inbox")
    loads = len(navigations)
    await page.evaluate("window.stillTheSamePage = true")
    await page.get_by_role("button", name="批准", exact=True).click()
    await expect(panel).to_have_attribute("data-status", "COMPLETED")
    await expect(panel.locator('li[data-kind="COMPLETED"]')).to_have_count(1)
    assert await page.evaluate("window.stillTheSamePage === true")
    assert len(navigations) == loads
    assert int(await panel.get_attribute("data-live-events") or 0) >= 1
    assert await page.locator("#inbox tr", has_text=free[0].certificate_no).count() == 0

    # 5. Land registry goes down: a banner on the profile, a red row on the command centre.
    await stack.gw.set_faults("land_registry", {"outage": True})
    await page.go_back()  # back through the hash history: the inbox, then the debtor
    await sign_in(page, "officer", "我的案件")
    await page.get_by_label("案号").fill(case.number)
    await page.get_by_role("button", name="查询").click()
    await page.get_by_role("link", name=case.number).click()
    await page.locator("table a").first.click()
    banner = page.locator(".agency-failed")
    await expect(banner).to_have_count(1)
    await expect(banner).to_contain_text("不动产登记")
    code = await banner.get_attribute("data-code")
    assert code and re.fullmatch(r"[A-Z_]+", code)
    await expect(banner).to_contain_text(code)
    for agency in ("公安", "民政", "市场监管"):
        await expect(main).to_contain_text(f"来源：{agency}")
    await page.get_by_role("link", name="指挥中心").click()
    await expect(page.locator("h1")).to_have_text("指挥中心")
    await expect(page.locator('tr[data-agency="LAND_REGISTRY"]')).to_have_class("agency-bad")
    await expect(page.locator('tr[data-agency="PUBLIC_SECURITY"]')).to_have_class("agency-ok")
    await stack.shot(page, "command-centre")

    # 6. The auditor finds the seizure's records, with no debtor data on the page.
    await sign_in(page, "auditor", "审计日志")
    await page.get_by_label("案号").fill(case.number)
    await page.get_by_role("button", name="查询").click()
    audit = page.locator("#audit")
    await expect(audit.locator('tr[data-operation="FileControl"]')).to_have_count(1)
    await expect(audit.locator('tr[data-operation="Approve"]')).to_have_count(1)
    await expect(main).not_to_contain_text(debtor)
    await expect(page.locator("#verify-status")).to_have_attribute("data-ok", "yes")
    await expect(page.locator("#chains tbody tr")).to_have_count(1)
    await expect(page.locator("#verify")).to_contain_text("liandong audit verify --witness")
    await stack.shot(page, "auditor")

    assert browser.outside == []


def _years_after(day: date, years: int) -> date:
    # 29 February has no twin in most years: the day before stands in for it.
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)
