"""The rules a new assistance request is checked against: who may act, keys, duplicates."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.control import ControlAction
from gateway.assistance.effects import Actor
from gateway.domain.assistance_rows import AssistanceRow
from gateway.domain.assistance_status import AssistanceStatus
from gateway.domain.control_lapse import has_lapsed
from gateway.errors import Conflict, InvalidInput
from gateway.store.cases import CaseRow

__all__ = [
    "MAX_TEXT",
    "RequestSpec",
    "TargetFacts",
    "clean_text",
    "derive_key",
    "fingerprint",
    "is_judge_of",
    "may_approve",
    "may_request",
    "refuse_duplicate",
]

MAX_TEXT = 2000


@dataclass(frozen=True, slots=True)
class RequestSpec:
    """A request as the client gave it (field names as in the GraphQL input)."""

    case_number: str
    debtor_id: str
    action: ControlAction
    target: str
    document_number: str
    since: date | None = None
    until: date | None = None
    amount: Decimal | None = None
    renewal_of: str | None = None
    idempotency_key: str | None = None
    override_reason: str | None = None
    reason: str | None = None  # a lift's written reason (liftRestriction of an exit ban)


@dataclass(frozen=True, slots=True)
class TargetFacts:
    """What the agency's own records say about the target (looked up before requesting):
    its estimate, and the mortgages and earlier seizures' claims that rank ahead of it."""

    value: Decimal | None
    encumbrance: Decimal | None = None


def derive_key(case_number: str, action: str, target: str, document_number: str) -> str:
    """The idempotency key of a request sent without one: the same order, the same key."""
    raw = "\x1f".join((case_number, action, target, document_number)).encode()
    return "derived:" + hashlib.sha256(raw).hexdigest()


def is_judge_of(actor: Actor, case: CaseRow) -> bool:
    """A judge assigned to the case or sitting at its court."""
    return actor.has_role("judge") and (
        actor.officer_id in case.judge_ids or actor.court == case.court
    )


def may_approve(actor: Actor, case: CaseRow) -> bool:
    """Rule ``JUDGE_APPROVES``: the case's own judge, or the court's enforcement bureau head.

    A control (查封、扣押、冻结) is a measure of the case: it is approved by the judge who
    handles it (承办法官) or by the head of the enforcement bureau (执行局长) — not by any
    judge who happens to sit at the same court (法发〔2011〕15号, 执行权合理配置和科学运行).
    """
    if not actor.has_role("judge"):
        return False
    if actor.officer_id in case.judge_ids:
        return True
    return actor.has_role("bureau_head") and actor.court == case.court


def may_request(actor: Actor, case: CaseRow) -> bool:
    """Officers on the case, its judges, and the court's own system."""
    if actor.has_role("officer") and actor.officer_id in case.officer_ids:
        return True
    return is_judge_of(actor, case) or (
        actor.has_role("court_system") and actor.court == case.court
    )


def clean_text(value: str | None, field: str, *, required: bool) -> str | None:
    """``value`` stripped; empty is None, or an error if ``required``; long is an error."""
    text = (value or "").strip()
    if not text:
        if required:
            raise InvalidInput(field, "must not be empty")
        return None
    if len(text) > MAX_TEXT:
        raise InvalidInput(field, f"at most {MAX_TEXT} characters")
    return text


def fingerprint(spec: RequestSpec) -> str:
    """What an idempotency key stands for: the order exactly as the client gave it."""
    order = {
        "case": spec.case_number,
        "debtor": spec.debtor_id,
        "action": spec.action.value,
        "target": spec.target,
        "document": spec.document_number,
        "since": spec.since.isoformat() if spec.since else None,
        "until": spec.until.isoformat() if spec.until else None,
        "amount": str(spec.amount) if spec.amount is not None else None,
        "renewalOf": spec.renewal_of,
    }
    if spec.reason is not None:  # absent rather than null: older keys keep their fingerprint
        order["reason"] = spec.reason
    return hashlib.sha256(json.dumps(order, sort_keys=True).encode()).hexdigest()


def refuse_duplicate(spec: RequestSpec, rows: list[AssistanceRow], today: date) -> None:
    """``CONFLICT`` if the case already has a live control of the same kind on the target.

    A lapsed control (查扣冻规定 art. 27) is not live: the asset is free to be taken again.
    """
    if spec.action.is_lift or spec.renewal_of is not None:
        return
    live = {
        AssistanceStatus.PENDING_APPROVAL,
        AssistanceStatus.APPROVED,
        AssistanceStatus.SUBMITTED,
        AssistanceStatus.COMPLETED,
        AssistanceStatus.QUEUED,
    }
    for row in rows:
        if (
            row.action == spec.action.value
            and row.target == spec.target
            and row.status in live
            and row.lifted_by is None
            and not has_lapsed(row, today)
        ):
            raise Conflict(
                f"request {row.id} already controls this target in the case ({row.status.value})",
                rule="ALREADY_CONTROLLED",
                requestId=row.id,
            )
