"""Building signed-head machinery from the settings: the publisher a gateway runs, and the
check ``liandong audit verify`` runs against the witness."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gateway.audit import head_verifier
from gateway.audit.chain import LEGACY_CHAIN
from gateway.audit.chain_id import writer_chain
from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_check import HeadReport
from gateway.audit.head_coverage import unsigned_chains
from gateway.audit.head_keys import load_or_create_key
from gateway.audit.head_publisher import HeadPublisher
from gateway.audit.head_verifier import HeadVerifier
from gateway.audit.store import open_audit_engine
from gateway.audit.witnesses import Witness, open_witness
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
    url = settings.audit.database_url
    engine = open_audit_engine(url)
    witness = open_witness(heads.witness, timeout_s=heads.timeout_s)

    async def closed() -> None:
        head_verifier.register(url, None)
        await engine.dispose()

    publisher = HeadPublisher(
        SqlChainSource(engine, chain, frozen=(LEGACY_CHAIN,)),
        key,
        witness,
        heads.outbox_dir,
        every_records=heads.every_records,
        every_s=heads.every_s,
        poll_s=heads.poll_s,
        retry_max_s=heads.retry_max_s,
        on_close=closed,
    )
    await publisher.start()
    # auditVerification checks the heads this witness holds (gateway/audit/head_verifier).
    head_verifier.register(url, _verifier(settings, witness, heads.witness))
    return publisher


async def check_against_witness(settings: Settings, witness: str) -> HeadReport:
    """Check the log against every head ``witness`` (a folder or URL) offers, and report
    each chain with records that it holds no head of (``gateway.audit.head_coverage``)."""
    reader = open_witness(witness, timeout_s=settings.heads.timeout_s)
    engine = open_audit_engine(settings.audit.database_url)
    try:
        return await _verifier(settings, reader, witness).check(engine)
    finally:
        await reader.aclose()
        await engine.dispose()


async def overdue_without_witness(settings: Settings, where: str) -> list[str]:
    """With the witness folder missing: the chains old enough to have been signed (see
    ``gateway.audit.head_coverage``), one line each; empty when every chain is younger."""
    engine = open_audit_engine(settings.audit.database_url)
    try:
        problems = await unsigned_chains(
            engine, [], where=where, now=datetime.now(UTC), grace_s=settings.heads.every_s
        )
    finally:
        await engine.dispose()
    return [str(problem) for problem in problems]


def _verifier(settings: Settings, reader: Witness, where: str) -> HeadVerifier:
    heads = settings.heads
    return HeadVerifier(reader, where, heads.key_file, heads.trusted_keys_dir, heads.every_s)


def witness_exists(witness: str) -> bool:
    """Whether a folder witness has been written to (a URL is taken as given)."""
    return witness.startswith(("http://", "https://")) or Path(witness).is_dir()
