"""liandong behind a real federation router, beside a court's case-management subgraph.

The stack: mock agencies, a federation-enabled gateway with two cases that share a debtor,
the case-management subgraph (``tests/federation/casework.mjs``) that knows the same cases
by debtor handle, and a router (``tests/federation/router.mjs``: Hive Gateway, or Apollo
Gateway over the composed supergraph or composing by itself), all on 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import aiohttp

from gateway.auth import issue_token
from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World
from schema import SchemaOptions, build_schema
from schema.federation import subgraph_sdl
from tests.harness import OFFICER, SECRET, Gateway, gateway_settings, start_gateway, stop_gateway
from tests.servers.node import NodeServer, compose, start_node

__all__ = ["ASKED", "COURT", "EARLIER", "ROUTERS", "Stack", "router_stack"]

ROUTERS = ("hive", "apollo", "apollo-introspect")
COURT = "江苏省苏州市吴中区人民法院"
ASKED = "（2024）苏0508执8157号"
# Lower-numbered, and sharing the first debtor: a planner that dropped the case would have
# made this one the basis of the look-up.
EARLIER = "（2023）苏0508执2356号"
NINE = 9
HANDLES = "query($n: String!) { case(number: $n) { debtors { maskedId handle } } }"


@dataclass
class Stack:
    """The running stack; ``handles`` maps each case's debtor ids to their handles."""

    gateway: Gateway
    casework: NodeServer
    router: NodeServer
    handles: dict[str, dict[str, str]]
    session: aiohttp.ClientSession

    def token(self, officer: str = OFFICER, scopes: tuple[str, ...] = ()) -> str:
        return self.gateway.token(officer, scopes=scopes)

    async def ask(
        self, query: str, variables: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any]]:
        """POST through the router, as a client would."""
        headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
        async with self.session.post(
            self.router.url + "/graphql",
            json={"query": query, "variables": variables},
            headers=headers,
        ) as resp:
            body: dict[str, Any] = await resp.json(content_type=None)
            return resp.status, body


async def _handles(gw: Gateway, number: str) -> dict[str, str]:
    status, body = await gw.post(HANDLES, {"n": number}, token=gw.token(scopes=["unmask"]))
    assert status == 200 and "errors" not in body, body
    return {d["maskedId"]: d["handle"] for d in body["data"]["case"]["debtors"]}


async def _sdl(session: aiohttp.ClientSession, url: str) -> str:
    async with session.post(url, json={"query": "{ _service { sdl } }"}) as resp:
        body = await resp.json()
    sdl: str = body["data"]["_service"]["sdl"]
    return sdl


@asynccontextmanager
async def router_stack(
    router: str, tmp_path: Path, mocks: RunningMocks, world: World
) -> AsyncIterator[Stack]:
    """Start everything for ``router``; stop it all afterwards."""
    settings = gateway_settings(tmp_path / "gw", mocks, federation=True)
    gw = await start_gateway(settings, mocks, court=COURT)
    session = aiohttp.ClientSession()
    started: list[NodeServer] = []
    try:
        people = list(world.person_ids())
        parties = {ASKED: people[:NINE], EARLIER: [people[0], people[NINE]]}
        for number, ids in parties.items():
            await gw.add_case(
                CaseIn(
                    number=number,
                    court=COURT,
                    applicant="某农村商业银行",
                    amount_due=Decimal("1200000.00"),
                    debtor_ids=[debtor_id(i) for i in ids],
                    officers=[OFFICER],
                )
            )
        handles = {number: await _handles(gw, number) for number in parties}
        docket = {
            "cases": [
                {
                    "number": number,
                    "court": COURT,
                    "judge": "王法官",
                    "judgeNotes": f"notes on {number}",
                    "parties": [
                        {"handle": handles[number][i], "hearingDates": [f"2025-0{n % 9 + 1}-15"]}
                        for n, i in enumerate(ids)
                    ],
                }
                for number, ids in parties.items()
            ]
        }
        data = tmp_path / "docket.json"
        data.write_text(json.dumps(docket, ensure_ascii=False), encoding="utf-8")
        casework = await start_node("casework.mjs", str(data), log=tmp_path / "casework.log")
        started.append(casework)
        subgraphs = {"liandong": gw.url, "casework": casework.url + "/graphql"}
        if router == "apollo-introspect":
            source = tmp_path / "subgraphs.json"
            listed = [{"name": n, "url": u} for n, u in subgraphs.items()]
            source.write_text(json.dumps(listed), encoding="utf-8")
        else:
            sdl = subgraph_sdl(build_schema(SchemaOptions(federation=True)))
            casework_sdl = await _sdl(session, subgraphs["casework"])
            composed = compose([("liandong", sdl), ("casework", casework_sdl)], subgraphs)
            assert "errors" not in composed, composed["errors"]
            source = tmp_path / "supergraph.graphql"
            source.write_text(composed["supergraphSdl"], encoding="utf-8")
        # The router's own calls (loading the subgraphs' SDL): a token with no role and no
        # scope, which authenticates and sees no data.
        service = issue_token(
            SECRET.encode(),
            settings=settings.auth,
            subject="router",
            court=COURT,
            roles=[],
            scopes=[],
        )
        proxy = await start_node(
            "router.mjs",
            router,
            str(source),
            log=tmp_path / "router.log",
            env={"SERVICE_TOKEN": service},
        )
        started.append(proxy)
        yield Stack(gw, casework, proxy, handles, session)
    finally:
        for server in reversed(started):
            await server.stop()
        await session.close()
        await stop_gateway(gw)
