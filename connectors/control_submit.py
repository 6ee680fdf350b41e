"""Sending a control order and reading the answer: one helper each, for every agency.

Every control connector posts its order with the order's ``Idempotency-Key`` (so a resend
after a lost answer is carried out once) and turns a refused status into its
``AgencyError``, keeping the agency's own error code when its body names one
(``submit_order``). Every agency answers a seizure or freeze with the same shape under its
own names: a status (done, queued behind another court's control, or refused), the
control's id, its queue position (轮候) and, when refused, a reason (``control_receipt``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from connectors.control import ControlReceipt, ReceiptStatus
from connectors.parsing import Record, error_for_status

if TYPE_CHECKING:
    from connectors.http import AgencyHttp, FailureIn, HttpReply

__all__ = ["AnswerShape", "control_receipt", "raise_for_status", "submit_order"]

# The agency's error code in a refused reply's body, if it names one.
ErrorCode = Callable[["HttpReply"], str | None]


@dataclass(frozen=True, slots=True)
class AnswerShape:
    """Where one agency puts the parts of its answer to a control order."""

    statuses: Mapping[str, ReceiptStatus]  # the agency's words for the receipt's status
    status: str = "status"
    reference: str = "controlId"
    queue: str = "queuePosition"
    reason: str = "reason"  # of a refusal
    unknown: str = "is not a known control status"  # said of a status not in ``statuses``


def control_receipt(
    answer: Record, shape: AnswerShape, *, ticket: str | None = None
) -> ControlReceipt:
    """The receipt ``answer`` stands for; a field missing, mistyped or unknown is
    ``AgencyBadResponse`` naming it. ``ticket``: the ticket the answer settles, if any."""
    said = answer.text(shape.status)
    status = shape.statuses.get(said)
    if status is None:
        raise answer.bad(shape.status, shape.unknown)
    if status is ReceiptStatus.REJECTED:
        return ControlReceipt(status, ticket=ticket, reply=answer.opt_text(shape.reason) or said)
    return ControlReceipt(
        status,
        reference=answer.text(shape.reference),
        ticket=ticket,
        queue_position=answer.integer(shape.queue, minimum=0),
        reply=said,
    )


def raise_for_status(reply: HttpReply, agency: str, error_code: ErrorCode | None = None) -> None:
    """Raise the ``AgencyError`` a non-2xx reply means, with the agency's code if it gave one."""
    ok = 200 <= reply.status < 300
    code = None if ok or error_code is None else error_code(reply)
    error = error_for_status(reply, agency, code)
    if error is not None:
        raise error


async def submit_order(
    http: AgencyHttp,
    agency: str,
    path: str,
    body: bytes,
    idempotency_key: str,
    *,
    content_type: str,
    headers: Mapping[str, str] | None = None,
    error_code: ErrorCode | None = None,
    failure_in: FailureIn | None = None,
) -> HttpReply:
    """POST an order's ``body`` with its key; the 2xx reply, or the error its status means.

    ``failure_in`` finds an agency failing inside a 2xx reply (retried like a 5xx).
    """
    reply = await http.request(
        "POST",
        path,
        body=body,
        headers={"Content-Type": content_type, **(headers or {})},
        idempotency_key=idempotency_key,
        failure_in=failure_in,
    )
    raise_for_status(reply, agency, error_code)
    return reply
