"""Turning an ``AuditEntry`` into the fields the log stores: masked, keyed, plain JSON.

Nothing personal is stored in the clear: variables and details go through ``mask_value``;
each debtor id becomes its masked form plus ``debtor_key`` (HMAC-SHA256 under the audit key),
which is how auditors find every record about one debtor without the log holding the id.
JSON fields are normalised to values that survive a round trip through the database and
back byte for byte (big integers and odd floats become strings), because the chain hash is
recomputed from what is read back. Oversized variables are replaced by their digest.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import math
from dataclasses import replace
from datetime import UTC, date, time
from decimal import Decimal
from enum import Enum
from pathlib import PurePath
from typing import Any
from uuid import UUID

import orjson

from gateway.audit.chain import Unsealed
from gateway.audit.entities import entities_detail, normalised_debtor
from gateway.audit.field_memo import FieldMemo
from gateway.audit.log import AuditEntry
from gateway.masking import escaped, mask_id, mask_text, mask_value

__all__ = ["FIELD_MEMO", "MAX_JSON_BYTES", "debtor_key", "jsonable", "prepare", "unsealed"]

MAX_JSON_BYTES = 32_768  # per JSON field; a 500-id variable list is about 10 KB
_INT64 = 2**63


def _clip(value: str, limit: int) -> str:
    # Column widths are enforced by PostgreSQL: one oversized value must not fail a whole
    # group commit (and with it every request waiting on it). Nor may a NUL or a lone
    # surrogate: kept as an escape, never dropped.
    value = escaped(value)
    return value if len(value) <= limit else value[: limit - 1] + "…"


def debtor_key(key: bytes, debtor_id: str) -> str:
    """The keyed hash under which a debtor id is indexed (hex)."""
    normalised = debtor_id.strip().upper().encode()
    keyed = _keyed(key).copy()
    keyed.update(normalised)
    return keyed.hexdigest()


@functools.lru_cache(maxsize=8)
def _keyed(key: bytes) -> hmac.HMAC:
    # A copy of a keyed HMAC, fed a few bytes, never lets go of the interpreter lock;
    # ``hmac.digest`` does, and on a busy worker getting it back cost ~20 µs a record.
    return hmac.new(key, digestmod=hashlib.sha256)


# An ordinary request's cases, operation, variables and debtors, prepared once per look-up
# asked again by the same officer (gateway/audit/field_memo.py).
FIELD_MEMO = FieldMemo()


@functools.lru_cache(maxsize=65_536)
def _debtor_fields(key: bytes, debtor_id: str) -> tuple[str, str]:
    # A 50-debtor answer names ~76 debtors with the spouses, and the same ones come back
    # request after request: masking and keying each anew was a third of such a record.
    # The memo holds ids the fact cache already holds in the same process.
    return mask_id(debtor_id), debtor_key(key, debtor_id)


def jsonable(value: Any) -> Any:
    """``value`` as JSON that encodes, decodes and re-encodes to the same bytes."""
    if isinstance(value, str):
        return escaped(value)  # a lone surrogate would fail the encoding, and the append
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return value if -_INT64 <= value < _INT64 else str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, dict):
        return {escaped(str(k)): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, Decimal | date | time | UUID | Enum | PurePath):
        return mask_text(str(value))
    # Anything else is some library's object, whose printed form may hold anything (a
    # framework's request info printed the whole request context, personal numbers and
    # all): only its type goes on the record.
    return f"<{type(value).__name__}>"


def _bounded(value: Any) -> Any:
    encoded = orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if len(encoded) <= MAX_JSON_BYTES:
        return value
    return {"truncated": True, "bytes": len(encoded), "sha256": hashlib.sha256(encoded).hexdigest()}


def prepare(entry: AuditEntry, key: bytes) -> dict[str, Any]:
    """The stored fields of ``entry`` except ``seq`` and the hashes (see ``audit_chain.seal``)."""
    shared = entry.shared
    if shared is None or entry.references:
        return _prepare(entry, key)
    prepared = shared.get(key)
    if prepared is None:
        stored = _prepare(entry, key)
        shared.keep(key, stored)
        return stored
    return {**prepared.fields, **_own(entry, None)}


def unsealed(entry: AuditEntry, key: bytes) -> Unsealed:
    """``entry``'s stored fields, encoded: ``Unsealed.of(prepare(entry, key))``, reusing the
    encoding of the fields an entry's ``shared`` part has prepared before."""
    shared = entry.shared
    if shared is None:
        return _remembered(entry, key)
    if entry.references:
        return Unsealed.of(_prepare(entry, key))
    prepared = shared.get(key)
    if prepared is None:
        stored = _prepare(entry, key)
        return Unsealed.of(stored, shared.keep(key, stored).encoded)
    return prepared.unsealed(_own(entry, None))


