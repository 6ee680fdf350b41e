"""The gateway as a real process (``python -m gateway.cli.main serve``) over in-process mocks.

The test writes a TOML config, starts the process on a free 127.0.0.1 port, waits for
``/readyz``, and can read the process's resident memory from ``/proc/<pid>/status``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from gateway.cli.demo import seed_cases
from gateway.settings import Settings, load_settings
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import JUDGE, OFFICER, SECRET

START_ATTEMPTS = 600  # polls of /readyz, 0.1 s apart
STOP_WAIT_S = 30.0


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
    data_dir: Path, mocks: RunningMocks, sections: Mapping[str, Mapping[str, Any]]
) -> Path:
    """A TOML config over ``mocks``; ``sections`` adds tables (``limits``, ``agencies.x``)."""
    lines = [f"data_dir = {_toml_value(data_dir)}"]
    lines += _table("auth", {"secret": SECRET})
    for name, url in mocks.urls.items():
        agency: dict[str, Any] = {"base_url": url, **sections.get(f"agencies.{name}", {})}
        if name == "public_security":
            agency["options"] = {"client_id": "court-test", "secret": mocks.secret.decode()}
        lines += _table(f"agencies.{name}", agency)
    for name, values in sections.items():
        if not name.startswith("agencies."):
            lines += _table(name, values)
    path = data_dir / "liandong.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class GatewayProcess:
    """A running ``liandong serve``."""

    proc: asyncio.subprocess.Process
    url: str
    settings: Settings
    log: Path

    def rss_kib(self) -> int:
        """The process's resident set size (VmRSS), in KiB."""
        status = Path(f"/proc/{self.proc.pid}/status").read_text(encoding="ascii")
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        raise AssertionError("no VmRSS in /proc status")


async def spawn_gateway(
    config: Path, port: int, log: Path, *, cwd: Path
) -> asyncio.subprocess.Process:
    """``liandong serve`` on 127.0.0.1:``port`` with ``config``; output appended to ``log``."""
    with log.open("ab") as out:
        return await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "gateway.cli.main",
            "serve",
            "--config",
            str(config),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            stdout=out,
            stderr=out,
            cwd=cwd,
            # Settings come from the config file alone, not from the test runner's env.
            env={k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")},
        )


async def _read(log: Path) -> str:
    return await asyncio.to_thread(log.read_text, errors="replace")


async def _wait_ready(proc: asyncio.subprocess.Process, url: str, log: Path) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(START_ATTEMPTS):  # bounded by attempts, not by a clock
            if proc.returncode is not None:
                raise AssertionError(f"gateway exited: {await _read(log)}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(url + "/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.1)
    raise AssertionError(f"gateway never became ready: {await _read(log)}")


@contextlib.asynccontextmanager
async def gateway_process(
    data_dir: Path,
    mocks: RunningMocks,
    cases: list[CaseRecord],
    sections: Mapping[str, Mapping[str, Any]],
) -> AsyncIterator[GatewayProcess]:
    """Start the gateway process with ``cases`` registered; SIGTERM it afterwards."""
    config = write_config(data_dir, mocks, sections)
    settings = load_settings(config)
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    log = data_dir / "gateway.log"
    port = free_port()
    proc = await spawn_gateway(config, port, log, cwd=data_dir)
    url = f"http://127.0.0.1:{port}"
    try:
        await _wait_ready(proc, url, log)
        yield GatewayProcess(proc, url, settings, log)
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(proc.wait(), STOP_WAIT_S)
            except TimeoutError:
                proc.kill()
                await proc.wait()
