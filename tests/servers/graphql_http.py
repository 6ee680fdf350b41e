"""The GraphQL-over-HTTP specification's own server audits (npm ``graphql-http``).

Pinned in ``tests/graphql_http/package.json`` and installed with the machine's npm into
``tests/graphql_http/node_modules`` (git-ignored) the first time a test needs them, under
a machine-wide lock; Node.js itself comes from `make servers`.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

from tests.servers.install import InstallError, install_lock, require

__all__ = ["AUDIT_DIR", "run_audits"]

AUDIT_DIR = Path(__file__).resolve().parents[1] / "graphql_http"
_NPM_OPTIONS = ("--no-package-lock", "--no-audit", "--no-fund", "--loglevel=error")
_PACKAGE = AUDIT_DIR / "node_modules" / "graphql-http" / "package.json"


def _which(name: str) -> Path | None:
    found = shutil.which(name)
    return Path(found) if found else None


def _ensure_audits() -> Path:
    node = require("Node.js (node)", lambda: _which("node"), ["nodejs"])
    npm = require("npm", lambda: _which("npm"), ["npm"])
    if _PACKAGE.exists():
        return node
    with install_lock():
        if _PACKAGE.exists():
            return node
        proc = subprocess.run(
            [str(npm), "install", *_NPM_OPTIONS],
            cwd=AUDIT_DIR,
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if proc.returncode != 0 or not _PACKAGE.exists():
            raise InstallError(f"npm install in {AUDIT_DIR} failed:\n{proc.stdout}{proc.stderr}")
    return node


def run_audits(url: str, token: str) -> list[dict[str, Any]]:
    """Every audit's ``{id, name, status, reason}`` against the GraphQL endpoint ``url``."""
    node = _ensure_audits()
    proc = subprocess.run(
        [str(node), str(AUDIT_DIR / "audit.mjs"), url],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={**os.environ, "LIANDONG_TOKEN": token},
    )
    if proc.returncode != 0:
        raise RuntimeError(f"the audit crashed ({proc.returncode}):\n{proc.stderr}")
    results: list[dict[str, Any]] = json.loads(proc.stdout)
    return results
