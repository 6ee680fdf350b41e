"""Starting a gateway stack in a test: the one way (mocks, store, gateway, client).

Everything is real: the mocks are aiohttp servers and the gateway is uvicorn, each on a
127.0.0.1 ephemeral port, or ``liandong serve`` in a child process for tests that kill or
restart it; tests talk HTTP to them.

- :func:`open_stack` is the factory: an async context manager that starts what the test
  did not bring (mocks over a world, the gateway in-process or as a process), registers
  the cases, and stops everything it started, in reverse order, however the test ends.
- The ``make_stack`` fixture is the same factory for one test, in the manner of
  ``aiohttp_server``: call it as often as needed, everything is stopped at teardown.
- :class:`Stack` is what a test gets back: the client (``post``, ``graphql``, ``token``),
  the mocks' counters, logs and faults, the audit log, ``/metrics``.
- :func:`gateway_settings`, :func:`start_gateway` and :func:`stop_gateway` are its parts,
  for tests that build the settings or stop the gateway themselves.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gateway.audit.chain import StoredRecord
from gateway.auth import issue_token
from gateway.cli.demo import seed_cases
from gateway.clock import Clock
from gateway.settings import Settings, load_settings
from gateway.store.cases import CaseIn, Store
from gateway.web.app import create_app
from gateway.web.server import RunningServer, start_server
from gateway.web.services import Services
from mocks.records import CaseRecord
from mocks.runner import RunningMocks, start_mocks
from mocks.world import World
from tests.assertions import Samples
from tests.audit_reading import audit_records, one_record

__all__ = [
    "JUDGE",
    "OFFICER",
    "OUTSIDER",
    "PROFILE",
    "PROFILE_VARIABLES",
    "SECRET",
    "Gateway",
    "GatewayProcess",
    "Stack",
    "StackFactory",
    "free_port",
    "gateway_settings",
    "make_stack",
    "open_stack",
    "start_gateway",
    "stop_gateway",
    "wait_for",
    "write_config",
]

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
PROFILE = (EXAMPLES / "profile.graphql").read_text(encoding="utf-8")
PROFILE_VARIABLES: dict[str, str] = json.loads(
    (EXAMPLES / "profile.json").read_text(encoding="utf-8")
)

OFFICER = "officer-1"
JUDGE = "judge-1"
OUTSIDER = "officer-2"
SECRET = "test-secret-0123456789abcdef0123456789"
PS_CLIENT_ID = "court-test"

START_ATTEMPTS = 600  # polls of the readiness route, 0.1 s apart
STOP_WAIT_S = 30.0


def gateway_settings(
    data_dir: Path, mocks: RunningMocks, *, database_url: str = "", **overrides: Any
) -> Settings:
    """Settings pointing at ``mocks``, with a fixed JWT secret and a fresh data dir.

    ``agencies`` in ``overrides`` is merged per agency, ``auth`` into the fixed secret.
    """
    agencies: dict[str, dict[str, Any]] = {
        name: {"base_url": url} for name, url in mocks.urls.items()
    }
    agencies["public_security"]["options"] = {
        "client_id": PS_CLIENT_ID,
        "secret": mocks.secret.decode(),
    }
    for name, extra in overrides.pop("agencies", {}).items():
        agencies[name].update(extra)
    return load_settings(
        data_dir=data_dir,
        database_url=database_url,
        auth={"secret": SECRET, **overrides.pop("auth", {})},
        agencies=agencies,
        **overrides,
    )


# --- the gateway as a child process ---------------------------------------------------------


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def _table(name: str, values: Mapping[str, Any]) -> list[str]:
    lines = [f"[{name}]"]
    nested = []
    for key, value in values.items():
        if isinstance(value, Mapping):
            nested.append((f"{name}.{key}", value))
        else:
            lines.append(f"{key} = {_toml_value(value)}")
    for sub, table in nested:
        lines += _table(sub, table)
    return lines


def write_config(
    data_dir: Path,
    mocks: RunningMocks,
    sections: Mapping[str, Mapping[str, Any]],
    *,
    database_url: str = "",
    path: Path | None = None,
) -> Path:
    """A TOML config over ``mocks`` (at ``data_dir/liandong.toml`` unless ``path``);
    ``sections`` adds tables (``limits``, ``agencies.x``)."""
    lines = [f"data_dir = {_toml_value(data_dir)}"]
    if database_url:
        lines.append(f"database_url = {_toml_value(database_url)}")
    lines += _table("auth", {"secret": SECRET})
    for name, url in mocks.urls.items():
        agency: dict[str, Any] = {"base_url": url, **sections.get(f"agencies.{name}", {})}
        if name == "public_security":
            agency["options"] = {"client_id": PS_CLIENT_ID, "secret": mocks.secret.decode()}
        lines += _table(f"agencies.{name}", agency)
    for name, values in sections.items():
        if not name.startswith("agencies."):
            lines += _table(name, values)
    target = path or data_dir / "liandong.toml"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return target


def sections_of(overrides: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Settings overrides (as :func:`gateway_settings` takes them) as config tables."""
    sections: dict[str, dict[str, Any]] = {}
    for key, value in overrides.items():
        if key == "agencies":
            for name, extra in value.items():
                sections[f"agencies.{name}"] = dict(extra)
        else:
            sections[key] = dict(value)
    return sections


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class GatewayProcess:
    """``liandong serve`` with ``config`` on 127.0.0.1:``port``; start, kill, restart it.

    Output goes to ``log`` (discarded when ``None``). ``workers`` runs the supervisor with
    that many worker processes, in a session of its own so that a stuck tree can be killed.
    """

    config: Path
    port: int = field(default_factory=free_port)
    log: Path | None = None
    workers: int | None = None
    ready_path: str = "/readyz"
    proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings(self) -> Settings:
        return load_settings(self.config)

    @property
    def pid(self) -> int:
        assert self.proc is not None, "not started"
        return self.proc.pid

    async def spawn(self) -> asyncio.subprocess.Process:
        """Start the process without waiting for it to be ready."""
        args = ["serve", "--config", str(self.config), "--host", "127.0.0.1"]
        args += ["--port", str(self.port)]
        if self.workers is not None:
            args += ["--workers", str(self.workers)]
        with contextlib.ExitStack() as files:
            out: Any = asyncio.subprocess.DEVNULL
            if self.log is not None:
                out = files.enter_context(self.log.open("ab"))
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                *("-m", "gateway.cli.main", *args),
                stdout=out,
                stderr=out,
                cwd=self.config.parent,
                # Settings come from the config file alone, not from the test runner's env.
                env={k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")},
                start_new_session=self.workers is not None,
            )
        return self.proc

    async def output(self) -> str:
        if self.log is None:
            return "(output discarded)"
        return await asyncio.to_thread(self.log.read_text, errors="replace")

    async def start(self) -> GatewayProcess:
        """Spawn and wait (bounded by attempts, not by a clock) until it answers."""
        proc = await self.spawn()
        try:
            async with aiohttp.ClientSession() as session:
                for _ in range(START_ATTEMPTS):
                    if proc.returncode is not None:
                        raise AssertionError(f"gateway exited: {await self.output()}")
                    with contextlib.suppress(aiohttp.ClientError):
                        async with session.get(self.url + self.ready_path) as resp:
                            if resp.status == 200:
                                return self
                    await asyncio.sleep(0.1)
            raise AssertionError(f"gateway never became ready: {await self.output()}")
        except BaseException:
            await self.kill()
            raise

    async def kill(self) -> None:
        """SIGKILL: no shutdown code runs (the whole session when it has workers)."""
        if self.proc is not None and self.proc.returncode is None:
            if self.workers is not None:
                os.killpg(self.proc.pid, signal.SIGKILL)
            else:
                self.proc.kill()
            await self.proc.wait()

    async def stop(self, wait_s: float | None = None) -> None:
        """SIGTERM, and SIGKILL if it has not exited after ``wait_s``."""
        if wait_s is None:  # a supervisor first stops each of its workers
            wait_s = STOP_WAIT_S if self.workers is None else 2 * STOP_WAIT_S
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), wait_s)
            except TimeoutError:
                await self.kill()

    def rss_kib(self) -> int:
        """The process's resident set size (VmRSS), in KiB."""
        status = Path(f"/proc/{self.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")


