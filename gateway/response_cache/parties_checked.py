"""The case rows a kept answer's parties were last checked against.

Every hit runs the case check again. Its first half (may this principal see the case?)
depends on the caller and runs every time; its second (are the answer's debtors still
parties to each case?) depends only on the case rows, which the store hands back as the
same immutable objects until a case changes (its memo is keyed by the store's change
signal). So the party sets are built and compared once per version of the rows, not on
every hit: a row that changed is a new object, and the parties are checked again.
"""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store.case_rows import CaseRow

__all__ = ["PartiesChecked"]


class PartiesChecked:
    """The rows an answer's parties were found in, last time they were checked."""

    __slots__ = ("_rows", "checks")

    def __init__(self) -> None:
        self._rows: tuple[CaseRow, ...] = ()
        self.checks = 0  # how often the party sets were built and compared

    def __repr__(self) -> str:
        return f"<PartiesChecked {len(self._rows)} row(s), {self.checks} check(s)>"

    def holds(self, rows: Sequence[CaseRow]) -> bool:
        """True if the parties were found in exactly these row objects."""
        kept = self._rows
        return len(kept) == len(rows) > 0 and all(a is b for a, b in zip(kept, rows, strict=True))

    def passed(self, rows: Sequence[CaseRow]) -> None:
        """Remember that the parties were found in ``rows``."""
        self._rows = tuple(rows)
