"""``auditVerification``: the auditor asks whether the log is intact, and is told where not.

A stack writes records; the check says ok over every chain. A record altered in the
stack's audit database afterwards is named by chain and seq, and the officer may not ask.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update

from gateway.audit import verify_runs
from gateway.audit.chain_files import database_of
from gateway.audit.store import SqlAuditLog, open_audit_engine
from gateway.audit.tables import audit_chains, audit_index, audit_records
from gateway.audit.verify import verify_log
from mocks.records import CaseRecord
from tests.audit_entries import make_entry
from tests.harness import PROFILE, PROFILE_VARIABLES, Stack, StackFactory

VERIFY = """{ auditVerification { verifiedAt ok records
  chains { chain size checked headHash } firstBreak { chain seq reason }
  breaks { chain seq reason } } }"""


async def verification(gw: Stack) -> dict[str, Any]:
    status, body = await gw.post(VERIFY, {}, token=gw.token(officer="auditor-1", roles=["auditor"]))
    assert status == 200 and "errors" not in body, body
    found: dict[str, Any] = body["data"]["auditVerification"]
    return found


async def test_the_auditor_sees_an_intact_log_then_the_altered_record(
    make_stack: StackFactory, cases: list[CaseRecord], tmp_path: Path
) -> None:
    gw = await make_stack(cases[:3])
    for _ in range(3):
        status, body = await gw.post(PROFILE, PROFILE_VARIABLES)
        assert status == 200, body
    intact = await verification(gw)
    assert intact["ok"] is True and intact["firstBreak"] is None and intact["breaks"] == []
    (chain,) = intact["chains"]
    # Every look-up above is on the log, and every record checked good.
    assert chain["size"] >= 3 and chain["checked"] == chain["size"] == intact["records"]
    # Changed where its writer writes it: the chain's own file, beside the log's.
    engine = open_audit_engine(database_of(gw.settings.audit.database_url, chain["chain"]))
    try:
        async with engine.begin() as conn:
            r = audit_records.c
            await conn.execute(
                update(audit_records)
                .where(r.chain == chain["chain"], r.seq == 2)
                .values(principal="someone-else")
            )
    finally:
        await engine.dispose()
    broken = await verification(gw)
    assert broken["ok"] is False
    assert broken["firstBreak"]["chain"] == chain["chain"]
    assert broken["firstBreak"]["seq"] == 2
    assert broken["breaks"] == [broken["firstBreak"]]
    assert broken["chains"][0]["checked"] == 1  # good up to the altered record
    assert broken["verifiedAt"] > intact["verifiedAt"]
    status, body = await gw.post(VERIFY, {})  # the officer's token
    assert body["errors"][0]["extensions"]["code"] == "FORBIDDEN", body


async def test_callers_waiting_on_a_walk_share_the_next_one(
    tmp_path: Path, monkeypatch: Any
) -> None:
    log = await SqlAuditLog.open(
        f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}", b"k" * 32, chain="a-0"
    )
    try:
        for i in range(3):
            await log.append(make_entry(i))
        walks = 0
        first_began = asyncio.Event()
        first_may_end = asyncio.Event()
        real = verify_log

        async def counted(engine: Any) -> Any:
            nonlocal walks
            walks += 1
            if walks == 1:
                first_began.set()
                await first_may_end.wait()  # the others ask while this walk runs
            return await real(engine)

        monkeypatch.setattr(verify_runs, "verify_log", counted)
        first = asyncio.create_task(verify_runs.verify_now(log.engine))
        await first_began.wait()
        later = [asyncio.create_task(verify_runs.verify_now(log.engine)) for _ in range(7)]
        for _ in range(10):
            await asyncio.sleep(0)  # every later caller is now waiting for the lock
        first_may_end.set()
        done = await asyncio.gather(first, *later)
        # One walk for the first caller, one more shared by the seven who came during it.
        assert walks == 2
        assert all(d.report.ok and d.report.checked == 3 for d in done)
        assert len({id(d) for d in done[1:]}) == 1 and done[0] is not done[1]
    finally:
        await log.aclose()


async def _head_of(witness: Path, chain: str, size: int) -> None:
    """Wait until the witness folder holds a head of ``chain`` at ``size`` records or more."""
    for _ in range(400):
        files = (witness / chain).glob("*.json")
        if any(int(f.name.split("-")[0]) >= size for f in files):
            return
        await asyncio.sleep(0.025)
    raise AssertionError(f"no head of {chain} at {size} records in {witness}")


async def test_the_check_holds_the_log_to_the_witnessed_heads(
    make_stack: StackFactory, cases: list[CaseRecord]
) -> None:
    gw = await make_stack(cases[:3], heads={"poll_s": 0.02, "every_s": 0.05})
    for _ in range(3):
        status, body = await gw.post(PROFILE, PROFILE_VARIABLES)
        assert status == 200, body
    (chain,) = (await verification(gw))["chains"]
    name = chain["chain"]
    await _head_of(Path(gw.settings.heads.witness), name, chain["size"])
    assert (await verification(gw))["ok"] is True
    # The tail cut by one record with the head row wound back: the chain alone (one writer,
    # so no other chain witnessed it) walks clean; a signed head over that record does not.
    r, i, h = audit_records.c, audit_index.c, audit_chains.c
    engine = open_audit_engine(database_of(gw.settings.audit.database_url, name))
    try:
        async with engine.connect() as conn:
            size = (await conn.execute(select(h.seq).where(h.chain == name))).scalar_one()
        await _head_of(Path(gw.settings.heads.witness), name, size)  # no request since
        async with engine.begin() as conn:
            kept = (
                await conn.execute(select(r.hash).where(r.chain == name, r.seq == size - 1))
            ).scalar_one()
            await conn.execute(delete(audit_records).where(r.chain == name, r.seq == size))
            await conn.execute(delete(audit_index).where(i.chain == name, i.seq == size))
            await conn.execute(
                update(audit_chains).where(h.chain == name).values(seq=size - 1, hash=kept)
            )
    finally:
        await engine.dispose()
    broken = await verification(gw)
    assert broken["ok"] is False, broken
    named = [b for b in broken["breaks"] if b["chain"] == name]
    assert named and all(b["seq"] >= size - 1 for b in named), broken["breaks"]
    assert any(f"chain {name}, signed head of" in b["reason"] for b in named), named
