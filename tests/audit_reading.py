"""Reading a gateway's audit log back, for assertions."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gateway.audit.chain import StoredRecord
from gateway.audit.chain_files import chain_files
from gateway.audit.query import AuditFilter, AuditSearch
from gateway.audit.store import open_audit_engine
from gateway.audit.verify import read_heads
from gateway.settings import Settings

__all__ = ["audit_chain_names", "audit_records", "chain_holder", "one_record"]


async def audit_records(settings: Settings, **where: Any) -> list[StoredRecord]:
    """Every record matching ``where`` (``AuditFilter`` fields), oldest first."""
    engine = open_audit_engine(settings.audit.database_url)
    try:
        search = AuditSearch(engine, settings.audit_key())
        return [r async for r in search.stream(AuditFilter(**where))]
    finally:
        await engine.dispose()


async def one_record(settings: Settings, request_id: str) -> StoredRecord:
    """The single record of ``request_id``: the gateway's id, or else the client's."""
    found = await audit_records(settings, request_id=request_id)
    if not found:
        found = await audit_records(settings, client_request_id=request_id)
    assert len(found) == 1, f"{len(found)} records for request {request_id}"
    return found[0]


def chain_holder(main: Path) -> Path:
    """The file a one-writer gateway's chain is written in (its own, beside ``main``, or
    ``main`` itself): where someone changing that chain would change it."""
    files = chain_files(main)
    assert len(files) <= 1, files
    return files[0] if files else main


async def audit_chain_names(url: str) -> list[str]:
    """The chains of the log at ``url``, by name."""
    engine = open_audit_engine(url)
    try:
        return sorted(await read_heads(engine))
    finally:
        await engine.dispose()
