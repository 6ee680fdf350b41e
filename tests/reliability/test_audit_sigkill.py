"""SIGKILL the gateway under load: every request answered 200 is on the record afterwards.

The gateway runs as a real process (``python -m gateway.cli.main serve``) over the mocks of this
test process. Eight clients send look-ups, each with its own ``X-Request-Id``; once enough
have been answered the gateway is killed outright, mid-load. A second process then opens
the same log, serves a few more requests, and ``liandong audit verify`` must pass.
"""

from __future__ import annotations

import asyncio
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from gateway.audit.chain_files import chain_files, sqlite_path
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import audit_records
from tests.harness import free_port, open_stack

CLIENTS = 8
PER_CLIENT = 60  # at most 480 requests in all
KILL_AFTER = 80  # answered requests before the kill
DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"


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
    async with open_stack(
        tmp_path, cases, mocks=mocks, process=True, limits={"rate_per_minute": 1_000_000}
    ) as stack:
        gw = stack.process
        assert gw is not None and gw.proc is not None
        settings, config, token = stack.settings, gw.config, stack.token()
        proc, load = gw.proc, Load()

        async def killer() -> None:
            await load.enough.wait()
            proc.send_signal(signal.SIGKILL)
            load.killed.set()

        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            kill = asyncio.create_task(killer())
            await asyncio.gather(
                *(client(k, stack.url, token, cases, load, session) for k in range(CLIENTS))
            )
            await kill
        assert await proc.wait() == -signal.SIGKILL
        assert load.failed > 0, "the kill came after the load, not during it"
        assert len(load.answered) >= KILL_AFTER

        gw.port = free_port()  # the same config and log, on a new port
        await gw.start()
        async with aiohttp.ClientSession() as session:
            after = Load()
            await client(99, gw.url + "/graphql", token, cases[:3], after, session)
        assert len(after.answered) == PER_CLIENT
        await gw.stop()

    records = await audit_records(settings)
    # The writer's records are in its own file beside the main one (the default layout).
    main = sqlite_path(settings.audit.database_url)
    assert main is not None and len(chain_files(main)) == 1
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
