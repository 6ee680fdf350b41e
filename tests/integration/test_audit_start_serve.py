"""``liandong serve`` over a chain file that was removed: it exits without serving.

The gateway runs as a real process over SQLite; it answers a look-up (its chain gets
records), stops, and its chain's file is removed. What knows the chain is either the
signed head the gateway published at shutdown (the default folder witness), or, with
signed heads off, another chain's witness record. Started again, it names the chain and the
evidence in one line on standard error, with no traceback, and exits with uvicorn's
start-up failure status (the ``--workers`` supervisor: 1); no agency is asked anything,
and neither says it is serving.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from gateway.audit.chain_files import chain_file, sqlite_path
from gateway.audit.chain_id import writer_chain
from gateway.audit.store import SqlAuditLog
from gateway.settings import Settings
from gateway.web.worker_processes import STARTUP_FAILURE
from mocks.records import CaseRecord
from mocks.runner import AGENCIES
from tests.audit_entries import make_entry
from tests.harness import JUDGE, START_ATTEMPTS, GatewayProcess, Stack, open_stack
from tests.integration.assistance_requests import (
    APPROVE,
    FAST_WORKER,
    NO_OTHER_PROPERTY,
    OTHER_JUDGE,
    REQUEST,
)

LR_CONTROLS = "POST /lr/controls"
LOOKUP = "query($c: String!) { case(number: $c) { number } }"


async def _total_requests(stack: Stack) -> int:
    return sum([await stack.mock_requests(agency) for agency in AGENCIES])


@dataclass(frozen=True)
class _Refused:
    status: int
    stdout: str
    stderr: str

    def refusal_lines(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "refusing to start" in line]


async def _refused_start(child: GatewayProcess, out: Path, workers: int | None = None) -> _Refused:
    """Run ``liandong serve`` over ``child``'s config, its standard error kept apart, until it
    exits (bounded by polls); fail if it serves (with ``workers``, one whose own chain is
    intact may serve until the supervisor stops it)."""
    args = ["serve", "--config", str(child.config), "--host", "127.0.0.1"]
    args += ["--port", str(child.port)]
    if workers is not None:
        args += ["--workers", str(workers)]
    stdout, stderr = out / "serve.out", out / "serve.err"
    with stdout.open("wb") as o, stderr.open("wb") as e:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "gateway.cli.main", *args),
            stdout=o,
            stderr=e,
            cwd=child.config.parent,
            env={k: v for k, v in os.environ.items() if not k.startswith("LIANDONG_")},
        )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(START_ATTEMPTS):
                if proc.returncode is not None:
                    break
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(child.url + "/readyz") as resp:
                        if resp.status == 200 and workers is None:
                            raise AssertionError("the gateway served")
                await asyncio.sleep(0.1)
            else:
                raise AssertionError("the gateway neither served nor exited")
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    read = functools.partial(Path.read_text, errors="replace")
    return _Refused(proc.returncode, read(stdout), read(stderr))


async def _witness_by_another_chain(url: str) -> None:
    other = await SqlAuditLog.open(
        url, b"k" * 32, chain="other-0", witness_interval_s=0, file_per_writer=True
    )
    try:
        await other.append(make_entry(1))  # witnesses every chain that has records
    finally:
        await other.aclose()


def _remove_chain_file(settings: Settings) -> tuple[str, Path]:
    """Remove the gateway's chain file (with its WAL); its chain and the file's path."""
    chain = writer_chain(settings)
    main = sqlite_path(settings.audit.database_url)
    assert main is not None
    own = chain_file(main, chain)
    for path in [p for p in own.parent.iterdir() if p.name.startswith(own.name)]:
        path.unlink()
    return chain, own


@pytest.mark.parametrize("evidence", ["signed head", "witness record"])
async def test_serve_refuses_a_chain_whose_file_was_removed(
    tmp_path: Path, cases: list[CaseRecord], evidence: str
) -> None:
    heads = {"enabled": evidence == "signed head"}
    async with open_stack(tmp_path, cases, process=True, heads=heads) as stack:
        child = stack.process
        assert child is not None
        status, body = await stack.post(LOOKUP, {"c": cases[0].number})
        assert status == 200 and body["data"]["case"], body
        assert f"the API on {child.url}/graphql" in await child.output()  # said once serving
        if evidence == "witness record":
            await _witness_by_another_chain(child.settings.audit.database_url)
        await child.stop()  # with heads on, it signs a last head of its chain
        chain, own = _remove_chain_file(child.settings)
        asked = await _total_requests(stack)
        refused = await _refused_start(child, tmp_path)
        assert refused.status == STARTUP_FAILURE, refused
        # One line: the code, the chain and its evidence, what to do; no traceback.
        [line] = refused.refusal_lines()
        assert line.startswith("liandong: refusing to start: AUDIT_CHAIN_CONTRADICTED: ")
        assert f"the audit chain {chain} existed before" in line, line
        said = "the witness" if evidence == "signed head" else "chain other-0 record"
        assert said in line and "new chain id" in line and "audit verify" in line, line
        assert "Traceback" not in refused.stderr and "File " not in refused.stderr, refused
        assert refused.stderr.strip() == line, refused  # and nothing else is said there
        assert "refusing" not in refused.stdout
        assert "serving" not in refused.stdout, refused  # said only once it has started
        assert not own.exists()  # nothing begun in its place
        assert await _total_requests(stack) == asked


async def _gql(stack: Stack, token: str, query: str, variables: dict[str, Any]) -> Any:
    status, body = await stack.post(query, variables, token=token)
    assert status == 200 and "errors" not in body, body
    return body["data"]


async def _lr_stats(stack: Stack) -> dict[str, Any]:
    return await stack.stats("land_registry")


async def test_a_refused_start_does_not_send_the_order_its_chain_recorded(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    # A seizure order the land registry holds when the gateway dies: a gateway that started
    # would send it again; one that refuses to start sends nothing.
    async with open_stack(
        tmp_path,
        cases,
        process=True,
        heads={"enabled": False},
        assistance={**FAST_WORKER, "lease_s": 1.0},
        agencies={name: {"max_retries": 0} for name in AGENCIES},
    ) as stack:
        child = stack.process
        assert child is not None
        number, debtor = cases[0].number, cases[0].debtor_ids[0]
        cert = next(p.certificate_no for p in stack.world.properties_of(debtor) if not p.seizures)
        order = {
            "caseNumber": number,
            "debtorId": debtor,
            "action": "SEIZE_REAL_ESTATE",
            "target": cert,
            "documentNumber": "DOC-START-CHECK-1",
            "overrideReason": NO_OTHER_PROPERTY,
        }
        asker = stack.token(officer=OTHER_JUDGE, roles=["judge"])
        made = await _gql(stack, asker, REQUEST, {"input": order})
        rid = made["requestAssistance"]["request"]["id"]
        await stack.set_faults("land_registry", {"hang": True})
        await _gql(stack, stack.token(officer=JUDGE, roles=["judge"]), APPROVE, {"id": rid})
        await stack.wait_for(functools.partial(_lr_stats, stack), lambda s: s["in_flight"] == 1)
        await _witness_by_another_chain(child.settings.audit.database_url)
        await child.kill()
        await stack.clear_faults()
        await stack.wait_for(functools.partial(_lr_stats, stack), lambda s: s["in_flight"] == 0)
        chain, _ = _remove_chain_file(child.settings)
        sent = (await _lr_stats(stack))["requests"][LR_CONTROLS]
        refused = await _refused_start(child, tmp_path)
        assert refused.status == STARTUP_FAILURE, refused
        [line] = refused.refusal_lines()
        assert f"the audit chain {chain} existed" in line and "Traceback" not in refused.stderr
        assert (await _lr_stats(stack))["requests"][LR_CONTROLS] == sent == 1


async def test_workers_stop_when_one_worker_s_chain_was_removed(
    tmp_path: Path, cases: list[CaseRecord]
) -> None:
    async with open_stack(tmp_path, cases, process=True, workers=2) as stack:
        child = stack.process
        assert child is not None
        for _ in range(4):
            status, _ = await stack.post(LOOKUP, {"c": cases[0].number})
            assert status == 200
        # Said by the supervisor once both workers have started (bounded by polls).
        said = f"the API on {child.url}/graphql (dev profile, 2 workers)"
        for _ in range(100):
            if said in await child.output():
                break
            await asyncio.sleep(0.05)
        assert said in await child.output()
        await child.stop()  # each worker signs a last head of its chain, if it grew
        settings = child.settings
        main = sqlite_path(settings.audit.database_url)
        assert main is not None
        base = writer_chain(settings).rsplit("-", 1)[0]
        gone = [p for p in chain_file(main, base).parent.iterdir() if p.name.startswith(base)]
        assert gone
        for path in gone:
            path.unlink()
        # The worker whose chain never had a record may serve until the supervisor stops
        # it (its own records are written); the other must not start at all.
        refused = await _refused_start(child, tmp_path, workers=2)
    # The supervisor stops the other worker too and exits with a failure.
    assert refused.status == 1, refused
    [line] = refused.refusal_lines()
    assert line.startswith("liandong: refusing to start: AUDIT_CHAIN_CONTRADICTED: the audit")
    assert f"the audit chain {base}-" in line, refused
    assert "failed to start; stopping" in refused.stderr, refused
    assert "Traceback" not in refused.stderr, refused
    # One worker started, the other refused: the supervisor never said it was serving.
    assert "serving" not in refused.stdout, refused
