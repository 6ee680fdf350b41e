"""``liandong serve`` over a chain file that was removed: it exits without serving.

The gateway runs as a real process over SQLite; it answers a look-up (its chain gets
records), stops, and its chain's file is removed. What knows the chain is either the
signed head the gateway published at shutdown (the default folder witness), or, with
signed heads off, another chain's witness record. Started again, it names the chain and the
evidence and exits with uvicorn's start-up failure status; no agency is asked anything.
"""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import aiohttp
import pytest

from gateway.audit import start_check
from gateway.audit.chain_files import chain_file, sqlite_path
from gateway.audit.chain_id import writer_chain
from gateway.audit.store import SqlAuditLog
from gateway.web.worker_processes import STARTUP_FAILURE
from mocks.records import CaseRecord
from mocks.runner import AGENCIES
from tests.audit_entries import make_entry
from tests.harness import START_ATTEMPTS, GatewayProcess, Stack, open_stack

LOOKUP = "query($c: String!) { case(number: $c) { number } }"


@pytest.fixture(autouse=True)
def _no_heads_registered(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(start_check, "_SOURCES", {})


async def _total_requests(stack: Stack) -> int:
    return sum([await stack.mock_requests(agency) for agency in AGENCIES])


async def _exit_status(child: GatewayProcess) -> int:
    """Start ``child`` again and wait, bounded by polls, for it to exit; fail if it serves."""
    proc = await child.spawn()
    async with aiohttp.ClientSession() as session:
        for _ in range(START_ATTEMPTS):
            if proc.returncode is not None:
                return proc.returncode
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(child.url + "/readyz") as resp:
                    raise AssertionError(f"the gateway answered ({resp.status})")
            await asyncio.sleep(0.1)
    raise AssertionError(f"the gateway neither served nor exited: {await child.output()}")


@pytest.mark.parametrize("evidence", ["signed head", "witness record"])
async def test_serve_refuses_a_chain_whose_file_was_removed(
    tmp_path: Path, cases: list[CaseRecord], evidence: str
) -> None:
    heads = {"heads": {"enabled": evidence == "signed head"}}
    async with open_stack(tmp_path, cases, process=True, **heads) as stack:
        child = stack.process
        assert child is not None
        status, body = await stack.post(LOOKUP, {"c": cases[0].number})
        assert status == 200 and body["data"]["case"], body
        settings = child.settings
        chain = writer_chain(settings)
        url = settings.audit.database_url
        if evidence == "witness record":
            other = await SqlAuditLog.open(
                url, b"k" * 32, chain="other-0", witness_interval_s=0, file_per_writer=True
            )
            try:
                await other.append(make_entry(1))  # witnesses the gateway's chain
            finally:
                await other.aclose()
        await child.stop()
        main = sqlite_path(url)
        assert main is not None
        own = chain_file(main, chain)
        for path in [p for p in own.parent.iterdir() if p.name.startswith(own.name)]:
            path.unlink()
        asked = await _total_requests(stack)
        code = await _exit_status(child)
        output = await child.output()
        assert code == STARTUP_FAILURE, output
        assert f"the audit chain {chain} existed before" in output, output
        said = "the witness" if evidence == "signed head" else "chain other-0 record"
        assert said in output and "new chain id" in output, output
        assert not own.exists()  # nothing begun in its place
        assert await _total_requests(stack) == asked
