"""A demo-like stack for the console's browser tests: the demo users, the case, screenshots."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from playwright.async_api import Page

from gateway.cli.demo import DEMO_JUDGE, DEMO_OFFICER, seed_cases
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.world import World
from tests.harness import Stack, open_stack

# Set to a folder (``make console-screenshots`` sets docs/screenshots) to keep the pictures.
SCREENSHOTS_ENV = "CONSOLE_SCREENSHOTS_DIR"


@dataclass
class ConsoleStack:
    """The gateway, the case of the journey and where its screenshots go."""

    gw: Stack
    world: World
    case: CaseRecord
    shots: Path

    @property
    def console(self) -> str:
        return self.gw.base_url + "/console"

    async def shot(self, page: Page, name: str) -> Path:
        """A full-page screenshot in the test's folder (and the kept folder, if set)."""
        path = self.shots / f"{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        kept = os.environ.get(SCREENSHOTS_ENV)
        if kept:
            await asyncio.to_thread(Path(kept).mkdir, parents=True, exist_ok=True)
            # The viewport only (1366x768): what a user sees first, at a README's size.
            await page.screenshot(path=str(Path(kept) / f"{name}.png"), full_page=False)
        return path


async def console_stack(
    tmp_path: Path,
    cases: list[CaseRecord],
    amount_due: Decimal | None = Decimal("5000000.00"),
    assistance: dict[str, Any] | None = None,
    console: dict[str, Any] | None = None,
) -> AsyncIterator[ConsoleStack]:
    """A fresh world and mocks (controls change the world), a gateway with the demo users of
    the first case's court, and its cases registered with the demo officer and judge.

    By default the first case owes more than its debtor's flat is worth, so that seizing
    the flat is no over-seizure; ``amount_due=None`` keeps the world's own figure.
    ``assistance`` adds to the lifecycle worker's settings, ``console`` to the console's.
    """
    case = cases[0] if amount_due is None else dataclasses.replace(cases[0], amount_due=amount_due)
    async with open_stack(
        tmp_path / "data",
        court=case.court,  # the cases are the demo's, registered below
        console={"demo_court": case.court, **(console or {})},
        # Every look-up reaches the agencies, so an outage shows at once, never a stale copy.
        cache={"enabled": False},
        assistance={"poll_interval_s": 0.1, "ticket_poll_s": 0.2, **(assistance or {})},
        watch={"scheduler_enabled": False},
    ) as gw:
        store = await Store.open(gw.settings.database_url)
        try:
            await seed_cases(store, [case, *cases[1:3]], [DEMO_OFFICER], [DEMO_JUDGE])
        finally:
            await store.close()
        shots = tmp_path / "screenshots"
        shots.mkdir()
        yield ConsoleStack(gw, gw.world, case, shots)
