"""``serve`` applies ``[log]``: the worker supervisor's own lines come out as JSON."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.integration.test_cli_errors import CLI


def test_serve_with_workers_writes_json_lines_at_the_level_set(tmp_path: Path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
    env = clean | {
        "LIANDONG_DATA_DIR": str(tmp_path / "data"),
        "LIANDONG_LOG__FORMAT": "json",
        "LIANDONG_LOG__LEVEL": "info",
    }
    command = [*CLI, "serve", "--port", "0", "--workers", "2"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = line.split(" on ", 1)[1].split()[0]
            _wait_healthy(url.replace("/graphql", "/healthz"))
        finally:
            proc.send_signal(signal.SIGTERM)
            _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    ours = []
    for text in stderr.splitlines():
        if text.startswith("{"):
            ours.append(json.loads(text))
    stopping = [o for o in ours if o["logger"] == "liandong.workers"]
    assert stopping and stopping[0]["level"] == "INFO"
    assert "SIGTERM" in stopping[0]["message"]
    assert stopping[0]["request_id"] == "" and stopping[0]["trace_id"] == ""


def _wait_healthy(url: str) -> None:
    # The port is announced before the workers listen on it.
    for _ in range(300):
        try:
            with urllib.request.urlopen(url, timeout=5) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.1)
    raise AssertionError("the workers never answered")
