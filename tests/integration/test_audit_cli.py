"""``liandong audit verify`` and ``audit export`` as a user runs them, on a real gateway's log."""

from __future__ import annotations

import asyncio
import shutil
import sys
from pathlib import Path

import orjson
from sqlalchemy import delete, update

from gateway.audit.store import open_audit_engine
from gateway.audit.tables import audit_records
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.audit_reading import chain_holder
from tests.harness import open_stack

DEBTOR = "query($id: ID!, $c: String!) { debtor(id: $id, caseNumber: $c) { identity { name } } }"


async def cli(*args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gateway.cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await proc.communicate()
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


def config(data_dir: Path) -> Path:
    path = data_dir / "liandong.toml"
    path.write_text(f"data_dir = {str(data_dir)!r}\n", encoding="utf-8")
    return path


def copy_log(source: Path, target: Path) -> None:
    target.mkdir()
    for name in ("audit.db", "audit-key"):
        shutil.copy(source / name, target / name)
    if (source / "audit.chains").is_dir():  # the writer's own file
        shutil.copytree(source / "audit.chains", target / "audit.chains")


async def tampered_copy(source: Path, target: Path, how: str) -> Path:
    await asyncio.to_thread(copy_log, source, target)
    engine = open_audit_engine(f"sqlite+aiosqlite:///{chain_holder(target / 'audit.db')}")
    r = audit_records.c
    try:
        async with engine.begin() as conn:
            if how == "edit":
                await conn.execute(update(audit_records).where(r.seq == 3).values(principal="x"))
            elif how == "delete":
                await conn.execute(delete(audit_records).where(r.seq == 3))
            else:  # reorder: records 3 and 4 trade places
                await conn.execute(update(audit_records).where(r.seq == 3).values(seq=-3))
                await conn.execute(update(audit_records).where(r.seq == 4).values(seq=3))
                await conn.execute(update(audit_records).where(r.seq == -3).values(seq=4))
    finally:
        await engine.dispose()
    return await asyncio.to_thread(config, target)


async def test_verify_export_and_tampering(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    data_dir = tmp_path / "gw"
    async with open_stack(data_dir, cases, mocks=mocks) as gw:
        for i in range(6):
            case = cases[i % 2]
            await gw.post(DEBTOR, {"id": case.debtor_ids[0], "c": case.number})
    cfg = await asyncio.to_thread(config, data_dir)

    code, out, err = await cli("audit", "verify", "--config", str(cfg))
    assert code == 0, err
    assert "audit log OK: 6 records checked" in out
    head = out.split("hash ")[-1].strip()
    code, out, _ = await cli("audit", "verify", "--config", str(cfg), "--anchor", f"6:{head}")
    assert code == 0

    code, out, err = await cli("audit", "export", "--config", str(cfg), "--case", cases[1].number)
    assert code == 0, err
    lines = [orjson.loads(line) for line in out.splitlines()]
    assert [line["seq"] for line in lines] == [2, 4, 6]
    assert all(line["case_number"] == cases[1].number and len(line["hash"]) == 64 for line in lines)
    pid = cases[0].debtor_ids[0]
    code, out, _ = await cli("audit", "export", "--config", str(cfg), "--debtor", pid)
    assert code == 0 and len(out.splitlines()) == 3
    assert pid not in out

    kinds = ("edit", "delete", "reorder")
    configs = [await tampered_copy(data_dir, tmp_path / how, how) for how in kinds]
    results = await asyncio.gather(*(cli("audit", "verify", "--config", str(c)) for c in configs))
    for how, (code, out, err) in zip(kinds, results, strict=True):
        assert code == 1, (how, out, err)
        assert "BROKEN at chain " in err and " record 3: " in err, (how, err)
        assert "2 records checked" in err


async def test_verify_says_when_there_is_no_log(tmp_path: Path) -> None:
    cfg = await asyncio.to_thread(config, tmp_path)
    code, _, err = await cli("audit", "verify", "--config", str(cfg))
    assert code == 2 and "no audit log" in err
    assert not await asyncio.to_thread((tmp_path / "audit.db").exists)


async def test_tree_heads_and_proofs_as_a_court_uses_them(
    tmp_path: Path, mocks: RunningMocks, cases: list[CaseRecord]
) -> None:
    data_dir = tmp_path / "gw"
    async with open_stack(data_dir, cases, mocks=mocks) as gw:
        for _ in range(5):
            await gw.post(DEBTOR, {"id": cases[0].debtor_ids[0], "c": cases[0].number})
        cfg = await asyncio.to_thread(config, data_dir)
        # Published after five records: the head an outsider keeps.
        code, out, err = await cli("audit", "tree", "--config", str(cfg))
        assert code == 0, err
        early = orjson.loads(out)
        assert early["size"] == 5 and len(early["root"]) == 64
        for _ in range(6):
            await gw.post(DEBTOR, {"id": cases[1].debtor_ids[0], "c": cases[1].number})
    code, out, _ = await cli("audit", "tree", "--config", str(cfg))
    later = orjson.loads(out)
    assert later["size"] == 11 and later["root"] != early["root"]

    # Record 3 was under the early head; the log only grew since then.
    code, out, err = await cli("audit", "prove", "3", "--size", "5", "--config", str(cfg))
    assert code == 0, err
    proof = tmp_path / "proof.json"
    await asyncio.to_thread(proof.write_text, out)
    code, out, err = await cli("audit", "check-proof", str(proof), "--root", early["root"])
    assert code == 0 and "proof OK (inclusion, tree of 5 records)" in out, err
    code, _, err = await cli("audit", "check-proof", str(proof), "--root", later["root"])
    assert code == 1 and "not the one given" in err
    code, out, err = await cli("audit", "consistency", "5", "--config", str(cfg))
    grew = tmp_path / "grew.json"
    await asyncio.to_thread(grew.write_text, out)
    code, out, err = await cli(
        "audit", "check-proof", str(grew), "--old-root", early["root"], "--root", later["root"]
    )
    assert code == 0 and "consistency" in out, err
    head = f"5:{early['root']}"
    code, out, err = await cli("audit", "verify", "--config", str(cfg), "--tree", head)
    assert code == 0, err

    # Someone rewrites record 3 and its hash, then re-chains the rest: the chain walks
    # clean, but the published head no longer matches, and neither does the old proof.
    forged = tmp_path / "forged"
    await asyncio.to_thread(copy_log, data_dir, forged)
    await rechain_after_edit(chain_holder(forged / "audit.db"), seq=3)
    forged_cfg = await asyncio.to_thread(config, forged)
    code, out, err = await cli("audit", "verify", "--config", str(forged_cfg))
    assert code == 0, (out, err)  # the forger re-chained
    code, out, err = await cli("audit", "verify", "--config", str(forged_cfg), "--tree", head)
    assert code == 1 and "not the published tree head's" in err
    code, out, _ = await cli("audit", "consistency", "5", "--config", str(forged_cfg))
    await asyncio.to_thread(grew.write_text, out)
    code, _, err = await cli("audit", "check-proof", str(grew), "--old-root", early["root"])
    assert code == 1

    code, _, err = await cli("audit", "prove", "12", "--config", str(cfg))
    assert code == 1 and "not in a tree of 11" in err


async def rechain_after_edit(db: Path, seq: int) -> None:
    """Change record ``seq``'s contents and recompute every hash from it on, as a forger
    with write access to the database would."""
    from sqlalchemy import select

    from gateway.audit.chain import record_hash
    from gateway.audit.tables import audit_chains, record_from_row

    engine = open_audit_engine(f"sqlite+aiosqlite:///{db}")
    r = audit_records.c
    try:
        async with engine.begin() as conn:
            await conn.execute(update(audit_records).where(r.seq == seq).values(principal="x"))
            rows = (
                await conn.execute(select(audit_records).where(r.seq >= seq).order_by(r.seq))
            ).mappings()
            records = [record_from_row(row) for row in rows]
            prev = records[0].prev_hash
            for record in records:
                digest = record_hash(prev, record.body())
                await conn.execute(
                    update(audit_records)
                    .where(r.seq == record.seq)
                    .values(prev_hash=prev, hash=digest)
                )
                prev = digest
            await conn.execute(update(audit_chains).values(hash=prev))
    finally:
        await engine.dispose()
