"""``liandong serve --workers 2``: connections spread over the workers; a dead one is replaced."""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import signal
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from gateway.audit.chain_files import chain_file, chain_files
from gateway.audit.store import open_audit_engine
from gateway.audit.verify import read_heads
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import GatewayProcess, open_stack, write_config

CONNECTIONS = 32


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        kids += [int(p) for p in (task / "children").read_text().split()]
    return kids


def workers_of(pid: int) -> list[int]:
    """The serving workers: children started by multiprocessing's spawn."""
    found = []
    for kid in _children(pid):
        with contextlib.suppress(OSError):
            if b"spawn_main" in Path(f"/proc/{kid}/cmdline").read_bytes():
                found.append(kid)
    return sorted(found)


def established_by_pid(port: int, pids: list[int]) -> collections.Counter[int]:
    """How many ESTABLISHED connections to ``port`` each of ``pids`` holds."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local_port = int(fields[1].split(":")[1], 16)
        if local_port == port and fields[3] == "01":  # 01: ESTABLISHED
            inodes.add(fields[9])
    counts: collections.Counter[int] = collections.Counter()
    for pid in pids:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            with contextlib.suppress(OSError):
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    counts[pid] += 1
    return counts


@contextlib.asynccontextmanager
async def serving(
    tmp_path: Path, world: World
) -> AsyncIterator[tuple[asyncio.subprocess.Process, int]]:
    async with open_stack(tmp_path, world=world, process=True, workers=2) as stack:
        gw = stack.process
        assert gw is not None and gw.proc is not None
        await wait_ready(gw.port, gw.proc)
        yield gw.proc, gw.port


async def wait_ready(port: int, proc: asyncio.subprocess.Process, workers: int = 2) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(600):  # bounded by attempts, 0.1 s apart
            assert proc.returncode is None, "the supervisor exited during start-up"
            if len(workers_of(proc.pid)) == workers:
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"http://127.0.0.1:{port}/readyz") as resp:
                        if resp.status == 200:
                            return
            await asyncio.sleep(0.1)
    raise AssertionError("the gateway's workers never became ready")


async def wait_every_worker_serving(port: int, proc: asyncio.subprocess.Process) -> None:
    """Until each worker has answered: ``/readyz`` may be any one of them (a worker that
    has not finished starting has not yet opened its audit chain)."""
    for _ in range(100):  # bounded by attempts
        workers = workers_of(proc.pid)
        session, statuses = await hold_connections(port, 16)
        try:
            counts = established_by_pid(port, workers)
        finally:
            await session.close()
        if statuses == [200] * 16 and all(counts[w] > 0 for w in workers):
            return
        await asyncio.sleep(0.1)
    raise AssertionError("a worker never answered")


async def hold_connections(port: int, count: int) -> tuple[aiohttp.ClientSession, list[int]]:
    """``count`` keep-alive connections opened together, each having made one request."""
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=count))
    statuses: list[int] = []
    release = asyncio.Event()
    answered = 0

    async def one() -> None:
        nonlocal answered
        async with session.get(f"http://127.0.0.1:{port}/readyz") as resp:
            statuses.append(resp.status)
            await resp.read()
            answered += 1
            if answered == count:
                release.set()
            await release.wait()  # every connection stays checked out until all are open

    await asyncio.gather(*(one() for _ in range(count)))
    return session, statuses


async def test_connections_spread_over_the_workers(tmp_path: Path, world: World) -> None:
    async with serving(tmp_path, world) as (proc, port):
        workers = workers_of(proc.pid)
        assert len(workers) == 2
        for _ in range(3):
            session, statuses = await hold_connections(port, CONNECTIONS)
            try:
                assert statuses == [200] * CONNECTIONS  # the port holder takes none of them
                counts = established_by_pid(port, workers)
            finally:
                await session.close()
            assert sum(counts.values()) == CONNECTIONS
            # Shared-socket accept gave 32/0 and 30/2; hashing over two sockets gives
            # fewer than 4 of 32 to one worker with probability ~3e-6.
            assert min(counts[w] for w in workers) >= 4, counts


async def test_a_killed_worker_is_replaced_and_sigterm_stops_all(
    tmp_path: Path, world: World
) -> None:
    async with serving(tmp_path, world) as (proc, port):
        await wait_every_worker_serving(port, proc)  # both chains exist before one is cut
        first = workers_of(proc.pid)
        os.kill(first[0], signal.SIGKILL)
        for _ in range(300):
            now = workers_of(proc.pid)
            if len(now) == 2 and first[0] not in now:
                break
            await asyncio.sleep(0.1)
        assert first[1] in now and first[0] not in now and len(now) == 2
        await wait_ready(port, proc)
        await wait_every_worker_serving(port, proc)
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 60) == 0
        assert all(_gone(pid) for pid in now)  # the workers went with it
    # One audit chain per worker, named by its index; the replacement took over its chain.
    base = (tmp_path / "audit-chain-id").read_text().strip()
    chains = [f"{base}-0", f"{base}-1"]
    assert await _chains(tmp_path / "audit.db") == chains
    # Each worker wrote a file of its own, holding its own chain only.
    main = tmp_path / "audit.db"
    assert chain_files(main) == [chain_file(main, chain) for chain in chains]
    for chain in chains:
        with sqlite3.connect(chain_file(main, chain)) as db:
            held = db.execute("SELECT DISTINCT chain FROM audit_chains").fetchall()
        assert held == [(chain,)]


async def _chains(path: Path) -> list[str]:
    engine = open_audit_engine(f"sqlite+aiosqlite:///{path}")
    try:
        return sorted(await read_heads(engine))
    finally:
        await engine.dispose()


def _gone(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "zombie" in status.lower()


async def test_a_worker_that_cannot_start_stops_the_supervisor(
    tmp_path: Path, mocks: RunningMocks
) -> None:
    # The store's directory is a file: settings load, but every worker's start-up fails.
    (tmp_path / "blocked").write_text("")
    config = write_config(tmp_path / "blocked" / "data", mocks, {}, path=tmp_path / "liandong.toml")
    proc = await GatewayProcess(config, workers=2).spawn()
    assert await asyncio.wait_for(proc.wait(), 120) == 1
