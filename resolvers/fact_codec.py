"""An explicit JSON codec for cached facts (``Fetched`` and the domain records in it).

The shared cache lives outside the process, so what comes back from it is untrusted input:
no pickle. Each record is written as ``{"$t": "<Type>", ...fields}`` and read back only
into the closed set of types below, field by field; enums, decimals, dates and datetimes
carry their own tags. Anything else (an unknown tag, a missing or extra field, a wrong
shape) raises ``CodecError``, which the cache treats as a miss.

Bump ``VERSION`` when a domain record changes shape: it is part of every cache key, so
old entries are simply never read again.
"""

from __future__ import annotations

import dataclasses
import enum
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import orjson

from connectors import domain as d

__all__ = ["VERSION", "CodecError", "decode_fact", "encode_fact"]

VERSION = 2  # 2: Control.claim

_RECORDS: dict[str, type[Any]] = {
    cls.__name__: cls
    for cls in (
        d.Identity,
        d.CompanyInfo,
        d.Marriage,
        d.CompanyRole,
        d.Control,
        d.Mortgage,
        d.RealEstate,
        d.Vehicle,
        d.EquityStake,
        d.ExitBan,
        d.OrganizationPerson,
    )
}
_ENUMS: dict[str, type[enum.Enum]] = {
    cls.__name__: cls for cls in (d.AssetKind, d.ControlKind, d.DebtorKind, d.Facet)
}
# Fields set by the record itself (``kind`` of an asset), never read from the cache.
_INIT: dict[str, frozenset[str]] = {
    name: frozenset(f.name for f in dataclasses.fields(cls) if f.init)
    for name, cls in _RECORDS.items()
}


class CodecError(ValueError):
    """A cached payload is not a fact this version of the gateway wrote."""


def _encode(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, enum.Enum):  # before str: StrEnum members are strs too
        return {"$e": type(value).__name__, "v": value.value}
    if isinstance(value, str):
        return value
    if isinstance(value, Decimal):
        return {"$n": str(value)}
    if isinstance(value, datetime):  # before date: a datetime is a date too
        return {"$dt": value.isoformat()}
    if isinstance(value, date):
        return {"$d": value.isoformat()}
    if isinstance(value, tuple):
        return [_encode(v) for v in value]
    name = type(value).__name__
    if dataclasses.is_dataclass(value) and _RECORDS.get(name) is type(value):
        out = {"$t": name}
        for f in dataclasses.fields(value):
            if f.init:
                out[f.name] = _encode(getattr(value, f.name))
        return out
    raise CodecError(f"cannot encode a {name}")


def _decode(raw: Any) -> Any:
    if raw is None or isinstance(raw, bool | int | float | str):
        return raw
    if isinstance(raw, list):
        return tuple(_decode(v) for v in raw)
    if not isinstance(raw, dict):
        raise CodecError(f"unexpected {type(raw).__name__}")
    if "$t" in raw:
        name = raw["$t"]
        cls = _RECORDS.get(name) if isinstance(name, str) else None
        if cls is None:
            raise CodecError(f"unknown record type {name!r}")
        fields = {k: v for k, v in raw.items() if k != "$t"}
        if set(fields) != _INIT[name]:
            raise CodecError(f"{name}: fields do not match")
        return cls(**{k: _decode(v) for k, v in fields.items()})
    return _scalar(raw)


def _scalar(raw: dict[str, Any]) -> Any:
    try:
        if set(raw) == {"$e", "v"}:
            return _ENUMS[raw["$e"]](raw["v"])
        if set(raw) == {"$n"}:
            number = Decimal(raw["$n"])
            if not number.is_finite():
                raise CodecError("non-finite decimal")
            return number
        if set(raw) == {"$dt"}:
            return datetime.fromisoformat(raw["$dt"])
        if set(raw) == {"$d"}:
            return date.fromisoformat(raw["$d"])
    except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
        raise CodecError(f"bad tagged value: {exc}") from exc
    raise CodecError("untagged object")


def encode_fact(fact: d.Fetched) -> bytes:
    """The JSON bytes of ``fact`` (its ``cached``/``stale`` flags are not stored)."""
    return orjson.dumps(
        {"value": _encode(fact.value), "agency": fact.agency, "at": fact.fetched_at.isoformat()}
    )


def decode_fact(payload: bytes) -> d.Fetched:
    """The fact in ``payload``; ``CodecError`` if it is not one ``encode_fact`` wrote."""
    try:
        raw = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise CodecError("not JSON") from exc
    if not isinstance(raw, dict) or set(raw) != {"value", "agency", "at"}:
        raise CodecError("not a fact")
    agency, at = raw["agency"], raw["at"]
    if not isinstance(agency, str) or not isinstance(at, str):
        raise CodecError("not a fact")
    try:
        fetched_at = datetime.fromisoformat(at)
    except ValueError as exc:
        raise CodecError("bad fetched_at") from exc
    value = _decode(raw["value"])
    if fetched_at.tzinfo is None:
        raise CodecError("naive fetched_at")
    return d.Fetched(value=value, agency=agency, fetched_at=fetched_at)
