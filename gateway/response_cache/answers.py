"""Kept answers: bytes, tagged with their debtors and cases, bounded in bytes, expiring.

One ``cachetools.TLRUCache`` sized by the length of each body holds every answer until the
earliest expiry of the facts in it; ``drop_debtors`` and ``drop_cases`` remove every answer
tagged with one of them. ``generation`` counts drops: an answer whose build began before a
drop is not kept (it may have read what the drop was about).
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from cachetools import TLRUCache

from gateway.audit.log import AgencyCallRecord
from gateway.audit.shared_fields import SharedFields
from gateway.response_cache.parties_checked import PartiesChecked
from resolvers.context import OperationFacts

__all__ = ["Answer", "AnswerCache", "FactUse"]


@dataclass(frozen=True, slots=True)
class FactUse:
    """Facts of one facet from one agency that an answer shows (for its hits' records)."""

    agency: str
    facet: str
    count: int


@dataclass(frozen=True, slots=True)
class Answer:
    """One kept answer and what each request it serves must be checked and recorded with."""

    body: bytes
    expires_at: float  # monotonic seconds
    query: str
    operation: str | None
    variables: Mapping[str, Any]  # as the build's record kept them
    debtors: frozenset[str]  # every debtor the answer shows (the record names them)
    cases: tuple[str, ...]  # the cases it was asked through, in the order named
    parties: Mapping[str, frozenset[str]]  # per case, the debtors that were its parties
    facts: tuple[FactUse, ...]
    # Made once when the answer is kept, so that a hit's record only adds its own fields.
    document_hash: str = ""
    debtor_list: tuple[str, ...] = ()  # ``debtors``, sorted
    agency_records: tuple[AgencyCallRecord, ...] = ()  # one per ``facts``, nothing sent
    # Its hits' records' shared fields (debtors masked and keyed, variables, agencies),
    # prepared by the audit log on the first hit and reused by every later one.
    shared: SharedFields = field(default_factory=SharedFields, compare=False, repr=False)
    # The case rows its parties were last found in (``parties_checked.py``).
    checked: PartiesChecked = field(default_factory=PartiesChecked, compare=False, repr=False)

    # ``operation_facts``, made on the first hit (nobody changes it: metrics and spans read it).
    _facts: list[OperationFacts] = field(
        default_factory=list, init=False, compare=False, repr=False
    )

    def operation_facts(self) -> OperationFacts:
        """The operation a request served by this answer ran, for its metrics and span."""
        made = self._facts
        if not made:
            made.append(
                OperationFacts(
                    query=self.query,
                    name=self.operation,
                    kind="query",
                    variables=dict(self.variables),
                    errors=[],
                    has_data=True,
                )
            )
        return made[0]


class _Bytes(TLRUCache[bytes, Answer]):
    """Counts what the size bound pushes out."""

    evicted = 0

    def popitem(self) -> tuple[bytes, Answer]:
        key, value = super().popitem()
        self.evicted += 1
        return key, value


class AnswerCache:
    """The process's kept answers, by request key (see ``gateway/response_cache/gate.py``)."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max(1, max_bytes)
        self._answers = self._empty()
        self._evicted_before = 0  # by caches replaced by ``clear``
        self._by_debtor: dict[str, set[bytes]] = {}
        self._by_case: dict[str, set[bytes]] = {}
        self.generation = 0
        self.hits = 0
        self.misses = 0
        self.stored = 0
        self.dropped = 0  # by a control, restriction or invalidation

    def _empty(self) -> _Bytes:
        return _Bytes(
            maxsize=self.max_bytes,
            ttu=lambda _key, answer, _now: answer.expires_at,
            timer=time.monotonic,
            getsizeof=lambda answer: len(answer.body),
        )

    @property
    def evicted(self) -> int:
        """Answers pushed out by the size bound."""
        return self._evicted_before + self._answers.evicted

    def get(self, key: bytes) -> Answer | None:
        """The answer kept under ``key`` if it has not expired (not counted: see ``hit``)."""
        return self._answers.get(key)

    def put(self, key: bytes, answer: Answer, generation: int) -> bool:
        """Keep ``answer`` unless something was dropped since ``generation``, or it is
        already past its expiry, or larger than the whole cache."""
        if generation != self.generation or answer.expires_at <= time.monotonic():
            return False
        if len(answer.body) > self.max_bytes:
            return False
        self._answers[key] = answer
        for debtor in answer.debtors:
            self._by_debtor.setdefault(debtor, set()).add(key)
        for case in answer.cases:
            self._by_case.setdefault(case, set()).add(key)
        self.stored += 1
        self._tidy()
        return True

    def drop_debtors(self, debtor_ids: Iterable[str]) -> int:
        """Drop every answer showing one of these debtors; the count dropped."""
        return self._drop(self._by_debtor, debtor_ids)

    def drop_cases(self, case_numbers: Iterable[str]) -> int:
        """Drop every answer asked through one of these cases; the count dropped."""
        return self._drop(self._by_case, case_numbers)

    def clear(self) -> None:
        """Drop every answer."""
        self.generation += 1
        self.dropped += len(self._answers)
        # A new cache rather than ``clear()``, which pops item by item (counted as evictions).
        self._evicted_before += self._answers.evicted
        self._answers = self._empty()
        self._by_debtor.clear()
        self._by_case.clear()

    def _drop(self, index: dict[str, set[bytes]], tags: Iterable[str]) -> int:
        self.generation += 1
        count = 0
        for tag in tags:
            for key in index.pop(tag, ()):
                if self._answers.pop(key, None) is not None:
                    count += 1
        self.dropped += count
        return count

    def _tidy(self) -> None:
        # Expired and evicted answers leave their keys in the tag index; rebuild it once it
        # holds far more keys than there are answers, so it stays bounded by the cache.
        if len(self._by_debtor) + len(self._by_case) <= 8 * len(self._answers) + 1024:
            return
        self._by_debtor.clear()
        self._by_case.clear()
        for key, answer in list(self._answers.items()):
            for debtor in answer.debtors:
                self._by_debtor.setdefault(debtor, set()).add(key)
            for case in answer.cases:
                self._by_case.setdefault(case, set()).add(key)

    def __len__(self) -> int:
        return len(self._answers)

    @property
    def bytes_held(self) -> int:
        """Bytes of the bodies held."""
        return int(self._answers.currsize)
