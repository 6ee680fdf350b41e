"""``agency_http_client`` picks what agency calls go through: the lean transport (the
default) or aiohttp; the environment overrides it, and a value it does not know is refused."""

from __future__ import annotations

import pytest

from connectors.http import AgencyClient
from gateway.settings import SettingsError, load_settings
from mocks.records import CaseRecord
from tests.harness import PROFILE, PROFILE_VARIABLES, StackFactory

ENV = "LIANDONG_AGENCY_HTTP_CLIENT"


@pytest.mark.parametrize("kind", ["lean", "aiohttp"])
async def test_a_profile_goes_through_the_client_the_setting_picks(
    make_stack: StackFactory,
    cases: list[CaseRecord],
    kind: AgencyClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(ENV, raising=False)
    gw = await make_stack(cases, services=True, agency_http_client=kind)
    status, body = await gw.post(PROFILE, PROFILE_VARIABLES)
    assert status == 200 and "errors" not in body, body.get("errors")
    http = gw.require_services().http
    sent = sum(agency.stats.requests for agency in http.agencies.values())
    assert sent >= 4  # one call at least to each of the four agencies
    if kind == "aiohttp":
        assert http.lean is None
        return
    assert http.lean is not None
    pools = http.lean.pools
    assert set(pools) == set(http.agencies)
    # Kept alive: no more connections than calls, and every one handed back to its pool.
    assert 4 <= sum(pool.opened for pool in pools.values()) <= sent
    assert sum(pool.idle for pool in pools.values()) == sum(p.opened for p in pools.values())


def test_the_environment_picks_the_client(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(ENV, raising=False)
    assert load_settings().agency_http_client == "lean"
    monkeypatch.setenv(ENV, "aiohttp")
    assert load_settings().agency_http_client == "aiohttp"
    monkeypatch.setenv(ENV, "requests")
    with pytest.raises(SettingsError) as refused:
        load_settings()
    assert refused.value.keys == ["agency_http_client"]
