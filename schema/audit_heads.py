"""``auditHeads``: the newest signed tree head of each audit chain, as the witness holds it.

For auditors (and the auditor's console): a head is what a court can hold the gateway to,
checked by ``liandong audit verify`` (see docs/architecture.md, "Signed tree heads").
"""

from __future__ import annotations

import base64
from datetime import datetime

import strawberry
from strawberry.types import Info

from gateway.audit.signed_head import HeadFormatError
from gateway.audit.signed_head import SignedTreeHead as Head
from gateway.audit.witnesses import WitnessUnavailable
from gateway.errors import AuditUnavailable, Forbidden
from resolvers.context import RequestContext

__all__ = ["AuditHeadsQuery", "SignedTreeHead"]

AUDITOR = "auditor"


@strawberry.type(description="A signed RFC 6962 tree head of one audit chain.")
class SignedTreeHead:
    chain: str = strawberry.field(description="The chain (one per writer) the head is of.")
    size: int = strawberry.field(description="How many records of the chain the tree covers.")
    root: str = strawberry.field(description="The Merkle root over those records, 64 hex digits.")
    time: datetime = strawberry.field(description="When the head was taken (UTC).")
    key_id: str = strawberry.field(
        description="The signing key's id: the first 16 bytes of SHA-256 of its public key, hex."
    )
    signature: str = strawberry.field(
        description="Ed25519 signature over the head's canonical text, in base64."
    )

    @classmethod
    def of(cls, head: Head) -> SignedTreeHead:
        return cls(
            chain=head.chain,
            size=head.size,
            root=head.root,
            time=head.time,
            key_id=head.key_id,
            signature=base64.b64encode(head.signature).decode(),
        )


@strawberry.type
class AuditHeadsQuery:
    @strawberry.field(
        description="The newest signed tree head of each audit chain, read from the witness; "
        "for the auditor role only."
    )
    async def audit_heads(self, info: Info[RequestContext, None]) -> list[SignedTreeHead]:
        ctx = info.context
        if AUDITOR not in ctx.principal.roles:
            raise Forbidden("the audit log is open to auditors only", reason="role")
        if ctx.audit_heads is None:
            return []  # heads are not signed on this gateway
        try:
            heads = await ctx.audit_heads.newest()
        except (WitnessUnavailable, HeadFormatError, OSError) as err:
            raise AuditUnavailable("the witness of the signed tree heads cannot be read") from err
        return [SignedTreeHead.of(h) for h in heads]
