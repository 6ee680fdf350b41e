"""Legal limits on control actions and restrictions, as pure functions.

Every refusal is an ``InvalidInput`` naming the input field and, in ``extensions.rule``,
the rule it breaks, so that a client can show the officer which provision applies:

- Terms of controls (最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定, art. 29;
  民诉法解释 art. 485): movables such as vehicles at most two years
  (``MAX_TERM_MOVABLE_2Y``), real estate at most three (``MAX_TERM_REAL_ESTATE_3Y``), other
  property rights such as equity at most three (``MAX_TERM_PROPERTY_RIGHT_3Y``). A renewal
  (续行) must be made before the control expires (``RENEWAL_BEFORE_EXPIRY``) and runs at
  most the same term again.

The dishonest-debtor list's rules live in ``gateway.domain.dishonest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from connectors.control import ControlAction
from connectors.domain import AssetKind
from gateway.domain.control_lapse import check_renewal_in_time
from gateway.errors import InvalidInput

__all__ = [
    "MAX_TERM_YEARS",
    "PriorControl",
    "add_years",
    "age_on",
    "check_control_term",
    "max_term_rule",
]

# Asset kind -> (years, rule name).
MAX_TERM_YEARS: dict[AssetKind, tuple[int, str]] = {
    AssetKind.REAL_ESTATE: (3, "MAX_TERM_REAL_ESTATE_3Y"),
    AssetKind.EQUITY: (3, "MAX_TERM_PROPERTY_RIGHT_3Y"),
    AssetKind.VEHICLE: (2, "MAX_TERM_MOVABLE_2Y"),
}


@dataclass(frozen=True, slots=True)
class PriorControl:
    """The control a renewal continues: when it ends."""

    until: date


def add_years(day: date, years: int) -> date:
    """``day`` moved by whole years; 29 February becomes the 28th."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def max_term_rule(kind: AssetKind) -> tuple[int, str]:
    """The longest term of a control on ``kind`` and the rule's name."""
    return MAX_TERM_YEARS[kind]


def _refuse(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(field, f"{message} ({rule})", rule=rule)


def check_control_term(
    action: ControlAction,
    since: date | None,
    until: date | None,
    today: date,
    prior: PriorControl | None = None,
    *,
    field: str = "input",
) -> tuple[date, date | None]:
    """The control's (since, until), defaults filled in, or the rule it breaks.

    A control without an end date gets the legal maximum; a renewal starts the day after
    the control it continues. Lifts and exit bans have no legal maximum term.
    """
    if prior is not None:
        if action.is_lift or action.asset_kind is None:
            raise _refuse(f"{field}.renewalOf", "RENEWAL_OF_CONTROL", "only controls are renewed")
        check_renewal_in_time(prior.until, today, field=f"{field}.renewalOf")
        since = since or prior.until + timedelta(days=1)
    start = since or today
    if start < today:
        raise _refuse(f"{field}.since", "START_NOT_IN_PAST", "a control cannot start in the past")
    if until is not None and until <= start:
        raise _refuse(f"{field}.until", "TERM_ENDS_AFTER_START", "must be after the start date")
    kind = action.asset_kind
    if action.is_lift or kind is None:
        if action.is_lift and until is not None:
            raise _refuse(f"{field}.until", "LIFT_HAS_NO_TERM", "a lift has no end date")
        return start, until
    years, rule = MAX_TERM_YEARS[kind]
    longest = add_years(start, years)
    if until is None:
        return start, longest
    if until > longest:
        raise _refuse(
            f"{field}.until",
            rule,
            f"a control on {kind.value.lower().replace('_', ' ')} runs at most {years} years "
            f"(until {longest.isoformat()} at the latest)",
        )
    return start, until