# --- the stack a test gets --------------------------------------------------------------------


@dataclass
class Stack:
    """A started gateway over its mocks, and the means to query and inspect them.

    ``server`` is set when the gateway runs in this process, ``process`` when it is a child
    process; ``services`` when the test asked to reach them (worker, clock, store).
    """

    settings: Settings
    base_url: str
    mocks: RunningMocks
    court: str
    session: aiohttp.ClientSession = field(repr=False)
    server: RunningServer | None = None
    services: Services | None = None
    process: GatewayProcess | None = None

    @property
    def url(self) -> str:
        return self.base_url + "/graphql"

    @property
    def world(self) -> World:
        return self.mocks.world

    def require_services(self) -> Services:
        """The services the harness built (``services=True``)."""
        assert self.services is not None, "the stack was opened without services=True"
        return self.services

    @property
    def app(self) -> Any:
        """The ASGI app serving in this process (its state, its routes)."""
        assert self.server is not None, "the gateway runs in a child process"
        return self.server.server.config.app

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

    async def graphql(
        self, query: str, variables: Mapping[str, Any] | None = None, *, token: str | None = None
    ) -> dict[str, Any]:
        """POST an operation that must succeed; returns its ``data``."""
        status, body = await self.post(query, variables, token=token)
        assert status == 200 and "errors" not in body, body
        data: dict[str, Any] = body["data"]
        return data

    async def wait_for(
        self, read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], tries: int = 600
    ) -> Any:
        """Poll ``read`` until ``done`` holds (:func:`wait_for`)."""
        return await wait_for(read, done, tries)

    # --- the mocks: counters, logs, faults

    async def stats(self, agency: str) -> dict[str, Any]:
        """The mock agency's own counters, read over HTTP."""
        async with self.session.get(self.mocks.urls[agency] + "/_stats") as resp:
            data: dict[str, Any] = await resp.json()
            return data

    async def reset_stats(self) -> None:
        for url in self.mocks.urls.values():
            async with self.session.post(url + "/_stats/reset") as resp:
                assert resp.status == 200

    async def mock_log(self, agency: str) -> list[dict[str, Any]]:
        """The mock's per-request log (route, keys, status)."""
        entries: list[dict[str, Any]] = (await self.stats(agency))["log"]
        return entries

    async def mock_requests(self, agency: str) -> int:
        return sum((await self.stats(agency))["requests"].values())

    async def total_requests(self) -> int:
        total = 0
        for agency in self.mocks.urls:
            total += await self.mock_requests(agency)
        return total

    async def set_faults(self, agency: str, faults: Mapping[str, Any]) -> None:
        async with self.session.post(self.mocks.urls[agency] + "/_faults", json=faults) as resp:
            assert resp.status == 200, await resp.text()

    async def clear_faults(self) -> None:
        """Every agency healthy again; requests held by ``hang`` are let go."""
        for url in self.mocks.urls.values():
            async with self.session.delete(url + "/_faults") as resp:
                assert resp.status == 200

    # --- the gateway: its store, audit log and metrics

    async def add_case(self, case: CaseIn) -> None:
        """Register a case in the gateway's store, as a court system would."""
        store = await Store.open(self.settings.database_url)
        try:
            await store.upsert_case(case)
        finally:
            await store.close()

    async def audit_records(self, **where: Any) -> list[StoredRecord]:
        """Every audit record matching ``where`` (``AuditFilter`` fields), oldest first."""
        return await audit_records(self.settings, **where)

    async def one_record(self, request_id: str) -> StoredRecord:
        return await one_record(self.settings, request_id)

    async def scrape(self) -> Samples:
        """``/metrics`` as ``{(sample name, sorted labels): value}``."""
        async with self.session.get(self.base_url + "/metrics") as resp:
            assert resp.status == 200
            assert resp.headers["Content-Type"].startswith("text/plain")
            text = await resp.text()
        samples: Samples = {}
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return samples


