"""Control actions (查控): the second interface an agency may plug in through.

A look-up connector (``connectors/base.py``) reads; a control connector also *acts*: it
seizes, freezes, bans exit and lifts again. Every order travels with an idempotency key
that the agency honours, so sending the same order twice — after a lost response, a
restart, a second gateway instance — is carried out once. Agencies that act asynchronously
answer ``PENDING`` with a ticket, which ``poll`` follows until it settles.

Which connector carries out an action is found with ``control_connector`` over the running
connectors: nothing outside this module names an agency for an action.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import ClassVar, Protocol, runtime_checkable

from connectors.domain import AssetKind, Facet

__all__ = [
    "ControlAction",
    "ControlConnector",
    "ControlOrder",
    "ControlReceipt",
    "ReceiptStatus",
    "control_connector",
]


class ControlAction(enum.StrEnum):
    """What an assistance request (协助执行) asks an agency to do."""

    SEIZE_REAL_ESTATE = "SEIZE_REAL_ESTATE"  # 查封不动产
    LIFT_REAL_ESTATE_SEIZURE = "LIFT_REAL_ESTATE_SEIZURE"  # 解除查封
    FREEZE_EQUITY = "FREEZE_EQUITY"  # 冻结股权
    UNFREEZE_EQUITY = "UNFREEZE_EQUITY"  # 解除冻结
    SEIZE_VEHICLE = "SEIZE_VEHICLE"  # 查封 / 扣押机动车
    LIFT_VEHICLE_SEIZURE = "LIFT_VEHICLE_SEIZURE"
    EXIT_BAN = "EXIT_BAN"  # 限制出境
    LIFT_EXIT_BAN = "LIFT_EXIT_BAN"

    @property
    def is_lift(self) -> bool:
        """True for the actions that release an earlier control."""
        return self in _LIFTS

    @property
    def lifts(self) -> ControlAction | None:
        """The control this action releases (``None`` for a control itself)."""
        return _LIFTS.get(self)

    @property
    def lifted_by(self) -> ControlAction | None:
        """The action that releases this control (``None`` for a lift)."""
        return next((lift for lift, control in _LIFTS.items() if control is self), None)

    @property
    def asset_kind(self) -> AssetKind | None:
        """The kind of asset the action is about; ``None`` for exit bans (about a person)."""
        return _ASSET_KINDS.get(self.lifts or self)

    @property
    def facet(self) -> Facet:
        """Where the target is found before the order is sent: an asset, or an exit ban."""
        return Facet.ASSETS if self.asset_kind is not None else Facet.EXIT_BANS

    @property
    def holds_value(self) -> bool:
        """True if completing the action puts property under control (the guard counts it)."""
        return self.asset_kind is not None and not self.is_lift


_LIFTS = {
    ControlAction.LIFT_REAL_ESTATE_SEIZURE: ControlAction.SEIZE_REAL_ESTATE,
    ControlAction.UNFREEZE_EQUITY: ControlAction.FREEZE_EQUITY,
    ControlAction.LIFT_VEHICLE_SEIZURE: ControlAction.SEIZE_VEHICLE,
    ControlAction.LIFT_EXIT_BAN: ControlAction.EXIT_BAN,
}
_ASSET_KINDS = {
    ControlAction.SEIZE_REAL_ESTATE: AssetKind.REAL_ESTATE,
    ControlAction.FREEZE_EQUITY: AssetKind.EQUITY,
    ControlAction.SEIZE_VEHICLE: AssetKind.VEHICLE,
}


class ReceiptStatus(enum.StrEnum):
    """How an agency answered an order (or a poll of its ticket)."""

    PENDING = "PENDING"  # accepted, not carried out yet: poll the ticket
    COMPLETED = "COMPLETED"  # carried out and effective
    QUEUED = "QUEUED"  # carried out as a queued seizure (轮候): another court was first
    REJECTED = "REJECTED"  # the agency refused it for good


@dataclass(frozen=True, slots=True)
class ControlOrder:
    """One order as the court issues it (协助执行通知书)."""

    action: ControlAction
    target: str  # certificate no., VIN, company code, the person's id, or an exit ban's id
    debtor_id: str
    court: str
    case_number: str
    document_number: str
    since: date
    until: date | None = None
    amount: Decimal | None = None  # equity: the value to freeze, when less than the stake
    renewal: bool = False  # 续行查封: extends this case's own control on the target
    reason: str | None = None  # a lift's written reason, kept by the agency with the lift


@dataclass(frozen=True, slots=True)
class ControlReceipt:
    """The agency's answer; ``reply`` is its short message, never its raw body."""

    status: ReceiptStatus
    reference: str | None = None  # the agency's id of the control (e.g. an exit ban's id)
    ticket: str | None = None
    queue_position: int = 0
    reply: str = ""


@runtime_checkable
class ControlConnector(Protocol):
    """An agency that carries out control actions, exactly once per idempotency key."""

    agency: ClassVar[str]
    actions: ClassVar[frozenset[ControlAction]]

    async def submit(self, order: ControlOrder, idempotency_key: str) -> ControlReceipt:
        """Send ``order``; the same key always names the same execution at the agency.

        Raises ``AgencyRejected`` when the agency refuses, other ``AgencyError``s when the
        outcome is unknown (the caller re-sends with the same key).
        """
        ...

    async def poll(self, ticket: str) -> ControlReceipt:
        """The state of an asynchronous order; ``PENDING`` until it settles."""
        ...


def control_connector(
    action: ControlAction, connectors: Iterable[object]
) -> ControlConnector | None:
    """The first running connector that carries out ``action``, if any."""
    for connector in connectors:
        if isinstance(connector, ControlConnector) and action in connector.actions:
            return connector
    return None
