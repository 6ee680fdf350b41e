"""Tests never install Debian packages: a missing server fails in one line naming the fix."""

from __future__ import annotations

import ast
import subprocess
from pathlib import Path

import pytest

from tests.servers import install

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / ".ci" / "install-servers"


def test_a_found_binary_is_returned(tmp_path: Path) -> None:
    assert install.require("x", lambda: tmp_path, ["x"]) == tmp_path


def test_a_missing_binary_fails_in_one_line_naming_the_command() -> None:
    with pytest.raises(pytest.fail.Exception) as failed:
        install.require("Redis (redis-server)", lambda: None, ["redis-server"])
    assert failed.value.pytrace is False  # the line alone, no traceback
    assert failed.value.msg == (
        "Redis (redis-server) is not installed: run `make servers` "
        "(as root: apt-get install redis-server)"
    )


def test_no_test_module_runs_apt() -> None:
    runs_apt = []
    for path in (ROOT / "tests").rglob("*.py"):
        if path == Path(__file__).resolve():
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and node.value in ("apt-get", "apt", "dpkg"):
                runs_apt.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert runs_apt == []


def test_the_install_script_names_what_is_missing_when_it_cannot_install(
    tmp_path: Path,
) -> None:
    # A PATH with none of the servers and an ``id`` that says "not root".
    fake_id = tmp_path / "id"
    fake_id.write_text("#!/bin/sh\necho 1000\n", encoding="utf-8")
    fake_id.chmod(0o755)
    proc = subprocess.run(
        ["/bin/bash", str(SCRIPT)],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert proc.returncode == 1
    assert proc.stdout == ""
    lines = proc.stderr.splitlines()
    assert len(lines) == 1
    assert "apt-get install" in lines[0] and "redis-server nodejs npm" in lines[0]
