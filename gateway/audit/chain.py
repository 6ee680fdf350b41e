"""The audit log's hash chain: a record's canonical encoding, its hash, and checking a run.

Each stored record carries the hash of the one before it::

    hash(n) = sha256( bytes.fromhex(hash(n - 1)) || canonical(record n) )
    hash(0) = GENESIS (64 zeros)

where ``canonical`` is the record's JSON with every stored field except ``prev_hash`` and
``hash`` (so including ``seq``), keys sorted, no whitespace, UTF-8, times as ISO 8601 UTC
with microseconds. Editing a record changes its hash; deleting one leaves a gap in ``seq``
or a ``prev_hash`` that no longer matches; reordering does both. ``ChainWalker`` checks
records in ``seq`` order and names the first one that breaks the chain.

Writers encode a record before they know its place: ``Unsealed`` holds the canonical bytes
on either side of ``seq``, so sealing under the chain's lock is one SHA-256 per record.
Checking (``record_hash`` over ``StoredRecord.body``) encodes from scratch, and so checks
that shortcut too.

There is one chain per writer (``chain`` names it; records are addressed by ``(chain,
seq)``). ``chain`` is not in the canonical body, so records written before there were
several chains hash as they did; instead each chain starts from its own genesis,
``chain_genesis(chain)``, which binds the name into every hash after it. The log written
before chains existed is the chain ``LEGACY_CHAIN``, whose genesis stays ``GENESIS``.

A chain proves order and integrity, not completeness at the tail: whoever can rewrite the
whole database can rewrite a chain. The other chains' witness records (see
``gateway/audit/witness.py``) make a cut tail contradict them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import orjson

__all__ = [
    "GENESIS",
    "JSON_FIELDS",
    "LEGACY_CHAIN",
    "OPTIONAL",
    "Break",
    "ChainWalker",
    "StoredRecord",
    "Unsealed",
    "canonical",
    "chain_genesis",
    "record_hash",
    "seal",
]

GENESIS = "0" * 64
LEGACY_CHAIN = "legacy"  # the single chain of a log written before there were several


def chain_genesis(chain: str) -> str:
    """The ``prev_hash`` of a chain's first record: binds the chain's name into its hashes."""
    if chain == LEGACY_CHAIN:
        return GENESIS
    return hashlib.sha256(b"liandong audit chain\x00" + chain.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One audit record exactly as stored; JSON fields hold plain JSON values only."""

    seq: int
    time: datetime
    request_id: str
    principal: str
    court: str
    roles: tuple[str, ...]
    case_number: str | None
    cases: tuple[str, ...]
    operation: str
    document_hash: str | None
    variables: Any
    debtors: tuple[str, ...]  # masked ids
    debtor_keys: tuple[str, ...]  # HMAC-SHA256 of each id, same order
    agencies: tuple[Any, ...]  # one JSON object per agency call
    outcome: str
    code: str | None
    http_status: int | None
    duration_ms: float | None
    detail: Any
    prev_hash: str
    hash: str
    client_request_id: str | None = None  # the client's X-Request-Id; hashed only when set
    chain: str = LEGACY_CHAIN  # the writer's chain; bound in through ``chain_genesis``

    def body(self) -> dict[str, Any]:
        """The hashed fields (all but ``prev_hash`` and ``hash``) as JSON values."""
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name in _UNBODIED:
                continue
            value = getattr(self, f.name)
            if value is None and f.name in OPTIONAL:
                continue
            if isinstance(value, datetime):
                value = _timestamp(value)
            elif isinstance(value, tuple):
                value = list(value)
            out[f.name] = value
        return out


