"""The dishonest-debtor list (失信被执行人名单): when a debtor may be listed, and for how long.

Pure functions over 关于公布失信被执行人名单信息的若干规定 (法释〔2017〕7号), each refusal an
``InvalidInput`` naming its rule in ``extensions.rule``:

- art. 1: one or more of six statutory grounds (``DISHONEST_GROUND``);
- art. 2: two years for grounds 2-6 (``DISHONEST_TERM_2Y``); no fixed term for "able to pay
  but refuses" (``DISHONEST_REFUSAL_NO_FIXED_TERM``); an extension of one to three years
  (``DISHONEST_EXTENSION_MIN_1Y``, ``DISHONEST_EXTENSION_MAX_3Y``) only on the two bases the
  article names (``DISHONEST_EXTENSION_BASIS``), with a written reason;
- art. 3: no listing for refusing to pay where sufficient security was given
  (``DISHONEST_NOT_WHEN_SECURED``) or the property already under control covers the debt
  (``DISHONEST_NOT_WHEN_COVERED``);
- art. 4: never a minor (``NO_MINOR_ON_DISHONEST_LIST``).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from gateway.domain.terms import add_years, age_on
from gateway.errors import InvalidInput

__all__ = [
    "ADULT_AGE",
    "DishonestGround",
    "ExtensionBasis",
    "Listing",
    "check_dishonest_listing",
    "check_listing_allowed",
    "parse_grounds",
]

DISHONEST_YEARS = 2
DISHONEST_MIN_EXTENSION_YEARS = 1
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


class ExtensionBasis(enum.StrEnum):
    """Why a two-year listing may run one to three years longer (art. 2 ¶2), and only why."""

    VIOLENT_OBSTRUCTION = "VIOLENT_OBSTRUCTION"  # 以暴力、威胁方法妨碍、抗拒执行情节严重
    SEVERAL_DISHONEST_ACTS = "SEVERAL_DISHONEST_ACTS"  # 具有多项失信行为


@dataclass(frozen=True, slots=True)
class Listing:
    """A listing the rules allow: its grounds (in statutory order) and its end, if any."""

    grounds: tuple[DishonestGround, ...]
    until: date | None

    @property
    def ground_text(self) -> str:
        """The grounds as stored: comma-separated statutory names."""
        return ",".join(g.value for g in self.grounds)


def _refuse(field: str, rule: str, message: str) -> InvalidInput:
    return InvalidInput(field, f"{message} ({rule})", rule=rule)


def parse_grounds(values: Sequence[str], *, field: str = "input") -> tuple[DishonestGround, ...]:
    """Rule ``DISHONEST_GROUND`` (art. 1): one or more statutory grounds, each once.

    Several grounds may be recorded together: each is a dishonest act of its own, and
    having several is one of the bases for an extension (art. 2 ¶2).
    """
    order = list(DishonestGround)
    found: set[DishonestGround] = set()
    for value in values:
        try:
            found.add(DishonestGround(value.strip()))
        except ValueError:
            names = ", ".join(g.value for g in DishonestGround)
            raise _refuse(
                f"{field}.grounds",
                "DISHONEST_GROUND",
                f"must be statutory grounds: {names}",
            ) from None
    if not found:
        raise _refuse(f"{field}.grounds", "DISHONEST_GROUND", "at least one ground is needed")
    return tuple(sorted(found, key=order.index))


def _check_extension(
    grounds: tuple[DishonestGround, ...],
    basis: ExtensionBasis | None,
    reason: str | None,
    field: str,
) -> None:
    """Rule ``DISHONEST_EXTENSION_BASIS`` (art. 2 ¶2): a longer listing only where the debtor
    obstructed enforcement by violence or threats, seriously, or committed several dishonest
    acts — stated as the basis, borne out by the grounds, and explained in writing."""
    if basis is None:
        raise _refuse(
            f"{field}.extensionBasis",
            "DISHONEST_EXTENSION_BASIS",
            "a listing longer than two years needs its statutory basis "
            "(VIOLENT_OBSTRUCTION or SEVERAL_DISHONEST_ACTS)",
        )
    if basis is ExtensionBasis.VIOLENT_OBSTRUCTION and (
        DishonestGround.OBSTRUCTS_ENFORCEMENT not in grounds
    ):
        raise _refuse(
            f"{field}.extensionBasis",
            "DISHONEST_EXTENSION_BASIS",
            "violent obstruction needs the ground OBSTRUCTS_ENFORCEMENT",
        )
    if basis is ExtensionBasis.SEVERAL_DISHONEST_ACTS and len(grounds) < 2:
        raise _refuse(
            f"{field}.extensionBasis",
            "DISHONEST_EXTENSION_BASIS",
            "several dishonest acts need at least two grounds recorded",
        )
    if not (reason or "").strip():
        raise _refuse(
            f"{field}.extensionReason",
            "DISHONEST_TERM_2Y",
            "a listing longer than two years needs a written reason for the extension",
        )


def check_dishonest_listing(
    grounds: Sequence[str],
    since: date,
    until: date | None,
    birth_date: date | None,
    *,
    extension_basis: ExtensionBasis | None = None,
    extension_reason: str | None = None,
    field: str = "input",
) -> Listing:
    """The grounds and the end date of a dishonest-list entry, or the rule it breaks.

    Arts. 1, 2 and 4 of 法释〔2017〕7号. ``birth_date`` is the person's (``None`` for an
    organization). A listing on "able to pay but refuses" lasts until the debt is paid,
    whatever other grounds come with it.
    """
    parsed = parse_grounds(grounds, field=field)
    if birth_date is not None and age_on(birth_date, since) < ADULT_AGE:
        raise _refuse(f"{field}.debtorId", "NO_MINOR_ON_DISHONEST_LIST", "a minor cannot be listed")
    if DishonestGround.ABLE_BUT_REFUSES in parsed:
        if until is not None or extension_basis is not None or extension_reason:
            raise _refuse(
                f"{field}.until",
                "DISHONEST_REFUSAL_NO_FIXED_TERM",
                "a listing for refusing to pay lasts until the debt is paid; give no end date",
            )
        return Listing(parsed, None)
    default = add_years(since, DISHONEST_YEARS)
    if until is None or until == default:
        if extension_basis is not None:
            raise _refuse(
                f"{field}.until", "DISHONEST_EXTENSION_MIN_1Y", "an extension needs an end date"
            )
        return Listing(parsed, default)
    if until < default:
        raise _refuse(
            f"{field}.until", "DISHONEST_TERM_2Y", "the listing runs two years (lift it early)"
        )
    _check_extension(parsed, extension_basis, extension_reason, field)
    shortest = add_years(default, DISHONEST_MIN_EXTENSION_YEARS)
    if until < shortest:
        raise _refuse(
            f"{field}.until",
            "DISHONEST_EXTENSION_MIN_1Y",
            f"an extension runs one to three years (until {shortest.isoformat()} at least)",
        )
    longest = add_years(default, DISHONEST_MAX_EXTENSION_YEARS)
    if until > longest:
        raise _refuse(
            f"{field}.until",
            "DISHONEST_EXTENSION_MAX_3Y",
            f"extended by three years at most (until {longest.isoformat()})",
        )
    return Listing(parsed, until)


def check_listing_allowed(
    grounds: Sequence[DishonestGround],
    amount_due: Decimal,
    *,
    controlled: Decimal,
    security: Decimal | None,
    field: str = "input",
) -> None:
    """Art. 3 of 法释〔2017〕7号: no listing for refusing to pay (ground 1) where the debtor
    gave sufficient security (``DISHONEST_NOT_WHEN_SECURED``) or the property already seized,
    frozen or impounded covers the debt (``DISHONEST_NOT_WHEN_COVERED``).

    The other grounds punish an act (obstruction, evasion, ...), not the unpaid debt, so
    art. 3 does not bar them.
    """
    if DishonestGround.ABLE_BUT_REFUSES not in grounds:
        return
    if security is not None and security >= amount_due:
        raise _refuse(
            f"{field}.grounds",
            "DISHONEST_NOT_WHEN_SECURED",
            f"security of {security} covers the {amount_due} due: refusing to pay is no ground",
        )
    if controlled >= amount_due:
        raise _refuse(
            f"{field}.grounds",
            "DISHONEST_NOT_WHEN_COVERED",
            f"property of {controlled} under control covers the {amount_due} due",
        )
