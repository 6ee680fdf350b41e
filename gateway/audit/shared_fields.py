"""Stored fields that many records share, prepared once: a kept answer's records.

Every request a response-cache answer serves has its own record, and all of them name the
same cases, operation, document, variables, debtors (masked and keyed) and agencies. For a
50-debtor answer, masking, keying and encoding those (~76 debtors, 50 ids in the variables)
was most of a record's CPU. An entry carrying ``SharedFields`` has them prepared and
encoded on its first record, per audit key, and each later record adds only its own fields
(who, when, the request ids, the outcome, the detail).

Whoever attaches one ``SharedFields`` to several entries promises that those fields are
the same in all of them (``gateway/response_cache/record.py`` takes them from one answer).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import orjson

from gateway.audit.chain import Unsealed

__all__ = ["SHARED", "Prepared", "SharedFields"]

# The stored fields an entry's shared part determines (see ``gateway.audit.record.prepare``).
SHARED = frozenset(
    {
        "case_number",
        "cases",
        "operation",
        "document_hash",
        "variables",
        "debtors",
        "debtor_keys",
        "agencies",
    }
)


@dataclass(frozen=True, slots=True)
class Prepared:
    """The shared stored fields and each one's canonical JSON (as ``Unsealed`` encodes it),
    also as ``orjson.Fragment``s by the half of the record's body they fall in (before
    ``seq``, after it), for ``Unsealed.spliced``."""

    fields: Mapping[str, Any]
    encoded: Mapping[str, bytes]
    halves: tuple[Mapping[str, orjson.Fragment], Mapping[str, orjson.Fragment]]

    @classmethod
    def of(cls, fields: Mapping[str, Any], known: Mapping[str, bytes] | None = None) -> Prepared:
        """``fields`` with their canonical JSON (sorted keys, compact); ``known`` may give
        that of some of them, made already."""
        known = known or {}
        encoded = {
            name: known.get(name) or orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
            for name, value in fields.items()
        }
        before = {n: orjson.Fragment(b) for n, b in encoded.items() if n < "seq"}
        after = {n: orjson.Fragment(b) for n, b in encoded.items() if n > "seq"}
        return cls(fields, encoded, (before, after))

    def unsealed(self, own: Mapping[str, Any]) -> Unsealed:
        """The record of these fields and ``own`` (all the others)."""
        return Unsealed.spliced(self.fields, self.encoded, self.halves, own)


class SharedFields:
    """The shared part of the records of one kept answer, prepared once per audit key."""

    __slots__ = ("_by_key",)

    def __init__(self) -> None:
        self._by_key: dict[bytes, Prepared] = {}

    def __repr__(self) -> str:
        return f"<SharedFields prepared for {len(self._by_key)} key(s)>"  # never the key

    def get(self, key: bytes) -> Prepared | None:
        """The fields prepared under ``key``, if they were."""
        return self._by_key.get(key)

    def keep(self, key: bytes, stored: Mapping[str, Any]) -> Prepared:
        """Remember the shared fields of ``stored`` (a whole record's fields) under ``key``."""
        prepared = Prepared.of({name: stored[name] for name in SHARED})
        self._by_key[key] = prepared
        return prepared
