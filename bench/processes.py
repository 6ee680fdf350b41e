"""Start and stop the processes under test, on free 127.0.0.1 ports, and look inside them.

Every server the bench measures is a real process: the mock agencies (``bench.mockserver``),
the gateway (``liandong serve`` under uvicorn) and the plain starlette app (``bench.plain``
under the same uvicorn). ``Proc`` owns one of them: it starts it in its own process group,
waits until it answers, reads its workers' resident memory and CPU time from ``/proc``, and
stops it (SIGINT, then SIGKILL) whatever happened.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

__all__ = [
    "REPO",
    "CpuSample",
    "Proc",
    "bench_env",
    "free_port",
    "spawn",
    "start_gateway",
    "start_mocks",
    "start_plain",
]

REPO = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
_CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    """A port the kernel just handed out on 127.0.0.1 (free unless someone races for it)."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def bench_env(extra: Mapping[str, str] | None = None, *, repo: Path = REPO) -> dict[str, str]:
    """The environment for a child: ours without ``LIANDONG_*`` (the config file decides),
    importing from ``repo`` (another checkout for the A side of an A/B) first."""
    env = {k: v for k, v in os.environ.items() if not k.upper().startswith("LIANDONG_")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(repo), env.get("PYTHONPATH")]))
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


@dataclass(frozen=True, slots=True)
class CpuSample:
    """CPU seconds (user + system) of a set of processes at one moment."""

    at: float
    cpu_s: float
    loop_cpu_s: float = 0.0  # of their main threads alone (the event loops)

    def per_second(self, later: CpuSample) -> float:
        """Cores busy on average between this sample and ``later``."""
        return (later.cpu_s - self.cpu_s) / max(1e-9, later.at - self.at)

    def loop_per_second(self, later: CpuSample) -> float:
        """Cores the main threads kept busy between this sample and ``later``."""
        return (later.loop_cpu_s - self.loop_cpu_s) / max(1e-9, later.at - self.at)


@dataclass
class Proc:
    """One started server process (and its uvicorn workers, if it has any)."""

    name: str
    process: asyncio.subprocess.Process
    url: str = ""
    lines: list[str] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def workers(self) -> list[int]:
        """The uvicorn worker pids, or the process itself when it serves alone."""
        kids = [pid for pid in _children(self.pid) if b"spawn_main" in _cmdline(pid)]
        return kids or [self.pid]

    def rss_bytes(self) -> list[int]:
        """Resident memory of each worker (``VmRSS``), in bytes."""
        return [_rss(pid) for pid in self.workers()]

    def cpu(self) -> CpuSample:
        """CPU time used so far by the workers (the supervisor only sleeps)."""
        workers = self.workers()
        return CpuSample(
            time.perf_counter(),
            sum(_cpu_s(f"/proc/{pid}/stat") for pid in workers),
            sum(_cpu_s(f"/proc/{pid}/task/{pid}/stat") for pid in workers),
        )

    async def wait_http(self, path: str, *, timeout_s: float = 60.0, passes: int = 1) -> None:
        """Wait until ``GET url+path`` answers 200 on ``passes`` fresh connections in a row."""
        deadline = time.monotonic() + timeout_s
        ok = 0
        while ok < passes:
            if self.process.returncode is not None:
                raise RuntimeError(
                    f"{self.name} exited ({self.process.returncode}) during start-up"
                )
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} did not answer {path} within {timeout_s} s")
            try:
                async with (
                    aiohttp.ClientSession() as session,
                    session.get(self.url + path, timeout=aiohttp.ClientTimeout(total=2)) as resp,
                ):
                    ok = ok + 1 if resp.status == 200 else 0
            except (aiohttp.ClientError, TimeoutError):
                ok = 0
            if ok < passes:
                await asyncio.sleep(0.05 if ok else 0.2)

    async def stop(self) -> None:
        """SIGINT the process group, then SIGKILL it if it lingers."""
        if self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.pid, signal.SIGINT)
            try:
                async with asyncio.timeout(15):
                    await self.process.wait()
            except TimeoutError:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(self.pid, signal.SIGKILL)
                await self.process.wait()


