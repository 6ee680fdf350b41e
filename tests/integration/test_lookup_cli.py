"""``liandong lookup`` as a user runs it: a real process against a real gateway."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from gateway.store.cases import CaseIn
from gateway.validation import debtor_id
from mocks.runner import RunningMocks
from mocks.world import World
from tests.harness import OFFICER, Gateway, StackFactory

CASE = "（2025）苏0311执8100号"


@pytest.fixture
async def big(
    tmp_path: Path, roomy_mocks: RunningMocks, world: World, make_stack: StackFactory
) -> Gateway:
    """A gateway with a case whose 1,000 debtors are the whole world."""
    gw = await make_stack(
        mocks=roomy_mocks, data_dir=tmp_path / "gw", court="江苏省徐州市泉山区人民法院"
    )
    await gw.add_case(
        CaseIn(
            number=CASE,
            court=gw.court,
            applicant="某银行",
            amount_due=Decimal("9000000.00"),
            debtor_ids=[debtor_id(pid) for pid in world.person_ids()],
            officers=[OFFICER],
        )
    )
    return gw


def write_csv(path: Path, rows: Sequence[str]) -> Path:
    path.write_text("id\n\n" + "\n".join(rows) + "\n", encoding="utf-8")
    return path


async def start_lookup(
    gw: Gateway, ids: Path, out: Path, *extra: str, token: str | None = None
) -> asyncio.subprocess.Process:
    env = dict(os.environ, LIANDONG_TOKEN=gw.token() if token is None else token)
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli.main",
        "lookup",
        "--url",
        gw.base_url,
        "--case",
        CASE,
        "--ids",
        str(ids),
        "--out",
        str(out),
        "--no-progress",
        *extra,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )


async def run_lookup(gw: Gateway, ids: Path, out: Path, *extra: str) -> tuple[int, str, str]:
    proc = await start_lookup(gw, ids, out, *extra)
    stdout, stderr = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


def _count_lines(path: Path) -> int:
    return path.read_bytes().count(b"\n") if path.exists() else 0


async def lines_in(path: Path) -> int:
    return await asyncio.to_thread(_count_lines, path)


async def stop_when(
    proc: asyncio.subprocess.Process, out: Path, lines: int, sig: signal.Signals
) -> int:
    """Send ``sig`` once ``out`` holds ``lines`` lines; return how many it held then."""
    async with asyncio.timeout(60):
        while (seen := await lines_in(out)) < lines:
            assert proc.returncode is None, "the lookup finished before it could be stopped"
            await asyncio.sleep(0.01)
    proc.send_signal(sig)
    await proc.communicate()
    return seen


def results(out: Path) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in out.read_bytes().splitlines()]


async def test_a_thousand_ids_interrupted_twice_end_up_each_exactly_once(
    big: Gateway, world: World, tmp_path: Path
) -> None:
    ids = list(world.person_ids())
    assert len(ids) == 1000
    csv_file = write_csv(tmp_path / "ids.csv", ids)
    out = tmp_path / "out" / "profiles.jsonl"
    # Slow the agencies a little, so that a chunk takes long enough to be caught half-way.
    await big.set_faults("public_security", {"latency_ms": 60})
    args = ("--chunk-size", "50", "--concurrency", "2")

    first = await start_lookup(big, csv_file, out, *args)
    seen = await stop_when(first, out, 300, signal.SIGINT)
    assert first.returncode == 130
    assert 300 <= seen < 1000 and await lines_in(out) % 50 == 0  # whole chunks only

    second = await start_lookup(big, csv_file, out, *args)
    await stop_when(second, out, 600, signal.SIGKILL)
    assert second.returncode == -signal.SIGKILL
    # As if the kill had come in the middle of a write: a cut-off last line.
    with out.open("ab") as f:
        f.write(b'{"id": "3203111985')

    code, stdout, stderr = await run_lookup(big, csv_file, out, *args)
    assert code == 0, stderr
    assert "removed a cut-off last line" in stderr
    assert "1,000 ids" in stdout
    lines = results(out)
    assert len(lines) == 1000
    assert sorted(str(r["id"]) for r in lines) == sorted(ids)
    assert {r["status"] for r in lines} <= {"ok", "partial"}
    showcase = next(r for r in lines if r["id"] == world.showcase_id())
    assert isinstance(showcase["data"], dict) and showcase["data"]["identity"]["name"]

    # Everything is there: another run asks the gateway nothing and writes nothing.
    await big.reset_stats()
    code, stdout, _ = await run_lookup(big, csv_file, out, *args)
    assert code == 0 and "0 written in 0 requests" in stdout
    assert await big.total_requests() == 0
    assert len(results(out)) == 1000


async def test_invalid_and_foreign_ids_fail_alone_and_can_be_retried(
    gateway: Gateway, world: World, tmp_path: Path
) -> None:
    case = next(c for c in world.cases(20) if len(c.debtor_ids) >= 2)
    parties = [str(d) for d in case.debtor_ids]
    outsider = next(p for p in world.person_ids() if p not in parties)
    rows = [*parties, outsider, "110101199003071234", parties[0].lower(), ""]
    csv_file = write_csv(tmp_path / "ids.csv", rows)
    out = tmp_path / "out.jsonl"

    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli.main", "lookup", "--url", gateway.url, "--case",
        case.number, "--ids", str(csv_file), "--out", str(out), "--no-progress",
        env=dict(os.environ, LIANDONG_TOKEN=gateway.token()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    stdout, _ = await proc.communicate()
    assert proc.returncode == 1  # finished, some ids failed
    by_id = {str(r["id"]): r for r in results(out)}
    assert set(by_id) == {*(debtor_id(p)[0] for p in parties), outsider, "110101199003071234"}
    assert all(by_id[debtor_id(p)[0]]["status"] in {"ok", "partial"} for p in parties)

    def code(key: str) -> str:
        errors = by_id[key]["errors"]
        assert isinstance(errors, list)
        return str(errors[0]["extensions"]["code"])

    assert by_id[outsider]["status"] == "failed" and code(outsider) == "FORBIDDEN"
    assert code("110101199003071234") == "INVALID_INPUT"
    text = stdout.decode()
    assert "FORBIDDEN" in text and "INVALID_INPUT" in text and "1 duplicate" in text

    await gateway.reset_stats()
    retry = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "gateway.cli.main", "lookup", "--url", gateway.url, "--case",
        case.number, "--ids", str(csv_file), "--out", str(out), "--no-progress",
        "--retry-failed", env=dict(os.environ, LIANDONG_TOKEN=gateway.token()),
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    await retry.communicate()
    assert retry.returncode == 1
    again = results(out)
    assert sorted(str(r["id"]) for r in again) == sorted(by_id)
    # Only the outsider was asked again: one request to the gateway, one person at most.
    assert (await gateway.stats("public_security"))["requests"].get(
        "POST /ps/v1/persons/query", 0
    ) <= 1


async def test_a_refused_token_stops_the_run_without_writing(
    gateway: Gateway, world: World, tmp_path: Path
) -> None:
    case = world.cases(20)[0]
    csv_file = write_csv(tmp_path / "ids.csv", [str(d) for d in case.debtor_ids])
    out = tmp_path / "out.jsonl"
    for token, expected in (("not-a-jwt", 3), ("", 2)):
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "gateway.cli.main", "lookup", "--url", gateway.url, "--case",
            case.number, "--ids", str(csv_file), "--out", str(out), "--no-progress",
            env={k: v for k, v in os.environ.items() if k != "LIANDONG_TOKEN"}
            | ({"LIANDONG_TOKEN": token} if token else {}),
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, stderr = await proc.communicate()
        assert proc.returncode == expected, stderr.decode()
        assert "not-a-jwt" not in stderr.decode()
        assert await lines_in(out) == 0