#: The name the tests have long used for a stack.
Gateway = Stack


async def wait_for(
    read: Callable[[], Awaitable[Any]], done: Callable[[Any], bool], tries: int = 600
) -> Any:
    """Poll ``read`` until ``done`` holds; fails after ``tries`` polls (about 30 s)."""
    last = None
    for _ in range(tries):  # bounded by polls, not by a clock
        last = await read()
        if done(last):
            return last
        await asyncio.sleep(0.05)
    raise AssertionError(f"condition never held; last value: {last!r}")


async def start_gateway(
    settings: Settings,
    mocks: RunningMocks,
    court: str,
    *,
    services: Services | None = None,
) -> Stack:
    """The gateway in this process (uvicorn on 127.0.0.1:0) with ``settings``.

    Without ``services`` the app builds its own in its lifespan; with them, the caller
    owns them (and closes them after :func:`stop_gateway`).
    """
    server = await start_server(create_app(settings, services=services))
    session = aiohttp.ClientSession()
    return Stack(
        settings=settings,
        base_url=server.url,
        mocks=mocks,
        court=court,
        session=session,
        server=server,
        services=services,
    )


async def stop_gateway(gw: Stack) -> None:
    await gw.session.close()
    if gw.server is not None:
        await gw.server.stop()


async def seed(settings: Settings, cases: Sequence[CaseRecord]) -> None:
    """Register ``cases`` with the harness's officer and judge assigned."""
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, list(cases), [OFFICER], [JUDGE])
    finally:
        await store.close()


