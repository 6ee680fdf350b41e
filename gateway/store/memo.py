"""Rows read from the store, remembered for as long as the database has not changed.

Every look-up authorizes its case and reads the debtor's restrictions; officers look at the
same cases and debtors over and over, and those tables change rarely. A memo is exact, not
a cache with a lifetime: each use first asks the database for its version (SQLite's
``PRAGMA data_version``, which moves whenever any other connection, in this process or
another, commits), and a different version empties the memo. So a read through the memo
returns what a read of the database would return at that moment.
"""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Generic, Literal, TypeVar

from cachetools import LRUCache

__all__ = ["MISSING", "VersionedMemo"]

K = TypeVar("K")
V = TypeVar("V")


class _Missing(enum.Enum):
    MISSING = enum.auto()


MISSING = _Missing.MISSING  # what ``get`` returns for a key the memo does not hold


def _one(_value: object) -> int:
    return 1


class VersionedMemo(Generic[K, V]):
    """Values by key, all valid for one version of the database.

    At most ``maxsize`` units are held, a value counting ``size(value)`` of them: rows vary
    (a case may have one party or a hundred), and the bound is meant for memory.
    """

    def __init__(self, maxsize: int, size: Callable[[V], int] = _one) -> None:
        self._version: int | None = None
        self._values: LRUCache[K, V] = LRUCache(maxsize, getsizeof=size)
        self.hits = 0
        self.misses = 0

    def at(self, version: int) -> None:
        """The database is at ``version`` now: forget what an earlier version held."""
        if version != self._version:
            self._values.clear()
            self._version = version

    def get(self, key: K) -> V | Literal[_Missing.MISSING]:
        """The value of ``key`` at the current version, or ``MISSING``."""
        value = self._values.get(key, MISSING)
        if value is MISSING:
            self.misses += 1
            return MISSING
        self.hits += 1
        return value

    def put(self, version: int, key: K, value: V) -> None:
        """Remember ``value``, read after the database was seen at ``version``.

        A read that began before the version moved may hold older rows: it is dropped.
        """
        # A value larger than the whole memo is not kept: it is read each time instead.
        if version == self._version and self._values.getsizeof(value) <= self._values.maxsize:
            self._values[key] = value

    def __len__(self) -> int:
        return len(self._values)

    @property
    def size(self) -> float:
        """Units held now."""
        return self._values.currsize
