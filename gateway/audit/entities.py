"""What an ``_entities`` request resolved, as its audit record lists it: typed and compact.

A router asks for entities by reference; the record lists each reference in the order
asked — its type, the case it named, the debtor it named, and how it ended — built from
our own values, never from what the framework handed the resolver. Case and debtor are
indexes into the record's own ``cases`` and ``debtors`` / ``debtor_keys`` lists (masked id
plus keyed hash), so each reference costs a few bytes and 500 references stay far under
the size of one record::

    detail.entities = {"columns": ["type", "case", "debtor", "code"],
                       "rows": [["Debtor", 0, 12, null], ["Debtor", 0, 3, "FORBIDDEN"], ...]}

``code`` is null for a resolved reference and the refusal's code otherwise; ``case`` or
``debtor`` is null when the reference did not name a valid one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["COLUMNS", "EntityReference", "entities_detail", "normalised_debtor"]

COLUMNS = ("type", "case", "debtor", "code")
_TYPE_CHARS = 64


@dataclass(frozen=True, slots=True)
class EntityReference:
    """One representation of an ``_entities`` request, as far as it was understood."""

    typename: str
    case_number: str | None = None
    debtor_id: str | None = None
    code: str | None = None  # None: resolved; else the code it was refused or failed with


def normalised_debtor(debtor_id: str) -> str:
    """A debtor id as the record's ``debtors`` list holds it (before masking)."""
    return debtor_id.strip().upper()


def entities_detail(
    references: Iterable[EntityReference], cases: Sequence[str], debtors: Sequence[str]
) -> dict[str, Any]:
    """The references as rows of indexes into the record's ``cases`` and ``debtors``.

    ``cases`` and ``debtors`` must already hold every case and (normalised) debtor the
    references name; ``debtors`` in the order the record stores them.
    """
    case_at = {c: i for i, c in enumerate(cases)}
    debtor_at = {d: i for i, d in enumerate(debtors)}
    rows = [
        [
            ref.typename[:_TYPE_CHARS],
            None if ref.case_number is None else case_at.get(ref.case_number),
            None if ref.debtor_id is None else debtor_at.get(normalised_debtor(ref.debtor_id)),
            ref.code,
        ]
        for ref in references
    ]
    return {"columns": list(COLUMNS), "rows": rows}
