"""Public security's control actions: vehicle seizures and exit bans (``mocks/API.md``).

A mixin of ``PublicSecurityConnector``: one signed ``POST /ps/v1/controls`` per order, with
the order's ``Idempotency-Key``; the agency answers at once, so there are no tickets.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar
from urllib.parse import urlsplit

import orjson

from connectors.control import ControlAction, ControlOrder, ControlReceipt, ReceiptStatus
from connectors.control_submit import AnswerShape, control_receipt, submit_order
from connectors.parsing import Record, json_body, json_error_code
from connectors.ps_signing import PublicSecurityOptions, sign
from gateway.errors import AgencyBadResponse

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["PublicSecurityControl", "order_body"]

AGENCY = "public_security"
PATH = "/ps/v1/controls"
ANSWER = AnswerShape(
    {
        "DONE": ReceiptStatus.COMPLETED,
        "LIFTED": ReceiptStatus.COMPLETED,
        "QUEUED": ReceiptStatus.QUEUED,
    }
)


def order_body(order: ControlOrder) -> bytes:
    """The JSON body of an order; the same order always gives the same bytes."""
    body: dict[str, object] = {
        "action": order.action.value,
        "target": order.target,
        "subjectId": order.debtor_id,
        "court": order.court,
        "caseNumber": order.case_number,
        "documentNumber": order.document_number,
        "since": order.since.isoformat(),
        "until": order.until.isoformat() if order.until else None,
        "renewal": order.renewal,
    }
    if order.reason is not None:  # only lifts carry one; other orders' bytes stay as they were
        body["reason"] = order.reason
    return orjson.dumps(body)


class PublicSecurityControl:
    """Seize and release vehicles, ban and allow exit."""

    actions: ClassVar[frozenset[ControlAction]] = frozenset(
        {
            ControlAction.SEIZE_VEHICLE,
            ControlAction.LIFT_VEHICLE_SEIZURE,
            ControlAction.EXIT_BAN,
            ControlAction.LIFT_EXIT_BAN,
        }
    )
    _http: AgencyHttp
    options: PublicSecurityOptions

    async def submit(self, order: ControlOrder, idempotency_key: str) -> ControlReceipt:
        """Send ``order``; the agency answers with the control, or with why it refused."""

        body = order_body(order)
        signed_path = urlsplit(self._http.url(PATH)).path
        timestamp = int(time.time())
        secret = self.options.secret.get_secret_value().encode()
        headers = {
            "X-PS-Client": self.options.client_id,
            "X-PS-Timestamp": str(timestamp),
            "X-PS-Signature": sign(secret, "POST", signed_path, timestamp, body),
        }
        reply = await submit_order(
            self._http,
            AGENCY,
            PATH,
            body,
            idempotency_key,
            content_type="application/json",
            headers=headers,
            error_code=json_error_code,
        )
        return control_receipt(Record(AGENCY, json_body(reply, AGENCY), ""), ANSWER)

    async def poll(self, ticket: str) -> ControlReceipt:
        """Public security answers at once: a ticket from it is a bad response."""
        raise AgencyBadResponse(AGENCY, "public security issues no tickets")
