"""SIGKILL the gateway under load: every request answered 200 is on the record afterwards.

The gateway runs as a real process (``python -m gateway.cli.main serve``) over the mocks of this
test process. Eight clients send look-ups, each with its own ``X-Request-Id``; once enough
have been answered the gateway is killed outright, mid-load. A second process then opens
the same log, serves a few more requests, and ``liandong audit verify`` must pass.
"""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gateway.auth import issue_token
from gateway.cli.demo import seed_cases
from gateway.settings import load_settings
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_support import audit_records
from tests.harness import JUDGE, OFFICER, SECRET
from tests.reliability.gateway_process import free_port, spawn_gateway

CLIENTS = 8
PER_CLIENT = 60  # at most 480 requests in all
KILL_AFTER = 80  # answered requests before the kill
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"


def write_config(data_dir: Path, mocks: RunningMocks) -> Path:
    lines = [
        f"data_dir = {json.dumps(str(data_dir))}",
        "[auth]",
        f"secret = {json.dumps(SECRET)}",
        "[limits]",
        "rate_per_minute = 1000000",
    ]
    for name, url in mocks.urls.items():
        lines += [f"[agencies.{name}]", f"base_url = {json.dumps(url)}"]
        if name == "public_security":
            lines += [
                f"[agencies.{name}.options]",
                'client_id = "court-test"',
                f"secret = {json.dumps(mocks.secret.decode())}",
            ]
    path = data_dir / "liandong.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


async def read(path: Path) -> str:
    return await asyncio.to_thread(path.read_text, errors="replace")


async def start(config: Path, port: int, log: Path) -> asyncio.subprocess.Process:
    proc = await spawn_gateway(config, port, log, cwd=config.parent)
    async with aiohttp.ClientSession() as session:
        for _ in range(600):  # bounded by attempts, not by a clock
            if proc.returncode is not None:
                raise AssertionError(f"gateway exited: {await read(log)}")
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    if resp.status == 200:
                        return proc
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    proc.kill()
    raise AssertionError(f"gateway never became healthy: {await read(log)}")


@dataclass
class Load:
    answered: list[str] = field(default_factory=list)  # request ids that got a 200
    failed: int = 0
    enough: asyncio.Event = field(default_factory=asyncio.Event)  # KILL_AFTER answered
    killed: asyncio.Event = field(default_factory=asyncio.Event)


async def client(
    k: int,
    url: str,
    token: str,
    cases: list[CaseRecord],
    load: Load,
    session: aiohttp.ClientSession,
) -> None:
    for n in range(PER_CLIENT):
        case = cases[(k + n) % len(cases)]
        rid = f"c{k}-{n}"
        try:
            async with session.post(
                url,
                json={"query": DEBTOR, "variables": {"id": case.debtor_ids[0], "c": case.number}},
                headers={"Authorization": f"Bearer {token}", "X-Request-Id": rid},
            ) as resp:
                await resp.read()
                if resp.status == 200:
                    load.answered.append(rid)
                    if len(load.answered) >= KILL_AFTER:
                        load.enough.set()
        except (aiohttp.ClientError, TimeoutError):
            load.failed += 1
            if load.killed.is_set():
                return


async def test_every_answered_request_survives_a_sigkill(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    config = write_config(tmp_path, mocks)
    settings = load_settings(config)
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    token = issue_token(
        SECRET.encode(),
        settings=settings.auth,
        subject=OFFICER,
        court=cases[0].court,
        roles=["officer"],
    )
    log = tmp_path / "gateway.log"
    port = free_port()
    proc = await start(config, port, log)
    load = Load()

    async def killer() -> None:
        await load.enough.wait()
        proc.send_signal(signal.SIGKILL)
        load.killed.set()

    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        url = f"http://127.0.0.1:{port}/graphql"
        kill = asyncio.create_task(killer())
        await asyncio.gather(*(client(k, url, token, cases, load, session) for k in range(CLIENTS)))
        await kill
    assert await proc.wait() == -signal.SIGKILL
    assert load.failed > 0, "the kill came after the load, not during it"
    assert len(load.answered) >= KILL_AFTER

    port = free_port()
    proc = await start(config, port, log)
    try:
        async with aiohttp.ClientSession() as session:
            after = Load()
            await client(99, f"http://127.0.0.1:{port}/graphql", token, cases[:3], after, session)
        assert len(after.answered) == PER_CLIENT
    finally:
        proc.send_signal(signal.SIGTERM)
        await proc.wait()

    records = await audit_records(settings)
    recorded = {r.client_request_id for r in records}  # the ids the clients sent
    missing = [rid for rid in load.answered + after.answered if rid not in recorded]
    assert not missing, f"{len(missing)} answered requests have no record: {missing[:5]}"
    assert len(records) >= len(load.answered) + len(after.answered)

    verify = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli.main",
        "audit",
        "verify",
        "--config",
        str(config),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await verify.communicate()
    assert verify.returncode == 0, err.decode()
    assert f"audit log OK: {len(records)} records checked" in out.decode()
