"""``/metrics`` behind a token, or on an address of its own, for deployments where clients
can reach the gateway's port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import open_stack

TOKEN = "metrics-token-0123456789"


@pytest.mark.parametrize(
    ("authorization", "status"),
    [
        (None, 401),
        ("Bearer wrong-token-0123456789", 401),
        ("Basic " + TOKEN, 401),
        (f"Bearer {TOKEN}", 200),
    ],
)
async def test_metrics_can_require_a_token(
    tmp_path: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    authorization: str | None,
    status: int,
) -> None:
    async with open_stack(tmp_path, cases, mocks=mocks, metrics={"token": TOKEN}) as gw:
        headers = {} if authorization is None else {"Authorization": authorization}
        async with gw.session.get(gw.base_url + "/metrics", headers=headers) as resp:
            assert resp.status == status
            text = await resp.text()
        assert ("liandong_agency_requests_total" in text) is (status == 200)


async def test_metrics_can_listen_on_an_address_of_their_own(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path, cases, mocks=mocks, metrics={"listen": "127.0.0.1:0"}) as gw:
        async with gw.session.get(gw.base_url + "/metrics") as resp:
            assert resp.status == 404  # not on the gateway's port any more
        app: Any = gw.app
        url = app.state.metrics_url
        assert url and url != gw.base_url
        async with gw.session.get(url + "/metrics") as resp:
            assert resp.status == 200
            assert "liandong_agency_requests_total" in await resp.text()


def test_a_listen_address_is_checked() -> None:
    from gateway.settings import SettingsError, load_settings

    with pytest.raises((SettingsError, ValueError), match="host:port"):
        load_settings(metrics={"listen": "nowhere"})
