"""Steps that control-action tests share: an order's variables, its refusal, the case's
value under control, and the seized car that covers a small debt.

Each step is driven through the public API of an :class:`AssistanceGateway`, as a court
system would; nothing here reaches into the store.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mocks.records import CaseRecord
from tests.integration.assistance_requests import AssistanceGateway

__all__ = [
    "CAR_VALUE",
    "SMALL_DEBT",
    "VALUE",
    "SeizedCar",
    "case_value",
    "error_of",
    "order",
    "owing_less_than_the_car",
    "seize_the_car",
]

VALUE = "query($n: String!) { case(number: $n) { amountDue amountOwed controlledValue } }"
# The seed-7 world's first debtor owns a car estimated at ¥30,000: seized, it covers a
# ¥20,000 debt, so that any further control of the case is an over-seizure.
SMALL_DEBT = Decimal("20000.00")
CAR_VALUE = "30000.00"


def order(case: CaseRecord, action: str, target: str, **extra: Any) -> dict[str, Any]:
    """The variables of ``requestAssistance`` for the case's first debtor."""
    return {
        "caseNumber": case.number,
        "debtorId": case.debtor_ids[0],
        "action": action,
        "target": target,
        "documentNumber": extra.pop("documentNumber", f"DOC-{action}-{target}"),
        **extra,
    }


def error_of(body: dict[str, Any]) -> dict[str, Any]:
    """The extensions of the answer's first error (the answer must have one)."""
    assert body.get("errors"), body
    ext: dict[str, Any] = body["errors"][0]["extensions"]
    return ext


async def case_value(ag: AssistanceGateway, number: str) -> dict[str, str]:
    """The case's amount due, amount owed and value under control."""
    _, body = await ag.gw.post(VALUE, {"n": number})
    value: dict[str, str] = body["data"]["case"]
    return value


def owing_less_than_the_car(case: CaseRecord) -> CaseRecord:
    """``case`` with ¥20,000 due: its first debtor's car covers it once seized."""
    return dataclasses.replace(case, amount_due=SMALL_DEBT)


@dataclass(frozen=True)
class SeizedCar:
    """The car seized for the case, and the equity stake a further control would take."""

    vin: str
    stake: str  # the first debtor's first company: a freeze of it is the over-seizure
    request_id: str
    state: dict[str, Any]  # the seizure's state once COMPLETED


async def seize_the_car(ag: AssistanceGateway, case: CaseRecord, **extra: Any) -> SeizedCar:
    """Seize the first debtor's first car (``extra``: more order fields, e.g. ``until``)
    and wait until the agency has carried it out."""
    debtor = case.debtor_ids[0]
    vin = ag.world.vehicles_of(debtor)[0].vin
    stake = ag.world.roles_of(debtor)[0].company_code
    rid = await ag.carry_out(order(case, "SEIZE_VEHICLE", vin, **extra))
    return SeizedCar(vin, stake, rid, await ag.state(rid))
