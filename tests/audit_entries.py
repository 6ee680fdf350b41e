"""Audit entries made up for tests of the audit log itself (no gateway involved)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

from gateway.audit.log import AgencyCallRecord, AuditEntry

__all__ = ["make_entry"]


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
