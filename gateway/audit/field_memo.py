"""Prepared record fields remembered by what they are made from: an ordinary request's memo.

A look-up's record names its cases, operation, document, variables and debtors, and preparing
them (masking the variables, masking and keying each debtor, the canonical JSON of each) was
the larger part of the record's CPU. Officers ask the same look-ups again and again (a case's
debtors, page after page), so those fields are remembered, per process, under everything they
are computed from: the audit key, the officer (subject, court and roles), the case and the
cases named, the operation, the document's hash, the debtor ids and the variables' exact
JSON. Equal keys mean equal inputs, so a remembered field is byte for byte what preparing it
anew gives; and since the officer and the case are in the key, no two officers and no two
cases ever share one. The record's own fields (who, when, the request ids, the outcome, the
detail, the agency calls and their timings) are made for every record.

Variables are remembered only when they are a few strings by name (the items are the key),
or plain JSON (dicts with string keys, lists, strings, finite floats, integers, booleans,
null) of at most ``MAX_VARIABLES_BYTES``: their JSON then tells them apart exactly (``1``,
``1.0`` and ``true`` encode differently). Anything
else, or a kept answer's entry (``shared``), or an ``_entities`` request's references, is
prepared as before. Fields are kept the second time their key is met (a look-up asked once
costs the key and a note); the memo holds at most ``limit`` entries, past that the oldest
go first, and at most ``limit`` notes, past that all are forgotten.
Its keys hold the ids and variables as asked, in this process's memory only, as the fact
cache and the request itself already do; nothing of them is written or logged.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import orjson

from gateway.audit.log import AuditEntry
from gateway.audit.shared_fields import SHARED, Prepared

__all__ = ["MAX_VARIABLES_BYTES", "MEMOISED", "FieldMemo", "MemoKey"]

MAX_VARIABLES_BYTES = 2048  # a look-up's variables are ~100 bytes; big lists rarely repeat

# The stored fields a memo entry holds: those of ``SHARED`` but the agency calls, whose
# timings differ from request to request, and the officer's, which are in the key.
MEMOISED = frozenset({"principal", "court", "roles"} | (SHARED - {"agencies"}))

MemoKey = tuple[Any, ...]
_UNSEEN = object()


def _bounded_put(entries: dict[MemoKey, Any], key: MemoKey, value: Any, limit: int) -> None:
    if len(entries) >= limit:
        del entries[next(iter(entries))]  # the oldest: dicts keep insertion order
    entries[key] = value


def _plain(value: Any, depth: int = 0) -> bool:
    # Exact types only: a subclass (an enum that is also a str), a UUID or a date would be
    # encoded by orjson as something a plain value also encodes to, and prepared otherwise.
    kind = type(value)
    if kind is str or kind is int or kind is bool or value is None:
        return True
    if kind is float:
        return math.isfinite(value)  # orjson writes NaN as null, as it writes None
    if depth > 16:
        return False
    if kind is dict:
        return all(type(k) is str and _plain(v, depth + 1) for k, v in value.items())
    if kind is list or kind is tuple:
        return all(_plain(v, depth + 1) for v in value)
    return False


def _strings(values: Any) -> bool:
    # A tuple of exact strings (the types counted in C, not by a generator).
    return type(values) is tuple and (not values or set(map(type, values)) == _STR)


_STR = {str}


def _variables_key(variables: Any) -> Any:
    # A look-up's variables are a few strings by name: those items are the key as they are
    # (equal strings are prepared alike, whatever they hold). Anything else: its exact JSON.
    if type(variables) is dict and len(variables) <= 8:
        items = tuple(variables.items())
        if all(type(k) is str and type(v) is str for k, v in items):
            size = sum(len(k) + len(v) for k, v in items)
            return items if size <= MAX_VARIABLES_BYTES // 4 else None
    return _variables_text(variables)


def _variables_text(variables: Any) -> bytes | None:
    if not _plain(variables):
        return None
    try:  # lone surrogates and integers past 64 bits are refused
        text = orjson.dumps(variables, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:
        return None
    return text if len(text) <= MAX_VARIABLES_BYTES else None


class FieldMemo:
    """Bounded memo of prepared fields (``MEMOISED``) by everything they are made from."""

    __slots__ = ("_entries", "_seen", "hits", "limit", "misses")

    def __init__(self, limit: int = 4096) -> None:
        self.limit = limit
        self._entries: dict[MemoKey, Prepared] = {}
        self._seen: dict[MemoKey, None] = {}  # keys met once: kept on the second time
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def __repr__(self) -> str:
        return f"<FieldMemo {len(self._entries)}/{self.limit}>"  # never a key or an id

    def key(self, entry: AuditEntry, audit_key: bytes) -> MemoKey | None:
        """What ``entry``'s memoised fields are made from, or None if it may not use the memo."""
        if entry.shared is not None or entry.references:
            return None
        case, document = entry.case_number, entry.document_hash
        if (
            type(entry.principal) is not str
            or type(entry.court) is not str
            or type(entry.operation) is not str
            or (case is not None and type(case) is not str)
            or (document is not None and type(document) is not str)
            or not _strings(entry.roles)
            or not _strings(entry.cases)
            or not _strings(entry.debtors)
        ):
            return None  # a subclass could print or compare otherwise than its value
        variables = _variables_key(entry.variables)
        if variables is None:
            return None
        return (
            audit_key,
            entry.principal,
            entry.court,
            entry.roles,
            entry.case_number,
            entry.cases,
            entry.operation,
            entry.document_hash,
            entry.debtors,
            variables,
        )

    def get(self, key: MemoKey) -> Prepared | None:
        """The fields remembered under ``key``, if any."""
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
        return found

    def keep(self, key: MemoKey, stored: Mapping[str, Any], encoded: Mapping[str, bytes]) -> None:
        """Note that a record with ``stored`` fields (``encoded``: the canonical JSON of some
        of them, as ``Unsealed.encoded``) was made under ``key``; on the second time, keep its
        memoised fields. Look-ups asked once (most, in a court's day) cost a note, not the
        encoding of fields nobody will ask for again."""
        seen = self._seen
        if seen.pop(key, _UNSEEN) is _UNSEEN:
            if len(seen) >= self.limit:
                # Forgotten all at once: cheaper than one at a time from the front, where a
                # dict keeps the holes of what was taken out until it is rebuilt.
                seen.clear()
            seen[key] = None
            return
        prepared = Prepared.of({name: stored[name] for name in MEMOISED}, encoded)
        _bounded_put(self._entries, key, prepared, self.limit)

    def clear(self) -> None:
        """Forget everything and zero the counts (a changed audit key needs nothing of this:
        it is in the key)."""
        self._entries.clear()
        self._seen.clear()
        self.hits = self.misses = 0