def _timestamp(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit times must be timezone-aware")
    # The same text as strftime("%Y-%m-%dT%H:%M:%S.%fZ"), for a fifth of the time.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def canonical(body: Mapping[str, Any]) -> bytes:
    """The canonical bytes of a record body: sorted keys, compact, UTF-8."""
    return orjson.dumps(body, option=orjson.OPT_SORT_KEYS)


def record_hash(prev_hash: str, body: Mapping[str, Any]) -> str:
    """The chain hash of a record whose predecessor's hash is ``prev_hash``."""
    digest = hashlib.sha256(bytes.fromhex(prev_hash))
    digest.update(canonical(body))
    return digest.hexdigest()


_UNBODIED = frozenset({"prev_hash", "hash", "chain"})
_UNHASHED = frozenset({"seq"}) | _UNBODIED
# Fields added after records were first written: left out of the canonical form while unset,
# so records written before them hash, and verify, exactly as they did.
OPTIONAL = frozenset({"client_request_id"})
_FIELDS = frozenset(f.name for f in fields(StoredRecord)) - _UNHASHED
# The body's keys either side of "seq".
_BEFORE_SEQ = tuple(name for name in sorted(_FIELDS) if name < "seq")
_AFTER_SEQ = tuple(name for name in sorted(_FIELDS) if name > "seq")
_UNSET = dict.fromkeys(OPTIONAL)
_KEYS = {name: b'"%s":' % name.encode() for name in _FIELDS}  # each key as its JSON prefix
# Fields whose values are JSON structures: a writer stores each as its canonical JSON text.
JSON_FIELDS = ("agencies", "cases", "debtor_keys", "debtors", "detail", "roles", "variables")
_JSON = frozenset(JSON_FIELDS)


@dataclass(frozen=True, slots=True)
class Unsealed:
    """A record's fields and its canonical encoding, split where ``seq`` goes.

    ``canonical(body)`` is ``head + str(seq) + tail``: the body's keys are sorted and
    ``seq`` falls between ``roles`` and ``time``. ``encoded`` holds the canonical JSON of
    each of ``JSON_FIELDS``, for writers that store them as text.
    """

    fields: Mapping[str, Any]
    encoded: Mapping[str, bytes]
    head: bytes  # '{"agencies":…,"roles":[…],"seq":'
    tail: bytes  # ',"time":"…","variables":…}'

    @classmethod
    def of(cls, fields_: Mapping[str, Any], known: Mapping[str, bytes] | None = None) -> Unsealed:
        """Encode ``fields_`` (a record's stored fields but seq and hashes); ``known`` gives
        the canonical JSON of some of them, already made (``orjson`` with sorted keys).

        Raises ``TypeError`` for missing or unknown fields and values that are not JSON,
        ``ValueError`` for a naive ``time``.
        """
        fields_ = {**_UNSET, **fields_}
        if fields_.keys() != _FIELDS:
            wrong = sorted(fields_.keys() ^ _FIELDS)
            raise TypeError(f"audit record fields do not match the stored record: {wrong}")
        values = {
            name: _timestamp(value) if isinstance(value, datetime) else value
            for name, value in fields_.items()
            if value is not None or name not in OPTIONAL
        }
        sort = orjson.OPT_SORT_KEYS
        if known:
            # Some fields come encoded (a kept answer's hits share them): join the pieces.
            pieces = {n: known.get(n) or orjson.dumps(v, option=sort) for n, v in values.items()}
            head = b",".join([_KEYS[n] + pieces[n] for n in _BEFORE_SEQ if n in pieces])
            tail = b",".join([_KEYS[n] + pieces[n] for n in _AFTER_SEQ if n in pieces])
            encoded = {name: pieces[name] for name in JSON_FIELDS}
            return cls(fields_, encoded, b"{" + head + b',"seq":', b"," + tail + b"}")
        # Two encodings of the body's halves, not one per field (a dict is encoded with its
        # keys sorted and compact, as the canonical form is): each half is never empty.
        head = orjson.dumps({n: values[n] for n in _BEFORE_SEQ if n in values}, option=sort)
        tail = orjson.dumps({n: values[n] for n in _AFTER_SEQ if n in values}, option=sort)
        encoded = {name: orjson.dumps(values[name], option=sort) for name in JSON_FIELDS}
        return cls(fields_, encoded, head[:-1] + b',"seq":', b"," + tail[1:])

    @classmethod
    def joined(
        cls, shared: Mapping[str, Any], known: Mapping[str, bytes], own: Mapping[str, Any]
    ) -> Unsealed:
        """``of({**shared, **own}, known)`` where ``known`` encodes every field of ``shared``
        and ``own`` holds all the others: a kept answer's hit encodes only its own fields.

        Raises as ``of`` does.
        """
        if shared.keys() | own.keys() != _FIELDS or not shared.keys() <= known.keys():
            return cls.of({**shared, **own}, known)  # let ``of`` name what is wrong
        before = {n: orjson.Fragment(known[n]) for n in shared if n < "seq"}
        after = {n: orjson.Fragment(known[n]) for n in shared if n > "seq"}
        return cls.spliced(shared, known, (before, after), own)

    @classmethod
    def spliced(
        cls,
        shared: Mapping[str, Any],
        known: Mapping[str, bytes],
        halves: tuple[Mapping[str, Any], Mapping[str, Any]],
        own: Mapping[str, Any],
    ) -> Unsealed:
        """``joined(shared, known, own)``, given also ``known`` as ``orjson.Fragment``s by the
        half of the body each falls in (``halves``: before ``seq``, after it).

        Raises as ``of`` does.
        """
        if shared.keys() | own.keys() != _FIELDS or not shared.keys() <= known.keys():
            return cls.of({**shared, **own}, known)  # let ``of`` name what is wrong
        # Two encodings of the body's halves, as ``of`` makes them, with the shared fields
        # spliced in as they were encoded rather than joined by hand.
        sort = orjson.OPT_SORT_KEYS
        parts = (dict(halves[0]), dict(halves[1]))
        encoded = {name: known[name] for name in JSON_FIELDS if name in shared}
        for name, given in own.items():
            value: Any = given
            if name in _JSON:
                piece = encoded[name] = orjson.dumps(given, option=sort)
                value = orjson.Fragment(piece)
            elif given is None and name in OPTIONAL:
                continue
            elif isinstance(given, datetime):
                value = _timestamp(given)
            parts[name > "seq"][name] = value
        head = orjson.dumps(parts[0], option=sort)
        tail = orjson.dumps(parts[1], option=sort)
        return cls({**shared, **own}, encoded, head[:-1] + b',"seq":', b"," + tail[1:])

    def digest(self, seq: int, prev_hash: str) -> str:
        """The chain hash of this record at ``seq`` after a record hashed ``prev_hash``."""
        digest = hashlib.sha256(bytes.fromhex(prev_hash))
        digest.update(self.head)
        digest.update(b"%d" % seq)
        digest.update(self.tail)
        return digest.hexdigest()

    def seal(self, seq: int, prev_hash: str, chain: str = LEGACY_CHAIN) -> StoredRecord:
        """The stored record at ``seq`` of ``chain`` after a record hashed ``prev_hash``."""
        return StoredRecord(
            seq=seq,
            prev_hash=prev_hash,
            hash=self.digest(seq, prev_hash),
            chain=chain,
            **self.fields,
        )


def seal(
    fields_: Mapping[str, Any], seq: int, prev_hash: str, chain: str = LEGACY_CHAIN
) -> StoredRecord:
    """The stored record for ``fields_`` (everything but seq and hashes) at ``seq``."""
    return Unsealed.of(fields_).seal(seq, prev_hash, chain)


@dataclass(frozen=True, slots=True)
class Break:
    """Where the chain breaks: the first record that is missing, moved or altered."""

    seq: int
    reason: str
    chain: str | None = None

    def __str__(self) -> str:
        where = f"chain {self.chain} " if self.chain is not None else ""
        return f"{where}record {self.seq}: {self.reason}"


class ChainWalker:
    """Checks one chain's records fed in ``seq`` order; remembers the last good one."""

    def __init__(self, chain: str | None = None) -> None:
        self.chain = chain
        self.next_seq = 1
        self.prev_hash = GENESIS if chain is None else chain_genesis(chain)
        self.checked = 0

    def check(self, record: StoredRecord) -> Break | None:
        """None if ``record`` continues the chain (and it is taken), else the break."""
        broken = self.inspect(record)
        if broken is None:
            self.accept(record)
        return broken

    def inspect(self, record: StoredRecord) -> Break | None:
        """Like ``check``, without taking the record."""
        if record.seq > self.next_seq:
            return Break(
                self.next_seq, f"missing (the next stored record is {record.seq})", self.chain
            )
        if record.seq < self.next_seq:
            return Break(record.seq, "out of order or duplicated", self.chain)
        if record.prev_hash != self.prev_hash:
            return Break(
                record.seq, "prev_hash does not match the previous record's hash", self.chain
            )
        if record_hash(record.prev_hash, record.body()) != record.hash:
            return Break(record.seq, "contents do not match its hash (altered)", self.chain)
        return None

    def accept(self, record: StoredRecord) -> None:
        """Take ``record`` as the chain's new last link (after ``inspect`` found it good)."""
        self.prev_hash = record.hash
        self.next_seq += 1
        self.checked += 1