async def spawn(
    name: str, argv: Sequence[str], env: Mapping[str, str], *, cwd: Path = REPO
) -> Proc:
    """Start ``argv`` in its own process group, its output kept (the tail) for errors."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=dict(env),
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        # Its own group: stop() signals the uvicorn supervisor and its workers together.
        start_new_session=True,
    )
    proc = Proc(name, process)
    asyncio.get_running_loop().create_task(_drain(proc))
    return proc


async def _drain(proc: Proc) -> None:
    # Keep reading, or a chatty child would block on a full pipe; keep the tail for errors.
    stream = proc.process.stdout
    assert stream is not None
    while line := await stream.readline():
        proc.lines.append(line.decode(errors="replace").rstrip())
        del proc.lines[:-200]


async def start_mocks(
    name: str, *, people: int, seed: int, ca_rate: float, ca_burst: int
) -> tuple[Proc, dict[str, str]]:
    """The four mock agencies in one process; returns it and the agencies' base URLs."""
    argv = [sys.executable, "-m", "bench.mockserver", "--people", str(people), "--seed", str(seed)]
    argv += ["--ca-rate", str(ca_rate), "--ca-burst", str(ca_burst)]
    proc = await spawn(name, argv, bench_env())
    urls: dict[str, str] = {}
    async with asyncio.timeout(120):
        while True:
            if proc.process.returncode is not None:
                raise RuntimeError(f"{name} failed: " + "\n".join(proc.lines[-20:]))
            for line in proc.lines:
                parts = line.split()
                if len(parts) == 2 and parts[1].startswith("http://"):
                    urls[parts[0]] = parts[1]
            if "ready" in proc.lines:
                break
            await asyncio.sleep(0.05)
    proc.url = next(iter(urls.values()))
    return proc, urls


async def start_gateway(name: str, config: Path, *, workers: int, repo: Path = REPO) -> Proc:
    """``liandong serve`` with ``config`` on a free port, once it answers ``/readyz``; its
    code from ``repo`` (this checkout unless told)."""
    port = free_port()
    argv = [sys.executable, "-m", "gateway.cli.main", "serve", "--config", str(config)]
    argv += ["--workers", str(workers), "--host", HOST, "--port", str(port)]
    proc = await spawn(name, argv, bench_env(repo=repo), cwd=repo)
    proc.url = f"http://{HOST}:{port}"
    await _ready(proc, workers)
    return proc


async def start_plain(name: str, bodies: Path, *, workers: int) -> Proc:
    """The plain starlette app under the same uvicorn and supervisor, serving ``bodies``."""
    port = free_port()
    argv = [sys.executable, "-m", "bench.plain", "--workers", str(workers)]
    argv += ["--host", HOST, "--port", str(port)]
    proc = await spawn(name, argv, bench_env({"BENCH_PLAIN_BODIES": str(bodies)}))
    proc.url = f"http://{HOST}:{port}"
    await _ready(proc, workers)
    return proc


async def _ready(proc: Proc, workers: int) -> None:
    try:
        await proc.wait_http("/readyz", passes=3)
        # Every worker runs its own start-up and any of them may get a connection: wait
        # until they all exist and have had the time the first one needed before measuring.
        for _ in range(600):  # up to a minute; /proc is the only place to learn it from
            if workers <= 1 or len(proc.workers()) >= workers:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)
        await proc.wait_http("/readyz", passes=10)
        # Other test suites on this machine start servers with /readyz on random ports too:
        # if ours lost the race for its port, it is someone else answering.
        port = int(proc.url.rsplit(":", 1)[1])
        if not _listens(port, [proc.pid, *_children(proc.pid)]):
            raise RuntimeError(f"port {port} is not {proc.name}'s")
    except BaseException:
        await proc.stop()
        raise RuntimeError(f"{proc.name} did not start:\n" + "\n".join(proc.lines[-30:])) from None


def _listens(port: int, pids: Sequence[int]) -> bool:
    """Whether one of ``pids`` holds the socket listening on 127.0.0.1:``port``."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[3] == "0A" and int(fields[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(fields[9])
    for pid in pids:
        with contextlib.suppress(OSError):
            for fd in os.listdir(f"/proc/{pid}/fd"):
                with contextlib.suppress(OSError):
                    link = os.readlink(f"/proc/{pid}/fd/{fd}")
                    if link.startswith("socket:[") and link[8:-1] in inodes:
                        return True
    return False


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            text = Path(f"/proc/{pid}/task/{task}/children").read_text()
            found.extend(int(p) for p in text.split())
    except OSError:
        return []
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _rss(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def _cpu_s(stat_path: str) -> float:
    # A process's stat counts all its threads; a task's (``/proc/P/task/T/stat``) one thread.
    try:
        stat = Path(stat_path).read_text()
    except OSError:
        return 0.0
    # The command name may hold spaces: the fields proper start after its closing bracket.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _CLK_TCK
