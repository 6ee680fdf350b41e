"""The over-seizure guard (超标的查封, 查扣冻规定 art. 19), as pure arithmetic over a case's
requests.

Two figures per case, each on the *net* value of what is held — the estimate less the
mortgages and earlier seizures' claims that rank ahead of this case's (``encumbrance``):

- *controlled value*: what is held now — completed seizures and freezes not since lifted;
- *committed value*: that plus what is on its way (pending approval, approved, submitted)
  and what may be held unknown to us (failed: sent, but no answer ever came back). The
  guard uses this one, so that a burst of requests cannot each pass it alone, and a lost
  answer cannot make room for a second seizure.

They are weighed against all the debtor owes: the judgment's sum plus enforcement costs and
late interest (``gateway/store/case_costs.py``). A new control is refused once the
committed value covers that (``OVER_SEIZURE``). Below it, an indivisible asset (a flat, a
car) worth clearly more than what is still owed may be taken whole only where no other
property will do (``INDIVISIBLE_ASSET_EXCEEDS``), which a judge states in writing as an
override. Equity is divisible: a freeze is limited to the remainder (partial seizure).
Queued seizures (轮候) hold nothing until the one ahead is lifted, so they count for nothing.
A control whose term has ended without renewal has lapsed (查扣冻规定 art. 27,
``gateway/domain/control_lapse.py``) and counts for nothing either.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from connectors.control import ControlAction
from gateway.domain.assistance_rows import AssistanceRow
from gateway.domain.assistance_status import ACTIVE_STATUSES, AssistanceStatus
from gateway.domain.control_lapse import has_lapsed
from gateway.errors import OverSeizure

__all__ = [
    "CLEAR_EXCESS_FACTOR",
    "GuardResult",
    "check_guard",
    "committed_value",
    "controlled_value",
    "held_value",
    "net_value",
]

ZERO = Decimal("0.00")
# 明显超标: an indivisible asset whose net value is more than this many times what is
# still owed is clearly more than the judgment needs.
CLEAR_EXCESS_FACTOR = Decimal(2)
_INDIVISIBLE = frozenset({ControlAction.SEIZE_REAL_ESTATE, ControlAction.SEIZE_VEHICLE})


def net_value(value: Decimal | None, encumbrance: Decimal | None) -> Decimal | None:
    """The estimate less what ranks ahead (mortgages, earlier claims); never below zero."""
    if value is None:
        return None
    return max(ZERO, value - (encumbrance or ZERO))


def held_value(row: AssistanceRow) -> Decimal:
    """What the request holds (or will): the asset's net value, or less if limited."""
    net = net_value(row.target_value, row.encumbrance)
    if row.amount is not None:
        return row.amount if net is None else min(row.amount, net)
    return net if net is not None else ZERO


def _sum(
    rows: Iterable[AssistanceRow], statuses: frozenset[AssistanceStatus], today: date
) -> Decimal:
    # One figure per asset: a renewal continues the control it renews, it adds nothing.
    per_target: dict[tuple[str, str], Decimal] = {}
    for row in rows:
        action = ControlAction(row.action)
        if not action.holds_value or row.status not in statuses or row.lifted_by is not None:
            continue
        if has_lapsed(row, today):
            continue
        key = (row.action, row.target)
        per_target[key] = max(per_target.get(key, ZERO), held_value(row))
    return sum(per_target.values(), ZERO)


def controlled_value(rows: Iterable[AssistanceRow], today: date) -> Decimal:
    """The estimated value under effective control for the case on ``today``."""
    return _sum(rows, frozenset({AssistanceStatus.COMPLETED}), today)


def committed_value(
    rows: Iterable[AssistanceRow], today: date, exclude: str | None = None
) -> Decimal:
    """Controlled value plus requests on their way (``exclude``: the one being decided)."""
    return _sum((r for r in rows if r.id != exclude), ACTIVE_STATUSES, today)


@dataclass(frozen=True, slots=True)
class GuardResult:
    """The guard's verdict: ``overridden`` if it would have refused but a judge said go."""

    committed: Decimal
    overridden: bool


def check_guard(
    action: ControlAction,
    owed: Decimal,
    rows: Iterable[AssistanceRow],
    today: date,
    *,
    override_reason: str | None,
    value: Decimal | None = None,
    exclude: str | None = None,
    renewal: bool = False,
) -> GuardResult:
    """Refuse a control the judgment does not need (查扣冻规定 art. 19).

    ``OVER_SEIZURE`` when the case's committed value already covers ``owed`` (due, costs and
    interest); ``INDIVISIBLE_ASSET_EXCEEDS`` when ``value`` (the target's net value) of an
    indivisible asset is more than ``CLEAR_EXCESS_FACTOR`` times what is still owed — it may
    be taken whole only where no other property will do, which a judge states as the
    override reason.
    """
    committed = committed_value(rows, today, exclude)
    if not action.holds_value or renewal:
        return GuardResult(committed, overridden=False)
    remainder = owed - committed
    if remainder <= 0:
        rule = "OVER_SEIZURE"
        message = (
            f"the case already holds {committed} of {owed} owed: a further control would "
            "exceed what the judgment needs (a judge may override with a written reason)"
        )
    elif action in _INDIVISIBLE and value is not None and value > CLEAR_EXCESS_FACTOR * remainder:
        rule = "INDIVISIBLE_ASSET_EXCEEDS"
        message = (
            f"the asset's net value {value} is clearly more than the {remainder} still owed; "
            "an indivisible asset is taken whole only where no other property will do "
            "(a judge states so as the override reason)"
        )
    else:
        return GuardResult(committed, overridden=False)
    if override_reason and override_reason.strip():
        return GuardResult(committed, overridden=True)
    raise OverSeizure(
        f"{message} ({rule})",
        rule=rule,
        committedValue=str(committed),
        amountDue=str(owed),
        **({} if value is None else {"netValue": str(value)}),
    )
