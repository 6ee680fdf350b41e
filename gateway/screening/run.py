"""Screening one call's ids against the index: hits, rejected entries, and a digest.

``ScreenRun`` is fed the call's entries in slices (so that the route can yield to the
event loop between them) and collects one hit per listed person under the first spelling
sent, one rejection per entry that is not a valid id, and the SHA-256 over the sorted
distinct normalised ids that the audit record keeps instead of the ids.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from gateway.errors import InvalidInput
from gateway.screening.ids import screening_id
from gateway.screening.index import ListedMeasure, ScreeningIndex, court_today

__all__ = [
    "ScreenHit",
    "ScreenInvalid",
    "ScreenOutcome",
    "ScreenRun",
    "Unreadable",
    "screen_all",
]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """Stands in for an entry that could not be parsed at all (a malformed NDJSON line)."""

    reason: str


@dataclass(frozen=True, slots=True)
class ScreenHit:
    """A listed id: its position and spelling in the request, its normalised form (for the
    audit record, never the response) and its measures."""

    index: int
    given: str
    debtor_id: str
    measures: tuple[ListedMeasure, ...]

    def public(self) -> dict[str, object]:
        """The hit as the response shows it."""
        return {"id": self.given, "measures": [m.public() for m in self.measures]}


@dataclass(frozen=True, slots=True)
class ScreenInvalid:
    """An entry that is not a valid debtor id; only its position and spelling are shown."""

    index: int
    given: str | None  # None for non-strings and overlong values: never echoed
    error: InvalidInput

    def public(self) -> dict[str, object]:
        """The rejection as the response shows it."""
        return {
            "index": self.index,
            "id": self.given,
            "code": self.error.code,
            "message": self.error.message,
        }


@dataclass(slots=True)
class ScreenOutcome:
    """What one screening call found: hits, invalid entries and a digest of the ids."""

    hits: list[ScreenHit]
    invalid: list[ScreenInvalid]
    checked: int  # distinct valid ids looked up
    received: int  # entries in the request, valid or not
    ids_sha256: str  # over the sorted distinct normalised ids: audit without the ids


_ECHO_MAX = 64  # an "id" longer than this is not echoed back in a rejection


@dataclass(slots=True)
class ScreenRun:
    """One screening call, fed in slices so the caller can yield to the event loop."""

    index: ScreeningIndex
    today: date
    field_name: str = "ids"
    # The reference validation refuses birth dates after the court's today: fixed per call.
    born_by: date = field(default_factory=court_today)
    _seen: set[str] = field(default_factory=set)
    _hits: list[ScreenHit] = field(default_factory=list)
    _invalid: list[ScreenInvalid] = field(default_factory=list)
    _received: int = 0

    def feed(self, values: Iterable[object]) -> None:
        """Screen the next entries of the request, in request order."""
        seen = self._seen
        for value in values:
            position = self._received
            self._received += 1
            try:
                number = screening_id(value, self.field_name, position, self.born_by)
            except InvalidInput as err:
                if isinstance(value, Unreadable):
                    err = InvalidInput(err.field, value.reason)
                echo = value if isinstance(value, str) and len(value) <= _ECHO_MAX else None
                self._invalid.append(ScreenInvalid(position, echo, err))
                continue
            if number in seen:
                continue  # one answer per person, under the first spelling sent
            seen.add(number)
            measures = self.index.lookup(number, self.today)
            if measures:
                self._hits.append(ScreenHit(position, str(value), number, measures))

    @classmethod
    def start(cls, index: ScreeningIndex, today: date | None = None) -> ScreenRun:
        """Begin screening one call's ids against ``index`` as of ``today`` (court time)."""
        return cls(index, today or court_today())

    def outcome(self) -> ScreenOutcome:
        """The result so far (normally called once, after the last ``feed``)."""
        digest = hashlib.sha256("\n".join(sorted(self._seen)).encode("ascii")).hexdigest()
        return ScreenOutcome(
            hits=list(self._hits),
            invalid=list(self._invalid),
            checked=len(self._seen),
            received=self._received,
            ids_sha256=digest,
        )


def screen_all(index: ScreeningIndex, values: Sequence[object]) -> ScreenOutcome:
    """Screen ``values`` in one go (for tests and benchmarks; the route feeds in slices)."""
    run = ScreenRun.start(index)
    run.feed(values)
    return run.outcome()
