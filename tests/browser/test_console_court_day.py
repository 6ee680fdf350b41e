"""The console's "today" is the court's: a browser on UTC between 16:00 and 24:00 is a day
behind the court, and a control form that offered UTC's date would be refused as starting in
the past (START_NOT_IN_PAST)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import pytest
from playwright.async_api import expect

from gateway.clock import court_date
from mocks.records import CaseRecord
from tests.browser.conftest import Browser
from tests.browser.console_stack import ConsoleStack, console_stack


@pytest.fixture
async def stack(tmp_path: Path, cases: list[CaseRecord]) -> AsyncIterator[ConsoleStack]:
    async for running in console_stack(tmp_path, cases):
        yield running


async def test_the_control_form_starts_on_the_courts_day_not_utcs(
    browser: Browser, stack: ConsoleStack
) -> None:
    expect.set_options(timeout=30_000)
    # 17:30 UTC today (the browser's zone is UTC): the court is already on tomorrow.
    evening = datetime.combine(datetime.now(UTC).date(), time(17, 30), tzinfo=UTC)
    court_day = court_date(evening)
    assert court_day == evening.date() + timedelta(days=1)
    page = await browser.context.new_page()
    await page.clock.set_fixed_time(evening)
    assert await page.evaluate("Intl.DateTimeFormat().resolvedOptions().timeZone") in (
        "UTC",
        "Etc/UTC",
    )

    await page.goto(stack.console)
    await page.locator('button[data-role="officer"]').click()
    await page.get_by_role("link", name="案件").click()
    await page.get_by_role("link", name=stack.case.number).click()
    await page.locator("table a").first.click()
    await expect(page.locator("h1")).to_contain_text("被执行人")
    await expect(page.get_by_label("起始日期")).to_have_value(court_day.isoformat())
    assert browser.outside == []
