"""Killing the gateway between APPROVED and COMPLETED: the restarted one finishes, once.

The gateway runs as a real process (``liandong serve``) over SQLite; it is killed with
SIGKILL while the land registry holds its seizure order, then started again on the same
database. The registry carried the order out exactly once: the restarted worker resends
it with the same idempotency key and is given the first order's ticket.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.auth import issue_token
from gateway.cli.demo import seed_cases
from gateway.settings import load_settings
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.harness import JUDGE, OFFICER, SECRET
from tests.integration.assistance_helpers import (
    APPROVE,
    NO_OTHER_PROPERTY,
    REQUEST,
    REQUEST_STATE,
)

LR_CONTROLS = "POST /lr/controls"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def write_config(path: Path, data_dir: Path, mocks: RunningMocks) -> Path:
    lines = [
        f'data_dir = "{data_dir}"',
        "[auth]",
        f'secret = "{SECRET}"',
        "[assistance]",
        "poll_interval_s = 0.1",
        "ticket_poll_s = 0.1",
        "retry_base_s = 0.1",
        "retry_max_s = 0.5",
        "lease_s = 1.0",
    ]
    for name, url in mocks.urls.items():
        lines += [f"[agencies.{name}]", f'base_url = "{url}"', "max_retries = 0"]
        if name == "public_security":
            lines += [
                f"[agencies.{name}.options]",
                'client_id = "court-test"',
                f'secret = "{mocks.secret.decode()}"',
            ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


class GatewayProcess:
    def __init__(self, config: Path, port: int) -> None:
        self.config = config
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, session: aiohttp.ClientSession) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli.main",
            "serve",
            "--config",
            str(self.config),
            "--port",
            str(self.port),
            env={k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")},
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(600):
            if self.proc.returncode is not None:
                pytest.fail(f"gateway exited with {self.proc.returncode}")
            try:
                async with session.get(self.url + "/healthz") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.05)
        pytest.fail("gateway did not start")

    async def kill(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGKILL)
            await self.proc.wait()

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                await self.kill()


@pytest.fixture
async def fresh_mocks() -> AsyncIterator[RunningMocks]:
    running = await start_mocks(World(seed=7, people=1000))
    try:
        yield running
    finally:
        await running.aclose()


async def _gql(
    session: aiohttp.ClientSession, url: str, token: str, query: str, variables: dict[str, Any]
) -> dict[str, Any]:
    async with session.post(
        url + "/graphql",
        json={"query": query, "variables": variables},
        headers={"Authorization": f"Bearer {token}"},
    ) as resp:
        body: dict[str, Any] = await resp.json(content_type=None)
        assert resp.status == 200 and "errors" not in body, body
        return body


async def _stats(session: aiohttp.ClientSession, mocks: RunningMocks) -> dict[str, Any]:
    async with session.get(mocks.urls["land_registry"] + "/_stats") as resp:
        data: dict[str, Any] = await resp.json()
        return data


async def test_killed_between_approved_and_completed_finishes_once(
    tmp_path: Path, fresh_mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    mocks = fresh_mocks
    config = write_config(tmp_path / "liandong.toml", tmp_path / "data", mocks)
    settings = load_settings(config)
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()

    def token(officer: str, role: str) -> str:
        return issue_token(
            SECRET.encode(),
            settings=settings.auth,
            subject=officer,
            court=cases[0].court,
            roles=[role],
        )

    number, debtor = cases[0].number, cases[0].debtor_ids[0]
    world = mocks.world
    cert = next(p.certificate_no for p in world.properties_of(debtor) if not p.seizures)
    gateway = GatewayProcess(config, free_port())
    async with aiohttp.ClientSession() as session:
        try:
            await gateway.start(session)
            body = await _gql(
                session,
                gateway.url,
                # Another judge of the court asks, so that the case's judge may approve.
                token("judge-2", "judge"),
                REQUEST,
                {
                    "input": {
                        "caseNumber": number,
                        "debtorId": debtor,
                        "action": "SEIZE_REAL_ESTATE",
                        "target": cert,
                        "documentNumber": "DOC-RESTART-1",
                        "overrideReason": NO_OTHER_PROPERTY,
                    }
                },
            )
            rid = body["data"]["requestAssistance"]["request"]["id"]
            async with session.post(
                mocks.urls["land_registry"] + "/_faults", json={"hang": True}
            ) as r:
                assert r.status == 200
            await _gql(session, gateway.url, token(JUDGE, "judge"), APPROVE, {"id": rid})
            for _ in range(600):  # the registry now holds the gateway's order
                if (await _stats(session, mocks))["in_flight"] == 1:
                    break
                await asyncio.sleep(0.05)
            else:
                pytest.fail("the order never reached the land registry")
            await gateway.kill()
            # The registry goes on with the order its client died waiting for.
            async with session.delete(mocks.urls["land_registry"] + "/_faults") as r:
                assert r.status == 200
            for _ in range(200):
                if (await _stats(session, mocks))["in_flight"] == 0:
                    break
                await asyncio.sleep(0.05)
            await gateway.start(session)
            for _ in range(600):
                state = (
                    await _gql(
                        session, gateway.url, token(OFFICER, "officer"), REQUEST_STATE, {"id": rid}
                    )
                )["data"]["assistanceRequest"]
                if state["status"] not in {"APPROVED", "SUBMITTED"}:
                    break
                await asyncio.sleep(0.05)
            assert state["status"] == "COMPLETED", state
            stats = await _stats(session, mocks)
            assert stats["executions"] == {"SEIZE_REAL_ESTATE": 1}
            assert stats["requests"][LR_CONTROLS] == 2  # the first order and its resend
            assert [e["kind"] for e in state["events"]].count("SUBMITTED") == 1
        finally:
            await gateway.stop()
