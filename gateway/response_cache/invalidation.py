"""What drops kept answers: controls, restrictions and invalidations, on every instance.

- Every assistance step (a control ordered, approved, executed, lifted) is published on its
  case's topic of the event bus (``gateway/events/bus.py``); with several instances the bus
  carries it to all of them. Each drops the answers asked through that case.
- A restriction write is told to this instance's store listeners at once, and to the others
  on the bus topic ``restrictions`` (naming the debtor; ``gateway/screening/sync.py``).
- An invalidation of a debtor's facts (``FactCache.invalidate``, which the shared cache also
  applies when another instance asks it to) drops the answers showing that debtor.
"""

from __future__ import annotations

from gateway.events.bus import Change
from gateway.response_cache.answers import AnswerCache
from gateway.screening.sync import TOPIC as RESTRICTIONS_TOPIC
from gateway.store.cases import RestrictionRow

__all__ = ["AnswerInvalidation"]

_CASE_PREFIX = "case:"  # see gateway.events.bus.case_topic


class AnswerInvalidation:
    """A bus observer, a restriction listener and a fact-cache listener in one."""

    def __init__(self, answers: AnswerCache) -> None:
        self.answers = answers

    def on_change(self, topic: str, change: Change) -> None:
        """A message on the event bus, from this instance or another."""
        if topic.startswith(_CASE_PREFIX):
            self.answers.drop_cases([topic[len(_CASE_PREFIX) :]])
        elif topic == RESTRICTIONS_TOPIC:
            self.answers.drop_debtors([change.request_id])  # the message names the debtor

    def on_restriction_changed(self, row: RestrictionRow) -> None:
        """A restriction written through this instance (after its commit)."""
        self.answers.drop_debtors([row.debtor_id])
        self.answers.drop_cases([row.case_number])

    def on_facts_invalidated(self, debtor_ids: frozenset[str] | None) -> None:
        """The fact cache dropped these debtors' facts (``None``: all of them)."""
        if debtor_ids is None:
            self.answers.clear()
        else:
            self.answers.drop_debtors(debtor_ids)
