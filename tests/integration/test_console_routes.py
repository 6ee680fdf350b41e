"""``/console`` is on in the dev profile and a setting in prod; ``/`` leads to it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import gateway_settings, start_gateway, stop_gateway


@pytest.mark.parametrize(
    ("profile", "enabled", "served"),
    [("dev", None, True), ("prod", None, False), ("prod", True, True), ("dev", False, False)],
)
async def test_console_is_on_in_dev_and_a_setting_in_prod(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    profile: str,
    enabled: bool | None,
    served: bool,
) -> None:
    settings = gateway_settings(tmp_path, mocks, profile=profile, console={"enabled": enabled})
    gw = await start_gateway(settings, mocks, court=cases[0].court)
    try:
        base = gw.base_url
        async with gw.session.get(base + "/console") as page:
            assert page.status == (200 if served else 404)
            cache = page.headers.get("Cache-Control")
        async with gw.session.get(base + "/console/static/app.js") as module:
            assert module.status == (200 if served else 404)
            kind = module.headers.get("Content-Type", "")
        async with gw.session.get(base + "/", allow_redirects=False) as root:
            location = root.headers.get("Location")
            assert root.status == (307 if served else 404)
        if served:
            assert cache == "no-store"  # it may carry demo tokens
            assert "javascript" in kind
            assert location == "/console"
    finally:
        await stop_gateway(gw)
