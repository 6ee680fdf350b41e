"""Running ``liandong audit verify`` as an operator would: a child process over a config."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path


async def verify_cli(tmp_path: Path, url: str) -> tuple[int, str]:
    """``audit verify`` over the audit database at ``url``: its exit code and its output."""
    config = tmp_path / "verify.toml"
    config.write_text(
        f"data_dir = {json.dumps(str(tmp_path))}\n[audit]\ndatabase_url = {json.dumps(url)}\n",
        encoding="utf-8",
    )
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "gateway.cli.main", "audit", "verify", "--config", str(config)),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode() + err.decode()
