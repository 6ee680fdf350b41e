"""``auditVerification``: is the audit log intact? Checked when asked, for auditors only.

Each call walks the whole log as ``liandong audit verify`` does (every chain's hashes and
index rows, its head row, and the other chains' witness records of it; see
``gateway/audit/verify.py``), one walk at a time per process (``gateway/audit/verify_runs``).
Its cost grows with the log: the console asks once per visit of the auditor's page. Where
the gateway signs tree heads, the walk also checks the log against every head its witness
holds, as ``liandong audit verify --witness`` does (``gateway/audit/head_verifier.py``): a
head that fails, or a chain the witness holds no head of, is a break naming the chain and
the head's size. ``auditHeads`` gives the newest heads.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.types import Info

from gateway.audit.chain import Break
from gateway.audit.verify import ChainState
from gateway.audit.verify_runs import verify_now
from gateway.errors import AuditUnavailable, Forbidden
from resolvers.context import RequestContext

__all__ = ["AuditBreak", "AuditChainStatus", "AuditVerification", "AuditVerificationQuery"]

AUDITOR = "auditor"


@strawberry.type(description="Where an audit chain breaks: its first bad record.")
class AuditBreak:
    chain: str | None = strawberry.field(
        description="The chain (one per writer) that breaks; null if no chain can be named."
    )
    seq: int = strawberry.field(
        description="The first record of the chain that is wrong; for a signed tree head "
        "that does not hold, the head's size."
    )
    reason: str = strawberry.field(
        description="What is wrong with it: missing, moved, altered, not as witnessed, or "
        "not as a signed tree head says."
    )

    @classmethod
    def of(cls, found: Break) -> AuditBreak:
        return cls(chain=found.chain, seq=found.seq, reason=found.reason)


@strawberry.type(description="One audit chain as the check found it.")
class AuditChainStatus:
    chain: str = strawberry.field(description="The chain's name (one per writer).")
    size: int = strawberry.field(description="Records in the chain, by its head row.")
    checked: int = strawberry.field(
        description="Records checked good, from the first; below `size` where it breaks."
    )
    head_hash: str = strawberry.field(description="The hash of the chain's last record, hex.")

    @classmethod
    def of(cls, state: ChainState) -> AuditChainStatus:
        return cls(
            chain=state.chain, size=state.size, checked=state.checked, head_hash=state.head_hash
        )


@strawberry.type(description="The result of checking the whole audit log.")
class AuditVerification:
    verified_at: datetime = strawberry.field(description="When the check began (UTC).")
    ok: bool = strawberry.field(description="Every chain intact and as the others witnessed.")
    records: int = strawberry.field(description="Records checked good, over all chains.")
    chains: list[AuditChainStatus] = strawberry.field(description="Every chain, by name.")
    first_break: AuditBreak | None = strawberry.field(
        description="The first break found; null when the log is intact."
    )
    breaks: list[AuditBreak] = strawberry.field(
        description="Every break found: at most one per chain (its first), and each witness "
        "claim that no longer holds."
    )


@strawberry.type
class AuditVerificationQuery:
    @strawberry.field(
        description="Check the whole audit log now (hash chains, index, heads, witness "
        "records) and say whether it is intact; it reads every record, so ask once per "
        "visit, not on a timer. For the auditor role only."
    )
    async def audit_verification(self, info: Info[RequestContext, None]) -> AuditVerification:
        ctx = info.context
        if AUDITOR not in ctx.principal.roles:
            raise Forbidden("the audit log is open to auditors only", reason="role")
        if ctx.audit_search is None:
            raise AuditUnavailable("the audit log is not kept on this gateway")
        done = await verify_now(ctx.audit_search.engine)
        report = done.report
        return AuditVerification(
            verified_at=done.at,
            ok=report.ok,
            records=report.checked,
            chains=[AuditChainStatus.of(c) for c in report.chains],
            first_break=None if report.broken is None else AuditBreak.of(report.broken),
            breaks=[AuditBreak.of(b) for b in report.breaks],
        )
