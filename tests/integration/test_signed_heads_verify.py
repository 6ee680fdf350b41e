"""``liandong audit verify`` against signed tree heads, on SQLite and PostgreSQL: a tail cut
with the head wound back, a chain rewritten end to end with its hashes and tree recomputed,
and a head with a forged signature each pass the chain walk alone and fail against the heads.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import delete, select, update

from gateway.audit.chain import LEGACY_CHAIN, chain_genesis, record_hash
from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_keys import load_or_create_key, public_key_file
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.signed_head import SignedTreeHead, TreeHead
from gateway.audit.store import SqlAuditLog, open_audit_engine
from gateway.audit.tables import audit_chains, audit_index, audit_records, record_from_row
from gateway.audit.witnesses import DirectoryWitness, HttpWitness
from mocks.witness import create_app, start_witness
from tests.audit_entries import make_entry
from tests.integration.test_audit_cli import cli

CHAIN = "court3203-0"  # a writer's chain: the log's only one here
RECORDS = 12
EVERY = 4  # heads at 4, 8 and 12 records


async def signed_log(url: str, data_dir: Path) -> Path:
    """A log of RECORDS records with its heads signed into data_dir/tree-heads; the config."""
    log = await SqlAuditLog.open(url, b"k" * 32, chain=CHAIN)
    engine = open_audit_engine(url)
    key = load_or_create_key(data_dir / "tree-head-key")
    publisher = HeadPublisher(
        SqlChainSource(engine, CHAIN),
        key,
        DirectoryWitness(data_dir / "tree-heads"),
        data_dir / "tree-heads-outbox",
        every_records=EVERY,
        on_close=engine.dispose,
    )
    try:
        for n in range(RECORDS):
            await log.append(make_entry(n))
            if (n + 1) % EVERY == 0:
                await publisher.tick()
    finally:
        await log.aclose()
        await publisher.aclose()
    assert (publisher.signed, publisher.delivered) == (3, 3)
    config = data_dir / "liandong.toml"
    config.write_text(
        f"data_dir = {str(data_dir)!r}\n[audit]\ndatabase_url = {url!r}\n", encoding="utf-8"
    )
    return config


async def cut_tail(url: str, keep: int) -> None:
    engine = open_audit_engine(url)
    r = audit_records.c
    try:
        async with engine.begin() as conn:
            mine = r.chain == CHAIN
            last = (await conn.execute(select(r.hash).where(mine, r.seq == keep))).scalar_one()
            i = audit_index.c
            await conn.execute(delete(audit_index).where(i.chain == CHAIN, i.seq > keep))
            await conn.execute(delete(audit_records).where(mine, r.seq > keep))
            await conn.execute(
                update(audit_chains)
                .where(audit_chains.c.chain == CHAIN)
                .values(seq=keep, hash=last)
            )
    finally:
        await engine.dispose()


async def rewrite_all(url: str) -> None:
    """Change every record and recompute the whole hash chain (and so the Merkle tree), as
    a forger with write access to the database but not the signing key would."""
    engine = open_audit_engine(url)
    r = audit_records.c
    try:
        async with engine.begin() as conn:
            mine = r.chain == CHAIN
            await conn.execute(update(audit_records).where(mine).values(principal="someone-else"))
            rows = (
                await conn.execute(select(audit_records).where(mine).order_by(r.seq))
            ).mappings()
            prev = chain_genesis(CHAIN)
            for record in [record_from_row(row) for row in rows]:
                digest = record_hash(prev, record.body())
                await conn.execute(
                    update(audit_records)
                    .where(r.seq == record.seq)
                    .values(prev_hash=prev, hash=digest)
                )
                prev = digest
            await conn.execute(
                update(audit_chains).where(audit_chains.c.chain == CHAIN).values(hash=prev)
            )
    finally:
        await engine.dispose()


def forge_head(data_dir: Path) -> None:
    """Put a head in the witness folder that claims the gateway's key but was signed by
    another: a root made up for the log as it is after a rewrite."""
    folder = data_dir / "tree-heads" / CHAIN
    newest = max(folder.glob("*.json"))
    real = SignedTreeHead.from_json(orjson.loads(newest.read_bytes()))
    fake = TreeHead(real.chain, real.size, "ab" * 32, real.time)
    forged = SignedTreeHead(
        fake, real.key_id, Ed25519PrivateKey.generate().sign(fake.message(real.key_id))
    )
    (folder / ("z" + newest.name)).write_bytes(orjson.dumps(forged.to_json()))


@pytest.mark.parametrize(
    ("tamper", "expected"),
    [
        ("tail", f"chain {CHAIN}, signed head of {RECORDS} records"),
        ("rewrite", "one of records 1..4 was changed"),
        ("forged", "the signature is not key"),
    ],
)
async def test_verify_fails_against_signed_heads(
    database_url: str, tmp_path: Path, tamper: str, expected: str
) -> None:
    config = await signed_log(database_url, tmp_path)
    code, out, _ = await cli("audit", "verify", "--config", str(config))
    assert code == 0, out
    assert "signed tree heads OK: 3 checked" in out

    if tamper == "tail":
        await cut_tail(database_url, RECORDS - 2)
    elif tamper == "rewrite":
        await rewrite_all(database_url)
    else:
        forge_head(tmp_path)

    # The chain walk alone finds nothing wrong: that is what the heads are for.
    code, out, err = await cli("audit", "verify", "--config", str(config), "--witness", "none")
    assert code == 0, err
    code, out, err = await cli("audit", "verify", "--config", str(config))
    assert code == 1, out
    assert f"audit log BROKEN: chain {CHAIN}" in err and expected in err


async def test_verify_reads_the_heads_from_an_http_witness(
    database_url: str, tmp_path: Path
) -> None:
    config = await signed_log(database_url, tmp_path)
    code, out, _ = await cli("audit", "heads", "--config", str(config))
    (newest,) = [orjson.loads(line) for line in out.splitlines()]
    assert code == 0 and (newest["chain"], newest["size"]) == (CHAIN, RECORDS)
    served = await start_witness(
        create_app([public_key_file(tmp_path / "tree-head-key").read_bytes()])
    )
    try:
        http = HttpWitness(served.url)
        for head in await DirectoryWitness(tmp_path / "tree-heads").heads():
            await http.publish(head)
        assert [h.size for h in await http.newest()] == [RECORDS]
        await http.aclose()
        code, out, err = await cli(
            "audit", "verify", "--config", str(config), "--witness", served.url
        )
        assert code == 0 and "signed tree heads OK: 3 checked" in out, err
        await cut_tail(database_url, RECORDS - 1)
        code, _, err = await cli(
            "audit", "verify", "--config", str(config), "--witness", served.url
        )
        assert code == 1 and f"chain {CHAIN}, signed head of {RECORDS} records" in err
    finally:
        await served.aclose()
    # A witness that cannot be read is a failed check, not a skipped one.
    code, _, err = await cli("audit", "verify", "--config", str(config), "--witness", served.url)
    assert code == 1 and "signed tree heads could not be read" in err


async def test_each_writer_signs_its_own_chain_and_verify_names_the_one_cut(
    database_url: str, tmp_path: Path
) -> None:
    key = load_or_create_key(tmp_path / "tree-head-key")
    witness = tmp_path / "tree-heads"
    logs, publishers = [], []
    for name in ("court3203-0", "court3203-1"):
        logs.append(await SqlAuditLog.open(database_url, b"k" * 32, chain=name))
        engine = open_audit_engine(database_url)
        publishers.append(
            HeadPublisher(
                SqlChainSource(engine, name),
                key,
                DirectoryWitness(witness),
                tmp_path / f"outbox-{name}",
                every_records=3,
                on_close=engine.dispose,
            )
        )
    try:
        for n in range(6):
            for log in logs:
                await log.append(make_entry(n))
            for publisher in publishers:
                await publisher.tick()
    finally:
        for log in logs:
            await log.aclose()
        for publisher in publishers:
            await publisher.aclose()
    assert sorted(p.name for p in witness.iterdir()) == ["court3203-0", "court3203-1"]
    config = tmp_path / "liandong.toml"
    config.write_text(
        f"data_dir = {str(tmp_path)!r}\n[audit]\ndatabase_url = {database_url!r}\n",
        encoding="utf-8",
    )
    code, out, err = await cli("audit", "verify", "--config", str(config))
    # Witness records (each chain noting the other's head) make the sizes vary: at least
    # two heads per chain, six records each and a few witness records.
    assert code == 0 and "signed tree heads OK" in out, err
    assert int(out.split("signed tree heads OK: ")[1].split()[0]) >= 4
    await cut_tail(database_url, 1)  # CHAIN is court3203-0
    code, _, err = await cli("audit", "verify", "--config", str(config), "--witness", str(witness))
    assert code == 1 and "chain court3203-0, signed head of" in err
    assert "the tail was cut" in err and "court3203-1," not in err


async def test_the_chain_from_before_chains_is_signed_too(
    database_url: str, tmp_path: Path
) -> None:
    old = await SqlAuditLog.open(database_url, b"k" * 32, chain=LEGACY_CHAIN)
    for n in range(3):
        await old.append(make_entry(n))
    await old.aclose()
    log = await SqlAuditLog.open(database_url, b"k" * 32, chain=CHAIN)
    engine = open_audit_engine(database_url)
    publisher = HeadPublisher(
        SqlChainSource(engine, CHAIN, frozen=(LEGACY_CHAIN, "absent")),
        load_or_create_key(tmp_path / "tree-head-key"),
        DirectoryWitness(tmp_path / "tree-heads"),
        tmp_path / "outbox",
        on_close=engine.dispose,
    )
    try:
        await log.append(make_entry(9))
        await publisher.tick()
        await publisher.tick()  # nothing grew: nothing more to sign
    finally:
        await log.aclose()
        await publisher.aclose()
    heads = await DirectoryWitness(tmp_path / "tree-heads").heads()
    assert sorted(h.chain for h in heads) == sorted([CHAIN, LEGACY_CHAIN])
    assert next(h.size for h in heads if h.chain == LEGACY_CHAIN) == 3
