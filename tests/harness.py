"""A running gateway over running mock agencies, for integration tests.

Everything is real: the mocks are aiohttp servers and the gateway is uvicorn, each on a
127.0.0.1 ephemeral port; tests talk HTTP to them.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from gateway.auth import issue_token
from gateway.settings import Settings, load_settings
from gateway.store.cases import CaseIn, Store
from gateway.web.app import create_app
from gateway.web.server import RunningServer, start_server
from mocks.runner import RunningMocks

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROFILE = (EXAMPLES / "profile.graphql").read_text(encoding="utf-8")
PROFILE_VARIABLES: dict[str, str] = json.loads(
    (EXAMPLES / "profile.json").read_text(encoding="utf-8")
)

OFFICER = "officer-1"
JUDGE = "judge-1"
OUTSIDER = "officer-2"
SECRET = "test-secret-0123456789abcdef0123456789"


def gateway_settings(
    data_dir: Path, mocks: RunningMocks, *, database_url: str = "", **overrides: Any
) -> Settings:
    """Settings pointing at ``mocks``, with a fixed JWT secret and a fresh data dir."""
    agencies: dict[str, dict[str, Any]] = {
        name: {"base_url": url} for name, url in mocks.urls.items()
    }
    agencies["public_security"]["options"] = {
        "client_id": "court-test",
        "secret": mocks.secret.decode(),
    }
    for name, extra in overrides.pop("agencies", {}).items():
        agencies[name].update(extra)
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        auth={"secret": SECRET},
        agencies=agencies,
        **overrides,
    )


@dataclass
class Gateway:
    """A started gateway and the means to query it."""

    settings: Settings
    server: RunningServer
    mocks: RunningMocks
    court: str
    session: aiohttp.ClientSession = field(repr=False)

    @property
    def url(self) -> str:
        return self.server.url + "/graphql"

    def token(
        self,
        officer: str = OFFICER,
        roles: Sequence[str] = ("officer",),
        scopes: Sequence[str] = (),
        court: str | None = None,
    ) -> str:
        return issue_token(
            SECRET.encode(),
            settings=self.settings.auth,
            subject=officer,
            court=court or self.court,
            roles=list(roles),
            scopes=list(scopes),
        )

    async def post(
        self,
        query: str,
        variables: Mapping[str, Any] | None = None,
        *,
        token: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, Any]]:
        """POST a GraphQL operation; returns the status and the JSON body."""
        hdrs = {"Authorization": f"Bearer {token if token is not None else self.token()}"}
        hdrs.update(headers or {})
        async with self.session.post(
            self.url, json={"query": query, "variables": dict(variables or {})}, headers=hdrs
        ) as resp:
            body: dict[str, Any] = await resp.json(content_type=None)
            return resp.status, body

    async def stats(self, agency: str) -> dict[str, Any]:
        """The mock agency's own counters, read over HTTP."""
        async with self.session.get(self.mocks.urls[agency] + "/_stats") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def reset_stats(self) -> None:
        for url in self.mocks.urls.values():
            async with self.session.post(url + "/_stats/reset") as resp:
                assert resp.status == 200

    async def set_faults(self, agency: str, faults: Mapping[str, Any]) -> None:
        async with self.session.post(self.mocks.urls[agency] + "/_faults", json=faults) as resp:
            assert resp.status == 200, await resp.text()

    async def add_case(self, case: CaseIn) -> None:
        """Register a case in the gateway's store, as a court system would."""
        store = await Store.open(self.settings.database_url)
        try:
            await store.upsert_case(case)
        finally:
            await store.close()

    async def total_requests(self) -> int:
        total = 0
        for agency in self.mocks.urls:
            total += sum((await self.stats(agency))["requests"].values())
        return total


async def start_gateway(settings: Settings, mocks: RunningMocks, court: str) -> Gateway:
    server = await start_server(create_app(settings))
    session = aiohttp.ClientSession()
    return Gateway(settings=settings, server=server, mocks=mocks, court=court, session=session)


async def stop_gateway(gw: Gateway) -> None:
    await gw.session.close()
    await gw.server.stop()
