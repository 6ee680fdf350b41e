"""Node.js and a real Federation v2 composer, for checking the subgraph SDL.

The composer (``@theguild/federation-composition``, pinned in ``tests/federation``) is
installed with the machine's npm into ``tests/federation/node_modules`` (git-ignored) the
first time a test needs it, under a machine-wide lock; Node.js itself comes from `make servers`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tests.servers.install import InstallError, install_lock, require

__all__ = ["FEDERATION_DIR", "NPM_OPTIONS", "compose", "ensure_composer"]

FEDERATION_DIR = Path(__file__).resolve().parents[1] / "federation"
NPM_OPTIONS = ("--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error")
_COMPOSER = FEDERATION_DIR / "node_modules" / "@theguild" / "federation-composition"


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def ensure_composer() -> Path:
    """Install the composer if missing (Node.js and npm must be there); return ``node``."""
    node = require("Node.js (node)", lambda: _which("node"), ["nodejs"])
    npm = require("npm", lambda: _which("npm"), ["npm"])
    if (_COMPOSER / "package.json").exists():
        return node
    with install_lock():
        if (_COMPOSER / "package.json").exists():
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
        if proc.returncode != 0 or not (_COMPOSER / "package.json").exists():
            raise InstallError(
                f"npm install in {FEDERATION_DIR} failed:\n{proc.stdout}{proc.stderr}"
            )
    return node


def compose(subgraphs: Sequence[tuple[str, str]]) -> dict[str, Any]:
    """Compose ``(name, sdl)`` subgraphs: ``{"supergraphSdl": ...}`` or ``{"errors": [...]}``."""
    node = ensure_composer()
    payload = json.dumps([{"name": name, "sdl": sdl} for name, sdl in subgraphs])
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
