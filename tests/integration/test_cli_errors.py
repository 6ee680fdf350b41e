"""The command line fails in one line that says what to do: never a traceback.

Each test runs ``liandong`` as a user does, in a process of its own, and looks at its exit
status and standard error.
"""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from mocks.threaded import ThreadedMocks
from mocks.world import World
from tests.harness import Gateway
from tests.integration.test_demo_cli import AGENCIES, free_ports

CLI = (sys.executable, "-m", "gateway.cli.main")


def run(
    *args: str, cwd: Path, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")}
    return subprocess.run(  # noqa: PLW1510 - the status is what the tests look at
        [*CLI, *args],
        cwd=cwd,
        env=clean | (env or {}),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    """The failure's message, after checking it is one line and no traceback."""
    assert result.returncode != 0, result
    assert "Traceback" not in result.stderr, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("liandong: "), lines
    return lines[0]


@pytest.fixture
def held_port() -> Iterator[int]:
    """A port something else listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def agencies_env(ports: list[int]) -> dict[str, str]:
    return {
        f"LIANDONG_AGENCIES__{name.upper()}__BASE_URL": f"http://127.0.0.1:{port}"
        for name, port in zip(AGENCIES, ports, strict=True)
    }


def test_demo_on_a_port_in_use_says_so_in_one_line(tmp_path: Path, held_port: int) -> None:
    env = {"LIANDONG_DATA_DIR": str(tmp_path / "data"), **agencies_env(free_ports(4))}
    result = run("demo", "--people", "50", "--port", str(held_port), cwd=tmp_path, env=env)
    line = one_line_error(result)
    assert f"127.0.0.1:{held_port}" in line
    assert "--port" in line


def test_demo_whose_agency_port_is_in_use_says_so(tmp_path: Path, held_port: int) -> None:
    ports = [held_port, *free_ports(3)]
    env = {"LIANDONG_DATA_DIR": str(tmp_path / "data"), **agencies_env(ports)}
    result = run("demo", "--people", "50", "--port", str(free_ports(1)[0]), cwd=tmp_path, env=env)
    line = one_line_error(result)
    assert str(held_port) in line
    assert "address already in use" in line.lower()


def test_mocks_serve_on_a_port_in_use_says_so(tmp_path: Path, held_port: int) -> None:
    result = run("mocks", "serve", "--people", "50", "--base-port", str(held_port), cwd=tmp_path)
    line = one_line_error(result)
    assert str(held_port) in line
    assert "--base-port" in line


def test_serve_on_a_port_in_use_says_so(tmp_path: Path, held_port: int) -> None:
    env = {"LIANDONG_DATA_DIR": str(tmp_path / "data")}
    result = run("serve", "--port", str(held_port), cwd=tmp_path, env=env)
    assert f"127.0.0.1:{held_port}" in one_line_error(result)


def test_serve_says_where_it_listens_and_stops_on_ctrl_c_without_a_traceback(
    tmp_path: Path,
) -> None:
    env = {**os.environ, "LIANDONG_DATA_DIR": str(tmp_path / "data")}
    command = [*CLI, "serve", "--port", "0"]
    with subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            url = line.split(" on ", 1)[1].split()[0]
            with urllib.request.urlopen(url.replace("/graphql", "/healthz"), timeout=30) as resp:
                assert resp.status == 200
            proc.send_signal(signal.SIGINT)
            _, stderr = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(30)
    assert line.startswith("liandong: serving"), line
    assert proc.returncode == 0
    assert "Traceback" not in stderr, stderr


def test_a_misspelt_agency_is_refused_by_name_before_serving(tmp_path: Path) -> None:
    config = tmp_path / "gw.toml"
    config.write_text('[agencies.land_registy]\nbase_url = "http://127.0.0.1:9"\n')
    for command in (("serve", "--config", str(config)), ("config", "check", str(config))):
        result = run(*command, cwd=tmp_path, env={"LIANDONG_DATA_DIR": str(tmp_path / "d")})
        line = one_line_error(result)
        assert result.returncode == 2
        assert "agencies.land_registy.connector" in line
        assert "land_registry" in line  # the known names, so the typo is plain


def test_config_check_passes_a_good_file_and_tries_each_connection(tmp_path: Path) -> None:
    with ThreadedMocks(World(seed=7, people=50)) as mocks:
        lines = [f'[agencies.{n}]\nbase_url = "{u}"\n' for n, u in mocks.urls.items()]
        config = tmp_path / "gw.toml"
        config.write_text(f'data_dir = "{tmp_path / "d"}"\n' + "".join(lines))
        result = run("config", "check", str(config), "--connect", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\nok   agencies.") == 4, result.stdout
    dead = tmp_path / "dead.toml"
    dead.write_text('[agencies.civil_affairs]\nbase_url = "http://127.0.0.1:9"\n')
    result = run("config", "check", str(dead), "--connect", cwd=tmp_path)
    assert "FAIL agencies.civil_affairs.base_url" in result.stdout
    assert "connections failed" in one_line_error(result)


def test_check_proof_of_a_missing_file_names_it(tmp_path: Path) -> None:
    line = one_line_error(run("audit", "check-proof", "no-such-proof.json", cwd=tmp_path))
    assert "no-such-proof.json" in line
    assert "No such file" in line


def test_token_outside_the_gateways_folder_makes_no_secret_and_says_where_it_looked(
    tmp_path: Path,
) -> None:
    line = one_line_error(run("token", cwd=tmp_path))
    assert str(tmp_path / ".liandong" / "jwt-secret") in line
    assert not (tmp_path / ".liandong").exists()


def test_token_finds_the_gateways_folder_from_below_it(tmp_path: Path) -> None:
    (tmp_path / ".liandong").mkdir()
    (tmp_path / ".liandong" / "jwt-secret").write_text("ab" * 32 + "\n")
    below = tmp_path / "examples" / "deeper"
    below.mkdir(parents=True)
    result = run("token", cwd=below)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count(".") == 2  # one JWT
    assert not (below / ".liandong").exists()


def test_roles_are_checked_and_listed(tmp_path: Path) -> None:
    result = run("token", "--role", "nonsense", cwd=tmp_path)
    assert result.returncode == 2
    assert "invalid choice: 'nonsense'" in result.stderr
    assert "Traceback" not in result.stderr
    helped = run("token", "--help", cwd=tmp_path)
    for role in ("officer", "judge", "auditor", "court_system", "agency"):
        assert role in helped.stdout


async def test_lookup_of_a_case_that_does_not_exist_stops_at_once(
    gateway: Gateway, tmp_path: Path, world: World
) -> None:
    ids = tmp_path / "ids.csv"
    ids.write_text("id\n" + "\n".join(world.person_ids()[:200]) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    for mocks_stats in (gateway.mocks.stats(a) for a in AGENCIES):
        mocks_stats.reset()
    proc = await asyncio.create_subprocess_exec(
        *CLI, "lookup", "--url", gateway.url, "--case", "（2025）苏0311执9999号",
        "--ids", str(ids), "--out", str(out), "--no-progress", "--chunk-size", "10",
        env=dict(os.environ, LIANDONG_TOKEN=gateway.token()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await proc.communicate()
    assert proc.returncode == 2, stderr.decode()
    message = stderr.decode().strip().splitlines()
    assert len(message) == 1, message
    assert "check --case" in message[0]
    assert not out.exists() or out.read_text() == ""
    assert sum(sum(gateway.mocks.stats(a).requests.values()) for a in AGENCIES) == 0


async def test_lookup_with_a_refused_token_says_to_get_a_new_one(
    gateway: Gateway, tmp_path: Path, world: World
) -> None:
    case = world.cases(20)[0]
    ids = tmp_path / "ids.csv"
    ids.write_text("id\n" + "\n".join(str(d) for d in case.debtor_ids) + "\n", encoding="utf-8")
    proc = await asyncio.create_subprocess_exec(
        *CLI, "lookup", "--url", gateway.url, "--case", case.number, "--ids", str(ids),
        "--out", str(tmp_path / "out.jsonl"), "--no-progress",
        env=dict(os.environ, LIANDONG_TOKEN="not-a-jwt"),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await proc.communicate()
    assert proc.returncode == 3
    assert "get a new token" in stderr.decode()


def test_threaded_mocks_answer_a_synchronous_client(
    liandong_mocks_threaded: ThreadedMocks,
) -> None:
    url = liandong_mocks_threaded.urls["public_security"] + "/_stats"
    with urllib.request.urlopen(url, timeout=30) as resp:
        assert resp.status == 200
        assert isinstance(orjson.loads(resp.read()), dict)
