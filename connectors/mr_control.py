"""Market regulation's control actions: equity freezes (``mocks/API.md``).

A mixin of ``MarketRegulationConnector``: ``POST /mr/api/v1/equity/controls`` with the
order's ``Idempotency-Key``, answered at once in the ``{code, msg, data}`` envelope.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import orjson

from connectors.control import ControlAction, ControlOrder, ControlReceipt, ReceiptStatus
from connectors.control_submit import AnswerShape, control_receipt, submit_order
from connectors.mr_envelope import AGENCY, envelope_code, failure_in, unwrap
from connectors.parsing import json_body
from gateway.errors import AgencyBadResponse

if TYPE_CHECKING:
    from connectors.http import AgencyHttp

__all__ = ["MarketRegulationControl", "order_body"]

PATH = "/mr/api/v1/equity/controls"
_ACTIONS = {ControlAction.FREEZE_EQUITY: "FREEZE", ControlAction.UNFREEZE_EQUITY: "UNFREEZE"}
ANSWER = AnswerShape(
    {
        "FROZEN": ReceiptStatus.COMPLETED,
        "UNFROZEN": ReceiptStatus.COMPLETED,
        "QUEUED": ReceiptStatus.QUEUED,
    },
    reference="freezeId",
    unknown="is not a known freeze status",
)


def order_body(order: ControlOrder) -> bytes:
    """The JSON body of an order; the same order always gives the same bytes."""
    return orjson.dumps(
        {
            "action": _ACTIONS[order.action],
            "personId": order.debtor_id,
            "companyCode": order.target,
            "court": order.court,
            "caseNumber": order.case_number,
            "documentNumber": order.document_number,
            "amount": None if order.amount is None else f"{order.amount:.2f}",
            "since": order.since.isoformat(),
            "until": order.until.isoformat() if order.until else None,
            "renewal": order.renewal,
        }
    )


class MarketRegulationControl:
    """Freeze and unfreeze equity stakes."""

    actions: ClassVar[frozenset[ControlAction]] = frozenset(_ACTIONS)
    _http: AgencyHttp

    async def submit(self, order: ControlOrder, idempotency_key: str) -> ControlReceipt:
        """Send ``order``; the agency answers with the freeze, or why it refused."""
        reply = await submit_order(
            self._http,
            AGENCY,
            PATH,
            order_body(order),
            idempotency_key,
            content_type="application/json",
            error_code=envelope_code,
            failure_in=failure_in,
        )
        return control_receipt(unwrap(json_body(reply, AGENCY)), ANSWER)

    async def poll(self, ticket: str) -> ControlReceipt:
        """Market regulation answers at once: a ticket from it is a bad response."""
        raise AgencyBadResponse(AGENCY, "market regulation issues no tickets")
