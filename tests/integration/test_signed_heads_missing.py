"""``liandong audit verify`` reports heads that are gone, on SQLite and PostgreSQL.

Checking against signed heads only helps while the heads are there: a witness folder
deleted, or one chain's heads taken out of it, used to leave a note on stderr and exit 0,
and a tail cut with the head wound back then passed. Both now exit 1 naming what is gone.
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.head_keys import load_or_create_key
from gateway.audit.store import SqlAuditLog
from tests.audit_entries import make_entry
from tests.integration.test_audit_cli import cli
from tests.integration.test_signed_heads_verify import CHAIN, RECORDS, cut_tail, signed_log


async def test_a_deleted_witness_folder_is_reported(database_url: str, tmp_path: Path) -> None:
    config = await signed_log(database_url, tmp_path)
    shutil.rmtree(tmp_path / "tree-heads")
    await cut_tail(database_url, RECORDS - 2)  # what the heads were there to catch
    code, out, err = await cli("audit", "verify", "--config", str(config))
    assert code == 1, out
    assert f"no signed tree heads at {tmp_path / 'tree-heads'}" in err
    assert "folder missing" in err


async def test_a_chain_without_heads_at_the_witness_is_named(
    database_url: str, tmp_path: Path
) -> None:
    config = await signed_log(database_url, tmp_path)
    shutil.rmtree(tmp_path / "tree-heads" / CHAIN)
    code, out, err = await cli("audit", "verify", "--config", str(config))
    assert code == 1, out
    assert f"chain {CHAIN}: {RECORDS} records" in err
    assert "no signed tree head at" in err
    # Asked to skip the heads, verify checks the chains alone, as before.
    code, out, err = await cli("audit", "verify", "--config", str(config), "--witness", "none")
    assert code == 0, err


async def test_a_young_log_whose_heads_are_not_due_yet_is_not_a_loss(
    database_url: str, tmp_path: Path
) -> None:
    # The key is made when a gateway starts, before any head exists: a folder not written
    # yet is only a loss once a chain is old enough to have had a head delivered.
    log = await SqlAuditLog.open(database_url, b"k" * 32, chain=CHAIN)
    try:
        await log.append(make_entry(0, time=datetime.now(UTC)))
    finally:
        await log.aclose()
    load_or_create_key(tmp_path / "tree-head-key")
    config = tmp_path / "liandong.toml"
    config.write_text(
        f"data_dir = {str(tmp_path)!r}\n[audit]\ndatabase_url = {database_url!r}\n",
        encoding="utf-8",
    )
    code, _, err = await cli("audit", "verify", "--config", str(config))
    assert code == 0, err
    assert "none checked" in err
