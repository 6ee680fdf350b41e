"""The legal basis of every debtor look-up and act: the debtor is a party to the case.

One rule, one answer, wherever a case and a debtor come in together (``debtor``,
``debtors``, ``_entities``, ``requestAssistance``, ``imposeRestriction``,
``liftRestriction``, ``watchDebtor``, ``unwatchDebtor``, and the services behind them):
``FORBIDDEN`` with ``extensions.rule`` ``DEBTOR_IS_PARTY``.

Why ``FORBIDDEN`` and not ``NOT_FOUND``: the gateway does not know whether a person exists,
only whether they are a party to the case, and an unknown case already answers like a case
one may not see. Any number that is not a party's gets this one answer, so an officer cannot
tell "no such person" from "someone else's debtor" and cannot probe who is a debtor of what.
"""

from __future__ import annotations

from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from typing import Protocol

from gateway.errors import Forbidden

__all__ = ["RULE", "CaseParties", "check_parties", "party_ids"]

RULE = "DEBTOR_IS_PARTY"


class CaseParties(Protocol):
    """What the rule reads of a case: its number and its parties (id, kind)."""

    @property
    def number(self) -> str: ...

    @property
    def debtor_ids(self) -> Sequence[tuple[str, object]]: ...


def party_ids(case: CaseParties) -> frozenset[str]:
    """The ids of ``case``'s parties, for ``check_parties`` called once per debtor."""
    return frozenset(debtor_id for debtor_id, _kind in case.debtor_ids)


def check_parties(
    case: CaseParties,
    debtor_ids: Sequence[str],
    field: str,
    *,
    parties: AbstractSet[str] | None = None,
) -> None:
    """``Forbidden`` naming ``field`` unless every one of ``debtor_ids`` is a party to ``case``.

    ``parties``: ``party_ids(case)``, when the caller checks debtor after debtor.
    """
    # A set: `debtors(ids:)` asks for up to a thousand debtors of a case with hundreds.
    if parties is None:
        parties = party_ids(case)
    outsiders = sum(1 for debtor_id in debtor_ids if debtor_id not in parties)
    if not outsiders:
        return
    if len(debtor_ids) == 1:
        message = f"the debtor is not a party to case {case.number}"
    else:
        message = f"{outsiders} of the requested debtors are not parties to case {case.number}"
    raise Forbidden(message, field=field, rule=RULE)
