"""What the store tells in-process listeners after it commits a change.

One hook, one job: after every committed write to the restrictions table (impose, lift,
any status change) the store calls ``on_restriction_changed(row)`` on each registered
listener, synchronously, with the row's whole new state. Synchronous on purpose: between
the commit and the listeners' update no other coroutine can run, so an in-memory view
such as the screening index never answers from the old state after the write returned.
Listeners must therefore be quick and must not raise (no I/O; queue work if needed).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from gateway.store.case_rows import RestrictionRow

__all__ = ["RestrictionListener"]


class RestrictionListener(Protocol):
    """Told about every committed restriction write, after the commit."""

    def on_restriction_changed(self, row: RestrictionRow) -> None:
        """``row`` is the restriction as now stored (ACTIVE, or LIFTED with its reason)."""
        ...