def _remembered(entry: AuditEntry, key: bytes) -> Unsealed:
    # ``unsealed`` of an entry without ``shared``: the memo's fields, and its own.
    memo_key = FIELD_MEMO.key(entry, key)
    if memo_key is None:
        return Unsealed.of(_prepare(entry, key))
    prepared = FIELD_MEMO.get(memo_key)
    if prepared is None:
        stored = _prepare(entry, key)
        record = Unsealed.of(stored)
        FIELD_MEMO.keep(memo_key, stored, record.encoded)
        return record
    own = _per_request(entry, None)
    own["agencies"] = _agencies(entry)
    return prepared.unsealed(own)


def _agencies(entry: AuditEntry) -> tuple[dict[str, Any], ...]:
    return tuple(
        {
            "agency": call.agency,
            "facet": call.facet,
            "keys": call.keys,
            "errors": call.errors,
            "ms": round(call.ms, 3),
            "status": call.status,
        }
        for call in entry.agencies
    )


def _detail(detail: dict[str, Any]) -> Any:
    items = tuple(detail.items())
    # Strings only: the memo's key compares values, and 1, 1.0 and True compare equal.
    if len(items) <= 8 and all(type(k) is str and type(v) is str for k, v in items):
        return _flat_detail(items)
    return _bounded(jsonable(mask_value(detail)))


@functools.lru_cache(maxsize=1024)
def _flat_detail(items: tuple[tuple[str, Any], ...]) -> Any:
    # A hit's detail is the same few strings request after request (its client, "query",
    # "responseCache"): masked and checked once. Callers never change what comes back.
    return _bounded(jsonable(mask_value(dict(items))))


@functools.lru_cache(maxsize=1024)
def _principal_text(subject: str) -> str:
    # The same few officers ask request after request: each is masked and clipped once.
    return _clip(mask_text(subject), 200)


def _own(entry: AuditEntry, detail: Any) -> dict[str, Any]:
    # The fields every record has of its own: who, when, the outcome, the detail.
    own = _per_request(entry, detail)
    own["principal"] = _principal_text(entry.principal)
    own["court"] = _clip(entry.court, 200)
    own["roles"] = tuple(sorted(entry.roles))
    return own


def _per_request(entry: AuditEntry, detail: Any) -> dict[str, Any]:
    # ``_own`` but who asked (the field memo holds that: the officer is in its key).
    return {
        "time": entry.time.astimezone(UTC),
        "request_id": _clip(entry.request_id, 128),
        "outcome": entry.outcome,
        "code": None if entry.code is None else _clip(entry.code, 64),
        "http_status": entry.http_status,
        "duration_ms": None if entry.duration_ms is None else round(entry.duration_ms, 3),
        "detail": _detail(entry.detail) if detail is None else detail,
        "client_request_id": None
        if entry.client_request_id is None
        else _clip(entry.client_request_id, 128),
    }


def _prepare(entry: AuditEntry, key: bytes) -> dict[str, Any]:
    refs = entry.references
    asked = [normalised_debtor(r.debtor_id) for r in refs if r.debtor_id]
    debtors = sorted({normalised_debtor(d) for d in entry.debtors if d} | set(asked))
    named = [entry.case_number, *entry.cases] if entry.case_number else list(entry.cases)
    named += [r.case_number for r in refs if r.case_number]
    cases = [_clip(c, 64) for c in dict.fromkeys(named) if c]
    detail = _bounded(jsonable(mask_value(entry.detail)))
    if refs:
        # Beside the bounded detail, not inside it: a detail cut to its digest (hundreds of
        # refusals' messages) must not take the list of what was asked with it.
        clipped = [
            r if r.case_number is None else replace(r, case_number=_clip(r.case_number, 64))
            for r in refs
        ]
        detail = {**detail, "entities": mask_value(entities_detail(clipped, cases, debtors))}
    fields = [_debtor_fields(key, d) for d in debtors]
    agencies = _agencies(entry)
    return {
        **_own(entry, detail),
        "case_number": cases[0] if cases else None,
        "cases": tuple(cases),
        "operation": _clip(mask_text(entry.operation), 200),
        "document_hash": entry.document_hash,
        "variables": _bounded(jsonable(mask_value(entry.variables))),
        "debtors": tuple(masked for masked, _ in fields),
        "debtor_keys": tuple(keyed for _, keyed in fields),
        "agencies": agencies,
    }
