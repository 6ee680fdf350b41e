"""Helpers for the audit tests: a gateway on a SQLite store, and reading its audit log back."""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from gateway.audit.chain import StoredRecord
from gateway.audit.log import AgencyCallRecord, AuditEntry
from gateway.audit.query import AuditFilter, AuditSearch
from gateway.audit.store import open_audit_engine
from gateway.cli.demo import seed_cases
from gateway.settings import AuthSettings, Settings
from gateway.store.cases import Store
from mocks.records import CaseRecord
from mocks.runner import RunningMocks
from tests.harness import JUDGE, OFFICER, Gateway, gateway_settings, start_gateway, stop_gateway

__all__ = [
    "audit_records",
    "b64url",
    "make_entry",
    "one_record",
    "running_gateway",
    "unsigned_token",
]


@contextlib.asynccontextmanager
async def running_gateway(
    data_dir: Path, mocks: RunningMocks, cases: list[CaseRecord], **overrides: Any
) -> AsyncIterator[Gateway]:
    """A gateway over ``mocks`` with the cases seeded (SQLite store), stopped afterwards.

    ``auth`` in ``overrides`` is merged into the harness's auth settings (fixed secret).
    """
    auth = overrides.pop("auth", None)
    settings = gateway_settings(data_dir, mocks, **overrides)
    if auth is not None:
        merged = AuthSettings.model_validate({**settings.auth.model_dump(), **auth})
        settings = settings.model_copy(update={"auth": merged})
    store = await Store.open(settings.database_url)
    try:
        await seed_cases(store, cases, [OFFICER], [JUDGE])
    finally:
        await store.close()
    gw = await start_gateway(settings, mocks, court=cases[0].court)
    try:
        yield gw
    finally:
        await stop_gateway(gw)


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


def make_entry(n: int = 0, **changes: Any) -> AuditEntry:
    """A plausible look-up entry; ``changes`` override fields."""
    values: dict[str, Any] = {
        "time": datetime(2024, 5, 1, 8, 0, tzinfo=UTC) + timedelta(seconds=n),
        "request_id": f"req-{n}",
        "principal": "officer-1",
        "court": "徐州市铜山区人民法院",
        "roles": ("officer",),
        "case_number": "（2024）苏0312执1234号",
        "operation": "Profile",
        "document_hash": hashlib.sha256(b"{ x }").hexdigest(),
        "variables": {"id": "110101199003071234", "n": n},
        "debtors": ("110101199003071234",),
        "agencies": (AgencyCallRecord("public_security", "identity", 1, 0, 1.25),),
        "outcome": "ok",
    }
    values.update(changes)
    return AuditEntry(**values)


def b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned_token(header: dict[str, Any], claims: dict[str, Any], key: bytes | None) -> str:
    """A JWT put together by hand (for alg=none and algorithm-confusion attempts)."""
    head = b64url(json.dumps(header).encode())
    body = b64url(json.dumps(claims).encode())
    signing_input = f"{head}.{body}".encode()
    signature = b"" if key is None else hmac.new(key, signing_input, hashlib.sha256).digest()
    return f"{head}.{body}.{b64url(signature)}"
