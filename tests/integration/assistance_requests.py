"""Assistance requests driven over GraphQL, on a stack whose lifecycle worker is fast.

Control actions change the mocks' world, so every test here gets its own world and mocks
(:func:`assistance_gateway`, a preset of ``tests.harness.open_stack``). The stack's
``Services`` are built by the harness (not in the app's lifespan) so that tests can reach
the worker, the clock and the store.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gateway.clock import Clock
from gateway.web.services import Services
from mocks.land_registry import LandRegistrySettings
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import JUDGE, Stack, open_stack, wait_for

FAST_WORKER = {
    "poll_interval_s": 0.05,
    "ticket_poll_s": 0.05,
    "retry_base_s": 0.05,
    "retry_max_s": 0.2,
    "lease_s": 5.0,
    "max_attempts": 50,
}
OTHER_JUDGE = "judge-2"  # a judge of the same court, not assigned to the cases
BUREAU_HEAD = "head-1"  # the court's enforcement bureau head (执行局长)
# A judge's written finding that lets an indivisible asset worth clearly more than what is
# owed be taken whole (查扣冻规定 art. 19): the world's flats are worth millions.
NO_OTHER_PROPERTY = "被执行人无其他可供执行的财产，该房产为不可分物"

REQUEST = """mutation($input: AssistanceRequestInput!) {
  requestAssistance(input: $input) { replayed request { id status agency action target
    targetValue amount idempotencyKey } } }"""
APPROVE = """mutation($id: ID!, $reason: String) {
  approveAssistance(id: $id, overrideReason: $reason) { id status approvedBy } }"""
REQUEST_STATE = """query($id: ID!) { assistanceRequest(id: $id) { id status queuePosition reply
  reference attempts overdue events { seq kind status actor note } } }"""


@dataclass
class AssistanceGateway:
    """A stack with its services, and the assistance operations a test drives it by."""

    gw: Stack

    @property
    def services(self) -> Services:
        assert self.gw.services is not None, "the stack was opened without services=True"
        return self.gw.services

    @property
    def world(self) -> World:
        return self.gw.world

    @property
    def mocks(self) -> RunningMocks:
        return self.gw.mocks

    def judge(self, officer: str = JUDGE) -> str:
        return self.gw.token(officer=officer, roles=["judge"])

    def head(self) -> str:
        """The bureau head: approves controls of any case of the court."""
        return self.gw.token(officer=BUREAU_HEAD, roles=["judge", "bureau_head"])

    async def request(
        self, variables: dict[str, Any], token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        return await self.gw.post(REQUEST, {"input": variables}, token=token)

    async def request_ok(self, variables: dict[str, Any], token: str | None = None) -> str:
        status, body = await self.request(variables, token)
        assert status == 200 and "errors" not in body, body
        rid: str = body["data"]["requestAssistance"]["request"]["id"]
        return rid

    async def request_whole(self, variables: dict[str, Any]) -> str:
        """Request taking an indivisible asset whole, as the bureau head, in writing.

        The bureau head and not the case's judge, so that the case's judge may approve it
        (four eyes).
        """
        return await self.request_ok(
            {**variables, "overrideReason": NO_OTHER_PROPERTY}, self.head()
        )

    async def approve(
        self, rid: str, reason: str | None = None, token: str | None = None
    ) -> dict[str, Any]:
        """Approve as ``token`` (default: the case's judge)."""
        status, body = await self.gw.post(
            APPROVE, {"id": rid, "reason": reason}, token=token or self.judge()
        )
        assert status == 200, body
        return body

    async def state(self, rid: str) -> dict[str, Any]:
        status, body = await self.gw.post(REQUEST_STATE, {"id": rid})
        assert status == 200 and "errors" not in body, body
        state: dict[str, Any] = body["data"]["assistanceRequest"]
        return state

    async def executions(self, agency: str) -> dict[str, int]:
        found: dict[str, int] = (await self.gw.stats(agency))["executions"]
        return found

    async def route_count(self, agency: str, route: str) -> int:
        return int((await self.gw.stats(agency))["requests"].get(route, 0))

    async def carry_out(self, variables: dict[str, Any], token: str | None = None) -> str:
        """File a control, approve it as the case's judge and wait until it is COMPLETED."""
        rid = await self.request_ok(variables, token)
        approved = await self.approve(rid)
        assert "errors" not in approved, approved
        await self.settle(rid, {"COMPLETED"})
        return rid

    async def settle(self, rid: str, statuses: set[str]) -> dict[str, Any]:
        """Wait (bounded by attempts, not timed) until the request reaches one of ``statuses``."""
        state: dict[str, Any] = await wait_for(
            lambda: self.state(rid), lambda s: s["status"] in statuses
        )
        return state


@asynccontextmanager
async def assistance_gateway(
    tmp_path: Path,
    cases: list[CaseRecord],
    *,
    clock: Clock | None = None,
    pending_polls: int = 1,
    **assistance: Any,
) -> AsyncIterator[AssistanceGateway]:
    """Fresh world and mocks, a gateway whose worker scans every 50 ms; all stopped after."""
    async with open_stack(
        tmp_path,
        cases,
        mock_options={"land_registry_settings": LandRegistrySettings(pending_polls=pending_polls)},
        services=True,
        clock=clock,
        assistance={**FAST_WORKER, **assistance},
        agencies={
            name: {"max_retries": 1, "breaker_threshold": 1000}
            for name in ("public_security", "land_registry", "market_regulation")
        },
    ) as gw:
        yield AssistanceGateway(gw)
