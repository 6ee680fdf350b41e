"""The peer: Hive Gateway serving a GraphQL Mesh supergraph over the same mock agencies.

The Node project is ``bench/peer`` (exact pins in its ``package.json``; the packages are
installed with the machine's npm into ``bench/peer/node_modules`` the first time a run
needs them). Each run composes the supergraph afresh, since the mocks listen on new ports
every time, then starts ``bench/peer/gateway.mjs``: one Node process on 127.0.0.1, public
security's HMAC signature in a gateway plugin, Hive's response cache when asked.
"""

from __future__ import annotations

import asyncio
import json
import shutil
from collections.abc import Mapping
from pathlib import Path

from bench.processes import HOST, REPO, Proc, bench_env, free_port, spawn
from mocks.signing import DEFAULT_PS_SECRET

__all__ = ["PEER_DIR", "PEER_QUERY", "compose", "ensure_installed", "start_hive"]

PEER_DIR = REPO / "bench" / "peer"
PEER_QUERY = (PEER_DIR / "profile.graphql").read_text(encoding="utf-8")
_NPM_OPTIONS = ("--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error")
# The agencies a Mesh source reads (the land registry's XML is left out), by env variable.
_SOURCES = {
    "PEER_PS_URL": "public_security",
    "PEER_CA_URL": "civil_affairs",
    "PEER_MR_URL": "market_regulation",
}


def _installed() -> bool:
    manifest = json.loads((PEER_DIR / "package.json").read_text(encoding="utf-8"))
    modules = PEER_DIR / "node_modules"
    return all((modules / name / "package.json").exists() for name in manifest["dependencies"])


async def _run(argv: list[str], env: Mapping[str, str], timeout_s: float) -> str:
    child = await asyncio.create_subprocess_exec(
        *argv,
        cwd=PEER_DIR,
        env=dict(env),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        async with asyncio.timeout(timeout_s):
            out, _ = await child.communicate()
    except TimeoutError:
        child.kill()
        await child.wait()
        raise
    text = out.decode(errors="replace")
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(argv[:2])} failed ({child.returncode}):\n{text[-2000:]}")
    return text


async def ensure_installed() -> str:
    """Install the peer's pinned packages if missing; return the path of ``node``."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        raise RuntimeError("the peer needs Node.js and npm (`make servers` installs them)")
    if not _installed():
        await _run([npm, "install", *_NPM_OPTIONS], bench_env(), 900)
        if not _installed():
            raise RuntimeError(f"npm install left packages missing in {PEER_DIR.name}")
    return node


def _env(mock_urls: Mapping[str, str]) -> dict[str, str]:
    env = bench_env({var: mock_urls[agency] for var, agency in _SOURCES.items()})
    env["PEER_PS_SECRET"] = DEFAULT_PS_SECRET.decode()
    # Not "production": the CLI would fork a worker per core; the runtime itself is the same.
    env.pop("NODE_ENV", None)
    return env


async def compose(mock_urls: Mapping[str, str], out: Path) -> Path:
    """Compose the supergraph over the mocks at ``mock_urls`` into ``out``."""
    node = await ensure_installed()
    cli = PEER_DIR / "node_modules" / "@graphql-mesh" / "compose-cli" / "esm" / "bin.js"
    await _run([node, str(cli), "-o", str(out)], _env(mock_urls), 180)
    return out


async def start_hive(
    name: str, supergraph: Path, mock_urls: Mapping[str, str], *, response_cache: bool
) -> Proc:
    """Hive Gateway over ``supergraph`` on a free port, once it answers its readiness check."""
    node = await ensure_installed()
    port = free_port()
    argv = [node, str(PEER_DIR / "gateway.mjs"), str(supergraph), str(port)]
    if response_cache:
        argv.append("--response-cache")
    proc = await spawn(name, argv, _env(mock_urls))
    proc.url = f"http://{HOST}:{port}"
    try:
        await proc.wait_http("/readiness", passes=3)
    except BaseException:
        await proc.stop()
        raise RuntimeError(f"{name} did not start:\n" + "\n".join(proc.lines[-30:])) from None
    return proc
