"""A serving gateway collects young objects seldom enough that look-ups in flight die young.

Counts, not timings: the collector's own statistics. With CPython's default thresholds a
few dozen cold look-ups promote their objects through the middle generation many times
(``gateway/web/collector.py`` has the measurements).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from gateway.web.app import create_app
from gateway.web.collector import SERVING_THRESHOLDS
from gateway.web.server import start_server
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import PROFILE, Stack, gateway_settings, seed

LOOKUPS = 40


@pytest.fixture
def restored_collector() -> Iterator[None]:
    # The collector is the test process's own: leave it as the rest of the suite found it.
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("restored_collector")
async def test_a_serving_app_collects_the_middle_generation_seldom(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    settings = gateway_settings(tmp_path, mocks, cache={"enabled": False})
    await seed(settings, cases)
    server = await start_server(create_app(settings, freeze_gc=True))
    try:
        async with aiohttp.ClientSession() as session:
            gw = Stack(settings, server.url, mocks, cases[0].court, session, server=server)
            assert gc.get_threshold() == SERVING_THRESHOLDS
            assert gc.get_freeze_count() > 0  # start-up objects are out of the collector's way
            asked = [(d, case.number) for case in cases for d in case.debtor_ids][:LOOKUPS]
            middle = gc.get_stats()[1]["collections"]
            requests_before = await gw.total_requests()
            for debtor, case in asked:
                status, body = await gw.post(PROFILE, {"id": debtor, "caseNumber": case})
                assert status == 200 and "errors" not in body, body.get("errors")
            assert await gw.total_requests() > requests_before + LOOKUPS  # every look-up cold
            # 40 cold look-ups make some 10^5 container objects; with (700, 10) the middle
            # generation is collected every 7,000 of them, with the serving thresholds
            # every 400,000.
            assert gc.get_stats()[1]["collections"] - middle <= 1
    finally:
        await server.stop()
