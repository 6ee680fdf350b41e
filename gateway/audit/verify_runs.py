"""Verifying the audit log on demand, one walk at a time per log: what ``auditVerification``
runs.

A walk reads every record of every chain (``gateway.audit.verify.verify_log``), so its
cost grows with the log (measured on SQLite: 5,000 records in about 0.2 s on a loaded
two-core machine): fine when an auditor asks, not for a query to poll. So a process runs
at most one walk per audit database at a time, and callers who asked while one was running
share the next walk rather than each starting their own: every answer comes from a walk that
began after its caller asked, and a burst of callers costs at most two walks.

Where the gateway signs tree heads, a walk also checks the log against the heads its witness
holds (``gateway.audit.head_verifier``), as ``liandong audit verify --witness`` does: each
head that fails, and each chain with records and no head, is a break naming the chain and
the head's size.
"""

from __future__ import annotations

import asyncio
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain import Break
from gateway.audit.head_verifier import registered
from gateway.audit.signed_head import HeadFormatError
from gateway.audit.verify import VerifyReport, verify_log
from gateway.audit.witnesses import WitnessUnavailable

__all__ = ["Verified", "verify_now"]


@dataclass(frozen=True, slots=True)
class Verified:
    """One walk's report and when it began (UTC)."""

    at: datetime
    report: VerifyReport


@dataclass(slots=True)
class _Runs:
    lock: asyncio.Lock
    started: int = 0  # walks begun
    last: tuple[int, Verified] | None = None  # the newest finished walk and its number


# Per audit database of this process; gone with its engine.
_RUNS: weakref.WeakKeyDictionary[AsyncEngine, _Runs] = weakref.WeakKeyDictionary()


async def verify_now(engine: AsyncEngine) -> Verified:
    """The report of a walk of the log in ``engine`` that began after this call."""
    runs = _RUNS.get(engine)
    if runs is None:
        runs = _RUNS[engine] = _Runs(asyncio.Lock())
    asked = runs.started  # walks numbered above this one began after we asked
    async with runs.lock:
        if runs.last is not None and runs.last[0] > asked:
            return runs.last[1]
        runs.started += 1
        number = runs.started
        at = datetime.now(UTC)
        report = await _with_heads(engine, await verify_log(engine))
        runs.last = (number, Verified(at, report))
        return runs.last[1]


async def _with_heads(engine: AsyncEngine, report: VerifyReport) -> VerifyReport:
    verifier = registered(engine)
    if verifier is None:
        return report
    try:
        heads = await verifier.check(engine)
    except (WitnessUnavailable, HeadFormatError) as err:
        # Heads that cannot be read vouch for nothing: say so rather than pass the log.
        unread = Break(0, f"signed tree heads at {verifier.where} could not be read: {err}")
        return VerifyReport(report.chains, (*report.breaks, unread))
    found = tuple(Break(p.size, p.text, p.chain) for p in heads.problems)
    return VerifyReport(report.chains, (*report.breaks, *found))
