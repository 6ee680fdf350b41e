"""The bench's workbench: a temp dir, the processes started in it, and the means to drive them.

``Lab`` owns everything a run starts and stops all of it on the way out, whatever failed.
It talks to the mocks' control routes (``/_faults``, ``/_stats``), posts single GraphQL
operations, and runs ``bench.load`` as a separate process while sampling the server's CPU.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import aiohttp
import orjson

from bench.fixtures import GatewayConfig, bench_token, prepare_audit_log, seed_cases
from bench.processes import REPO, Proc, bench_env, start_gateway, start_mocks, start_plain
from gateway.store.cases import CaseIn

__all__ = ["Lab", "Posted", "median"]


@dataclass(frozen=True, slots=True)
class Posted:
    """One GraphQL answer as the client saw it."""

    status: int
    body: dict[str, Any]
    raw: bytes
    wall_s: float
    started: float  # time.monotonic()
    ended: float


@dataclass
class Lab:
    """Temp dir, HTTP session and started processes of one bench run."""

    root: Path
    session: aiohttp.ClientSession
    token: str = field(default_factory=bench_token)
    procs: list[Proc] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    @classmethod
    async def open(cls) -> Lab:
        root = Path(tempfile.mkdtemp(prefix="liandong-bench-"))
        timeout = aiohttp.ClientTimeout(total=120)
        return cls(root, aiohttp.ClientSession(timeout=timeout))

    async def __aenter__(self) -> Lab:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        for proc in reversed(self.procs):
            await proc.stop()
        await self.session.close()
        shutil.rmtree(self.root, ignore_errors=True)

    def note(self, message: str) -> None:
        """A progress line on stderr (the table goes to stdout)."""
        self.log.append(message)
        print(f"[bench] {message}", file=sys.stderr, flush=True)

    # -- processes ----------------------------------------------------------------------------

    async def mocks(
        self, name: str, *, people: int, seed: int, ca_rate: float = 200.0, ca_burst: int = 50
    ) -> dict[str, str]:
        proc, urls = await start_mocks(
            name, people=people, seed=seed, ca_rate=ca_rate, ca_burst=ca_burst
        )
        self.procs.append(proc)
        return urls

    @contextlib.asynccontextmanager
    async def gateway(
        self,
        name: str,
        config: GatewayConfig,
        cases: Iterable[CaseIn],
        *,
        workers: int = 2,
        repo: Path = REPO,
    ) -> AsyncIterator[Proc]:
        """A gateway over ``config`` with ``cases`` in its store, its code from ``repo``;
        stopped on exit."""
        path = config.write(self.root / f"{name}.toml")
        await seed_cases(config.database_url, cases)
        await prepare_audit_log(path)
        proc = await start_gateway(name, path, workers=workers, repo=repo)
        self.procs.append(proc)
        try:
            yield proc
        finally:
            await proc.stop()
            self.procs.remove(proc)

    @contextlib.asynccontextmanager
    async def plain(self, name: str, bodies: Path, *, workers: int = 2) -> AsyncIterator[Proc]:
        """The plain starlette yardstick serving ``bodies``; stopped on exit."""
        proc = await start_plain(name, bodies, workers=workers)
        self.procs.append(proc)
        try:
            yield proc
        finally:
            await proc.stop()
            self.procs.remove(proc)

    # -- the mocks' control routes ------------------------------------------------------------

    async def set_faults(self, urls: Mapping[str, str], faults: Mapping[str, Any]) -> None:
        for url in urls.values():
            async with self.session.post(url + "/_faults", json=dict(faults)) as resp:
                if resp.status != 200:
                    raise RuntimeError(f"{url}/_faults: {resp.status} {await resp.text()}")

    async def reset_stats(self, urls: Mapping[str, str]) -> None:
        for url in urls.values():
            async with self.session.post(url + "/_stats/reset") as resp:
                resp.raise_for_status()

    async def upstream(self, urls: Mapping[str, str]) -> dict[str, dict[str, int]]:
        """Requests each agency received since the last reset, by route."""
        return {agency: stats["requests"] for agency, stats in (await self.stats(urls)).items()}

    async def stats(self, urls: Mapping[str, str]) -> dict[str, dict[str, Any]]:
        """Each agency's ``/_stats``: requests by route, and the log of (route, start, end)
        in ``time.monotonic()`` seconds, which on Linux is one clock for every process."""
        out: dict[str, dict[str, Any]] = {}
        for agency, url in urls.items():
            async with self.session.get(url + "/_stats") as resp:
                out[agency] = await resp.json()
        return out

    # -- talking to a gateway -----------------------------------------------------------------

    async def post(self, proc: Proc, query: str, variables: Mapping[str, Any]) -> Posted:
        payload = orjson.dumps({"query": query, "variables": dict(variables)})
        headers = {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"}
        started = time.monotonic()
        async with self.session.post(proc.url + "/graphql", data=payload, headers=headers) as resp:
            raw = await resp.read()
        ended = time.monotonic()
        return Posted(resp.status, orjson.loads(raw), raw, ended - started, started, ended)

    async def load(
        self,
        proc: Proc,
        bodies: Path,
        *,
        concurrency: int,
        requests: int,
        seconds: float,
        warmup_s: float = 1.0,
        token: bool = True,
        mock_urls: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Run ``bench.load`` against ``proc``; its JSON result plus the server's CPU use
        (and the mocks' process, given their URLs: they share the machine's two cores)."""
        mocks = self.mock_proc(mock_urls) if mock_urls else None
        argv = [sys.executable, "-m", "bench.load", "--url", proc.url + "/graphql"]
        argv += ["--bodies", str(bodies), "--concurrency", str(concurrency)]
        argv += ["--requests", str(requests), "--seconds", str(seconds)]
        argv += ["--warmup", str(warmup_s)]
        if token:
            argv += ["--token", self.token]
        child = await asyncio.create_subprocess_exec(
            *argv,
            cwd=REPO,
            env=bench_env(),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        assert child.stderr is not None
        try:
            async with asyncio.timeout(seconds + warmup_s + 120):
                # The client says when its warm-up is over: the CPU figure covers that span.
                while (line := await child.stderr.readline()) and line.strip() != b"measuring":
                    pass
                before = proc.cpu()
                mocks_before = mocks.cpu() if mocks else None
                out, err = await child.communicate()
        except TimeoutError:
            child.kill()
            await child.wait()
            raise
        after = proc.cpu()
        mocks_after = mocks.cpu() if mocks else None
        if child.returncode != 0:
            tail = "\n".join(proc.lines[-20:])
            raise RuntimeError(
                f"bench.load failed: {err.decode(errors='replace')[-600:]}\n"
                f"{proc.name} said:\n{tail}"
            )
        result: dict[str, Any] = orjson.loads(out)
        busy = before.per_second(after)
        result["server_cores_busy"] = round(busy, 2)
        rps = result["rps"] or 1.0
        result["server_cpu_ms_per_req"] = round(busy / rps * 1000, 3)
        # The event loops' share, apart from the workers' other threads (store reader,
        # audit commit): which side a cost lands on says what could remove it.
        result["server_loop_cpu_ms_per_req"] = round(before.loop_per_second(after) / rps * 1000, 3)
        if mocks_before is not None and mocks_after is not None:
            result["mocks_cores_busy"] = round(mocks_before.per_second(mocks_after), 2)
        return result

    def mock_proc(self, urls: Mapping[str, str]) -> Proc | None:
        """The process serving the mocks at ``urls``."""
        first = next(iter(urls.values()), None)
        return next((p for p in self.procs if p.url == first), None)


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (0.0 for none)."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
