"""Chains vouching for each other: witness records.

Every so often (at most once per ``interval_s``, and only when something changed) a writer
adds to its own chain one record that lists the heads it has just read of the other
chains: ``{"witness": {chain: [seq, hash], ...}}`` in ``detail``, operation
``audit.witness``. The record is hashed into the writer's chain like any other, so once it
is written, cutting or rewriting one of the witnessed chains up to that head contradicts a
chain the cutter did not touch; ``audit verify`` checks every such claim.

The cost is bounded: one read of the head rows and at most one extra record per interval,
inside a commit the writer makes anyway.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from gateway.audit.chain import StoredRecord, Unsealed

__all__ = ["WITNESS_OPERATION", "WitnessState", "witness_claims", "witness_fields"]

WITNESS_OPERATION = "audit.witness"

Head = tuple[str, int, str]  # chain, seq, hash


def witness_fields(heads: Mapping[str, tuple[int, str]], now: datetime) -> dict[str, Any]:
    """The stored fields of a witness record naming ``heads``."""
    return {
        "time": now,
        "request_id": "",
        "principal": "",
        "court": "",
        "roles": [],
        "case_number": None,
        "cases": [],
        "operation": WITNESS_OPERATION,
        "document_hash": None,
        "variables": {},
        "debtors": [],
        "debtor_keys": [],
        "agencies": [],
        "outcome": "ok",
        "code": None,
        "http_status": None,
        "duration_ms": None,
        "detail": {"witness": {c: [s, h] for c, (s, h) in sorted(heads.items())}},
    }


def witness_claims(record: StoredRecord) -> dict[str, tuple[int, str]]:
    """The heads a witness record vouches for (empty for any other record)."""
    if record.operation != WITNESS_OPERATION or not isinstance(record.detail, dict):
        return {}
    found = record.detail.get("witness")
    if not isinstance(found, dict):
        return {}
    claims: dict[str, tuple[int, str]] = {}
    for chain, head in found.items():
        if (
            isinstance(head, list)
            and len(head) == 2
            and isinstance(head[0], int)
            and isinstance(head[1], str)
        ):
            claims[str(chain)] = (head[0], head[1])
    return claims


class WitnessState:
    """One writer's memory of what it has witnessed, and when it should look again."""

    def __init__(self, chain: str, interval_s: float) -> None:
        self.chain = chain
        self.interval_s = interval_s
        self.written = 0  # witness records committed
        self._seen: dict[str, tuple[int, str]] = {}
        self._pending: dict[str, tuple[int, str]] = {}
        self._due = 0.0  # monotonic time of the next look; 0: at the first commit

    def due(self) -> bool:
        """Whether the next commit should read the other chains' heads."""
        return time.monotonic() >= self._due

    def record(self, heads: Iterable[Head]) -> Unsealed | None:
        """The witness record for ``heads`` read now, or None if nothing changed."""
        self._due = time.monotonic() + self.interval_s
        changed = {
            chain: (int(seq), str(digest))
            for chain, seq, digest in heads
            if chain != self.chain and int(seq) > 0 and self._seen.get(chain) != (seq, digest)
        }
        self._pending = changed
        if not changed:
            return None
        return Unsealed.of(witness_fields(changed, datetime.now(UTC)))

    def settled(self, committed: bool) -> None:
        """The commit carrying the last ``record`` ended (on disk, or not)."""
        if committed and self._pending:
            self._seen.update(self._pending)
            self.written += 1
        elif not committed:
            self._due = 0.0  # look again at the next commit
        self._pending = {}