@contextlib.asynccontextmanager
async def open_stack(
    data_dir: Path,
    cases: Sequence[CaseRecord] = (),
    *,
    mocks: RunningMocks | None = None,
    world: World | None = None,
    mock_options: Mapping[str, Any] | None = None,
    settings: Settings | None = None,
    database_url: str = "",
    services: bool = False,
    clock: Clock | None = None,
    process: bool = False,
    workers: int | None = None,
    sections: Mapping[str, Mapping[str, Any]] | None = None,
    log: bool = True,
    court: str | None = None,
    **overrides: Any,
) -> AsyncIterator[Stack]:
    """Mocks (unless given), ``cases`` registered, and a gateway over them; all stopped after.

    The mocks serve ``world`` (a fresh seed-7 world when none is given) with
    ``mock_options`` (``start_mocks`` keywords). ``overrides`` are settings sections as
    :func:`gateway_settings` takes them, unless ``settings`` is given whole.
    ``services=True`` builds the gateway's services here (with ``clock``), so that the test
    can reach them; ``process=True`` runs ``liandong serve`` with a written config instead,
    its output in ``data_dir/gateway.log`` (unless ``log=False``), ``workers`` of them
    under one supervisor if asked; ``sections`` are more config tables (``agencies.x``).
    """
    async with contextlib.AsyncExitStack() as exits:
        if mocks is None:
            running = await start_mocks(
                world or World(seed=7, people=1000), **dict(mock_options or {})
            )
            exits.push_async_callback(running.aclose)
        else:
            running = mocks
        home = court or (cases[0].court if cases else "")
        session = await exits.enter_async_context(aiohttp.ClientSession())
        if process:
            tables = {**sections_of(overrides), **dict(sections or {})}
            config = write_config(data_dir, running, tables, database_url=database_url)
            child = GatewayProcess(
                config, log=data_dir / "gateway.log" if log else None, workers=workers
            )
            await seed(child.settings, cases)
            exits.push_async_callback(child.stop)
            await child.start()
            yield Stack(child.settings, child.url, running, home, session, process=child)
            return
        config_ = settings or gateway_settings(
            data_dir, running, database_url=database_url, **overrides
        )
        await seed(config_, cases)
        own: Services | None = None
        if services:
            own = await Services.start(config_, clock=clock)
            exits.push_async_callback(own.aclose)
        stack = await start_gateway(config_, running, home, services=own)
        exits.push_async_callback(stop_gateway, stack)
        yield stack


class StackFactory(Protocol):
    """``make_stack``: :func:`open_stack`'s keywords, the stack stopped at teardown."""

    def __call__(self, cases: Sequence[CaseRecord] = (), **options: Any) -> Awaitable[Stack]: ...


@pytest.fixture
async def make_stack(tmp_path: Path) -> AsyncIterator[StackFactory]:
    """Start stacks for one test (the first one's data in ``tmp_path``); all stopped after."""
    async with contextlib.AsyncExitStack() as exits:
        started = 0

        async def factory(cases: Sequence[CaseRecord] = (), **options: Any) -> Stack:
            nonlocal started
            data_dir = options.pop("data_dir", None)
            if data_dir is None:
                data_dir = tmp_path if started == 0 else tmp_path / f"stack-{started}"
                data_dir.mkdir(parents=True, exist_ok=True)
            started += 1
            return await exits.enter_async_context(open_stack(data_dir, cases, **options))

        yield factory
