"""The over-seizure guard (超标的查封), as pure arithmetic over a case's requests.

Two figures per case:

- *controlled value*: what is held now — completed seizures and freezes not since lifted;
- *committed value*: that plus what is on its way (pending approval, approved, submitted)
  and what may be held unknown to us (failed: sent, but no answer ever came back). The
  guard uses this one, so that a burst of requests cannot each pass it alone, and a lost
  answer cannot make room for a second seizure.

A new control is refused once the committed value covers the amount due. Below that any
asset may be taken, even one worth more than the remainder (an indivisible flat or car).
Equity is divisible: a freeze is limited to the remainder unless the court says otherwise.
Queued seizures (轮候) hold nothing until the one ahead is lifted, so they count for nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from connectors.control import ControlAction
from gateway.errors import OverSeizure
from gateway.store_assistance import AssistanceRow
from gateway.store_assistance_schema import ACTIVE_STATUSES, AssistanceStatus

__all__ = ["GuardResult", "check_guard", "committed_value", "controlled_value", "held_value"]

ZERO = Decimal("0.00")


def held_value(row: AssistanceRow) -> Decimal:
    """What the request holds (or will): its amount if limited, else the asset's value."""
    if row.amount is not None:
        return row.amount
    return row.target_value if row.target_value is not None else ZERO


def _sum(rows: Iterable[AssistanceRow], statuses: frozenset[AssistanceStatus]) -> Decimal:
    # One figure per asset: a renewal continues the control it renews, it adds nothing.
    per_target: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        action = ControlAction(row.action)
        if not action.holds_value or row.status not in statuses or row.lifted_by is not None:
            continue
        key = (row.action, row.target)
        per_target[key] = max(per_target.get(key, ZERO), held_value(row))
    return sum(per_target.values(), ZERO)


def controlled_value(rows: Iterable[AssistanceRow]) -> Decimal:
    """The estimated value under effective control for the case now."""
    return _sum(rows, frozenset({AssistanceStatus.COMPLETED}))


def committed_value(rows: Iterable[AssistanceRow], exclude: str | None = None) -> Decimal:
    """Controlled value plus requests on their way (``exclude``: the one being decided)."""
    return _sum((r for r in rows if r.id != exclude), ACTIVE_STATUSES)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The guard's verdict: ``overridden`` if it would have refused but a judge said go."""

    committed: Decimal
    overridden: bool


def check_guard(
    action: ControlAction,
    amount_due: Decimal,
    rows: Iterable[AssistanceRow],
    *,
    override_reason: str | None,
    exclude: str | None = None,
    renewal: bool = False,
) -> GuardResult:
    """Refuse with ``OVER_SEIZURE`` when the case's committed value covers the amount due."""
    committed = committed_value(rows, exclude)
    if not action.holds_value or renewal or committed < amount_due:
        return GuardResult(committed, overridden=False)
    if override_reason and override_reason.strip():
        return GuardResult(committed, overridden=True)
    raise OverSeizure(
        f"the case already holds {committed} of {amount_due} due: a further control would "
        "exceed what the judgment needs (a judge may override with a written reason)",
        rule="OVER_SEIZURE",
        committedValue=str(committed),
        amountDue=str(amount_due),
    )
