"""Node.js, a real Federation v2 composer, and real federation routers, for the subgraph.

The packages (``@theguild/federation-composition``, Hive Gateway, Apollo Gateway and Server,
``@apollo/subgraph``; pinned exactly in ``tests/federation/package.json``) are installed
with the machine's npm into ``tests/federation/node_modules`` (git-ignored) the first time
a test needs them, under a machine-wide lock; Node.js itself comes from `make servers`. ``start_node`` runs one of the
scripts there as a server on 127.0.0.1 and waits for the port it prints.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.servers.install import InstallError, install_lock, require

__all__ = [
    "FEDERATION_DIR",
    "NPM_OPTIONS",
    "NodeServer",
    "compose",
    "ensure_composer",
    "start_node",
]

FEDERATION_DIR = Path(__file__).resolve().parents[1] / "federation"
NPM_OPTIONS = ("--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error")
_MODULES = FEDERATION_DIR / "node_modules"
_START_TIMEOUT_S = 60.0


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def _installed() -> bool:
    # Every package the manifest names: a tree installed for an older manifest is not enough.
    manifest = json.loads((FEDERATION_DIR / "package.json").read_text(encoding="utf-8"))
    return all((_MODULES / name / "package.json").exists() for name in manifest["dependencies"])


def ensure_composer() -> Path:
    """Install the composer if missing (Node.js and npm must be there); return ``node``."""
    node = require("Node.js (node)", lambda: _which("node"), ["nodejs"])
    npm = require("npm", lambda: _which("npm"), ["npm"])
    if _installed():
        return node
    with install_lock():
        if _installed():
            return node
        # Versions are pinned exactly in package.json; no lock file is kept.
        proc = subprocess.run(
            [str(npm), "install", *NPM_OPTIONS],
            cwd=FEDERATION_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0 or not _installed():
            raise InstallError(
                f"npm install in {FEDERATION_DIR} failed:\n{proc.stdout}{proc.stderr}"
            )
    return node


def compose(
    subgraphs: Sequence[tuple[str, str]], urls: Mapping[str, str] | None = None
) -> dict[str, Any]:
    """Compose ``(name, sdl)`` subgraphs: ``{"supergraphSdl": ...}`` or ``{"errors": [...]}``.

    ``urls`` (by name) go into the supergraph, for a router to send its fetches to.
    """
    node = ensure_composer()
    found = urls or {}
    payload = json.dumps(
        [{"name": name, "sdl": sdl, "url": found.get(name)} for name, sdl in subgraphs]
    )
    proc = subprocess.run(
        [str(node), str(FEDERATION_DIR / "compose.mjs")],
        input=payload,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the composer crashed ({proc.returncode}):\n{proc.stderr}")
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


@dataclass
class NodeServer:
    """A Node.js server started from a script in ``tests/federation``; stderr in ``log``."""

    proc: asyncio.subprocess.Process
    port: int
    log: Path
    drain: asyncio.Task[bytes]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.proc.returncode is None:
            self.proc.terminate()
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
        await self.drain


async def start_node(
    script: str, *args: str, log: Path, env: Mapping[str, str] | None = None
) -> NodeServer:
    """Run ``tests/federation/<script>`` and wait for its ``LISTENING <port>`` line."""
    node = await asyncio.to_thread(ensure_composer)
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        proc = await asyncio.create_subprocess_exec(
            str(node),
            str(FEDERATION_DIR / script),
            *args,
            cwd=FEDERATION_DIR,
            env={**os.environ, "NODE_ENV": "test", **(env or {})},
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
    stdout = proc.stdout
    assert stdout is not None
    try:
        async with asyncio.timeout(_START_TIMEOUT_S):
            while line := await stdout.readline():
                if line.startswith(b"LISTENING "):
                    # Read on whatever it prints later, so that a full pipe never stops it.
                    drain = asyncio.create_task(stdout.read())
                    return NodeServer(proc, int(line.split()[1]), log, drain)
    except TimeoutError:
        pass
    if proc.returncode is None:
        proc.kill()
    await proc.wait()
    tail = (await asyncio.to_thread(log.read_text, errors="replace"))[-4000:]
    raise RuntimeError(f"{script} {' '.join(args)} did not start:\n{tail}")
