"""Building signed-head machinery from the settings: the publisher a gateway runs, and the
check ``liandong audit verify`` runs against the witness."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit.chain import LEGACY_CHAIN
from gateway.audit.chain_id import writer_chain
from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_check import HeadReport, check_heads
from gateway.audit.head_coverage import unsigned_chains
from gateway.audit.head_keys import load_or_create_key, trusted_keys
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.store import open_audit_engine
from gateway.audit.witnesses import open_witness
from gateway.settings import Settings

__all__ = ["check_against_witness", "start_head_publisher", "witness_exists"]


async def start_head_publisher(settings: Settings) -> HeadPublisher | None:
    """A running publisher of this writer's chain, or None when heads or the audit log are
    disabled."""
    heads = settings.heads
    if not heads.enabled or not settings.audit.enabled:
        return None
    assert heads.key_file is not None and heads.outbox_dir is not None  # filled by Settings
    key = await asyncio.to_thread(load_or_create_key, heads.key_file)
    chain = await asyncio.to_thread(writer_chain, settings)  # the chain the log appends to
    engine = open_audit_engine(settings.audit.database_url)
    publisher = HeadPublisher(
        SqlChainSource(engine, chain, frozen=(LEGACY_CHAIN,)),
        key,
        open_witness(heads.witness, timeout_s=heads.timeout_s),
        heads.outbox_dir,
        every_records=heads.every_records,
        every_s=heads.every_s,
        poll_s=heads.poll_s,
        retry_max_s=heads.retry_max_s,
        on_close=engine.dispose,
    )
    await publisher.start()
    return publisher


async def check_against_witness(settings: Settings, witness: str) -> HeadReport:
    """Check the log against every head ``witness`` (a folder or URL) offers, and report
    each chain with records that it holds no head of (``gateway.audit.head_coverage``)."""
    heads = settings.heads
    keys = await asyncio.to_thread(trusted_keys, heads.key_file, heads.trusted_keys_dir)
    reader = open_witness(witness, timeout_s=heads.timeout_s)
    engine = open_audit_engine(settings.audit.database_url)
    try:
        found = await reader.heads()
        report = await check_heads(SqlChainSource(engine), found, keys)
        unsigned = await unsigned_chains(
            engine, found, where=witness, now=datetime.now(UTC), grace_s=heads.every_s
        )
        return HeadReport(report.checked, (*report.problems, *unsigned))
    finally:
        await reader.aclose()
        await engine.dispose()


def witness_exists(witness: str) -> bool:
    """Whether a folder witness has been written to (a URL is taken as given)."""
    return witness.startswith(("http://", "https://")) or Path(witness).is_dir()
