"""Legal limits on control actions and restrictions, as pure functions.

Every refusal is an ``InvalidInput`` naming the input field and, in ``extensions.rule``,
the rule it breaks, so that a client can show the officer which provision applies:

- Terms of controls (最高人民法院关于人民法院民事执行中查封、扣押、冻结财产的规定, art. 29;
  民诉法解释 art. 485): movables such as vehicles at most two years
  (``MAX_TERM_MOVABLE_2Y``), real estate at most three (``MAX_TERM_REAL_ESTATE_3Y``), other
  property rights such as equity at most three (``MAX_TERM_PROPERTY_RIGHT_3Y``). A renewal
  (续行) must be made before the control expires (``RENEWAL_BEFORE_EXPIRY``) and runs at
  most the same term again.
- The dishonest-debtor list (关于公布失信被执行人名单信息的若干规定, arts. 1, 2, 4): one of
  six statutory grounds (``DISHONEST_GROUND``); two years for grounds 2-6
  (``DISHONEST_TERM_2Y``), extendable by one to three years with a stated reason
  (``DISHONEST_EXTENSION_MAX_3Y``); no fixed term for "able to pay but refuses"
  (``DISHONEST_REFUSAL_NO_FIXED_TERM``); never a minor (``NO_MINOR_ON_DISHONEST_LIST``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from connectors.control import ControlAction
from connectors.domain import AssetKind
from gateway.control_lapse import check_renewal_in_time
from gateway.errors import InvalidInput

__all__ = [
    "MAX_TERM_YEARS",
    "DishonestGround",
    "PriorControl",
    "add_years",
    "age_on",
    "check_control_term",
    "check_dishonest_listing",
    "max_term_rule",
]

# Asset kind -> (years, rule name).
MAX_TERM_YEARS: dict[AssetKind, tuple[int, str]] = {
    AssetKind.REAL_ESTATE: (3, "MAX_TERM_REAL_ESTATE_3Y"),
    AssetKind.EQUITY: (3, "MAX_TERM_PROPERTY_RIGHT_3Y"),
    AssetKind.VEHICLE: (2, "MAX_TERM_MOVABLE_2Y"),
}
DISHONEST_YEARS = 2
DISHONEST_MAX_EXTENSION_YEARS = 3
ADULT_AGE = 18


class DishonestGround(enum.StrEnum):
    """The statutory grounds for listing a dishonest debtor (art. 1, items 1-6)."""

    ABLE_BUT_REFUSES = "ABLE_BUT_REFUSES"  # 有履行能力而拒不履行
    OBSTRUCTS_ENFORCEMENT = "OBSTRUCTS_ENFORCEMENT"  # 伪造证据、暴力、威胁等妨碍、抗拒执行
    EVADES_ENFORCEMENT = "EVADES_ENFORCEMENT"  # 虚假诉讼、隐匿、转移财产等规避执行
    VIOLATES_PROPERTY_REPORTING = "VIOLATES_PROPERTY_REPORTING"  # 违反财产报告制度
    VIOLATES_CONSUMPTION_BAN = "VIOLATES_CONSUMPTION_BAN"  # 违反限制消费令
    BREACHES_SETTLEMENT = "BREACHES_SETTLEMENT"  # 无正当理由拒不履行执行和解协议


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


def check_dishonest_listing(
    ground: str,
    since: date,
    until: date | None,
    birth_date: date | None,
    *,
    extension_reason: str | None = None,
    field: str = "input",
) -> tuple[DishonestGround, date | None]:
    """The ground and the end date of a dishonest-list entry, or the rule it breaks.

    ``birth_date`` is the person's (``None`` for an organization).
    """
    try:
        parsed = DishonestGround(ground)
    except ValueError:
        names = ", ".join(g.value for g in DishonestGround)
        raise _refuse(
            f"{field}.ground", "DISHONEST_GROUND", f"must be one of the statutory grounds: {names}"
        ) from None
    if birth_date is not None and age_on(birth_date, since) < ADULT_AGE:
        raise _refuse(f"{field}.debtorId", "NO_MINOR_ON_DISHONEST_LIST", "a minor cannot be listed")
    if parsed is DishonestGround.ABLE_BUT_REFUSES:
        if until is not None or extension_reason:
            raise _refuse(
                f"{field}.until",
                "DISHONEST_REFUSAL_NO_FIXED_TERM",
                "a listing for refusing to pay lasts until the debt is paid; give no end date",
            )
        return parsed, None
    default = add_years(since, DISHONEST_YEARS)
    if until is None or until == default:
        return parsed, default
    if until < default:
        raise _refuse(
            f"{field}.until", "DISHONEST_TERM_2Y", "the listing runs two years (lift it early)"
        )
    if not (extension_reason or "").strip():
        raise _refuse(
            f"{field}.extensionReason",
            "DISHONEST_TERM_2Y",
            "a listing longer than two years needs a written reason for the extension",
        )
    longest = add_years(default, DISHONEST_MAX_EXTENSION_YEARS)
    if until > longest:
        raise _refuse(
            f"{field}.until",
            "DISHONEST_EXTENSION_MAX_3Y",
            f"extended by three years at most (until {longest.isoformat()})",
        )
    return parsed, until
