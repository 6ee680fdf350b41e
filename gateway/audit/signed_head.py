"""Signed tree heads: one chain's RFC 6962 tree head, signed with Ed25519.

A head says "chain C held ``size`` records whose Merkle root (``gateway/audit/merkle.py``)
is ``root``, at ``time``", and is signed with a key the database does not hold
(``gateway/audit/head_keys.py``). Whoever can write the database but not read the key
cannot cut or rewrite a chain below a head that was published to a witness.

The signed bytes are a short text in the spirit of C2SP's ``tlog-checkpoint`` (one field
per line, each ending in ``\\n``, no optional parts, so one head has one encoding)::

    liandong-tree-head/v1
    chain=<chain id: letters, digits, '.', '_', '-'; at most 128>
    size=<decimal, no leading zeros>
    root=<64 lower-case hex digits>
    time=<UTC, YYYY-MM-DDTHH:MM:SS.ffffffZ>
    key=<key id: 32 lower-case hex digits, the first 16 bytes of SHA-256(raw public key)>

The signature is Ed25519 over exactly those bytes. On the wire (witness files and HTTP)
a head is the JSON object ``{"chain", "size", "root", "time", "key_id", "signature"}``
(signature in standard base64); the receiver rebuilds the text from the fields.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

__all__ = [
    "FORMAT",
    "HeadFormatError",
    "SignedTreeHead",
    "TreeHead",
    "key_id",
    "sign_head",
]

FORMAT = "liandong-tree-head/v1"
_CHAIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
_HEX64 = re.compile(r"[0-9a-f]{64}")
_KEY_ID = re.compile(r"[0-9a-f]{32}")
_TIME = "%Y-%m-%dT%H:%M:%S.%fZ"


class HeadFormatError(ValueError):
    """A head whose fields cannot be encoded or decoded (not a signature failure)."""


def key_id(public: Ed25519PublicKey) -> str:
    """The id a head names its key by: the first 16 bytes of SHA-256 of the raw key, hex."""
    raw = public.public_bytes(Encoding.Raw, PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:32]


def _time_text(when: datetime) -> str:
    if when.tzinfo is None:
        raise HeadFormatError("a head's time must carry a time zone")
    return when.astimezone(UTC).strftime(_TIME)


@dataclass(frozen=True, slots=True)
class TreeHead:
    """A chain's tree head before signing: size, root (hex) and when it was taken."""

    chain: str
    size: int
    root: str
    time: datetime

    def __post_init__(self) -> None:
        if not _CHAIN.fullmatch(self.chain):
            raise HeadFormatError(f"not a chain id: {self.chain!r}")
        if self.size < 0:
            raise HeadFormatError(f"a size is never negative: {self.size}")
        if not _HEX64.fullmatch(self.root):
            raise HeadFormatError("a root is 64 lower-case hex digits")
        _time_text(self.time)

    def message(self, key: str) -> bytes:
        """The bytes signed for this head under the key with id ``key``."""
        if not _KEY_ID.fullmatch(key):
            raise HeadFormatError(f"not a key id: {key!r}")
        return (
            f"{FORMAT}\nchain={self.chain}\nsize={self.size}\nroot={self.root}\n"
            f"time={_time_text(self.time)}\nkey={key}\n"
        ).encode()


@dataclass(frozen=True, slots=True)
class SignedTreeHead:
    """A tree head with the id of the key that signed it and the Ed25519 signature."""

    head: TreeHead
    key_id: str
    signature: bytes

    @property
    def chain(self) -> str:
        return self.head.chain

    @property
    def size(self) -> int:
        return self.head.size

    @property
    def root(self) -> str:
        return self.head.root

    @property
    def time(self) -> datetime:
        return self.head.time

    def message(self) -> bytes:
        """The signed bytes (see the module docstring)."""
        return self.head.message(self.key_id)

    def check(self, trusted: Mapping[str, Ed25519PublicKey]) -> str | None:
        """Why the signature does not hold under the trusted keys (by id), or None."""
        public = trusted.get(self.key_id)
        if public is None:
            return f"signed by key {self.key_id}, which is not a trusted key"
        try:
            public.verify(self.signature, self.message())
        except InvalidSignature:
            return f"the signature is not key {self.key_id}'s"
        return None

    def to_json(self) -> dict[str, Any]:
        """The wire form (see the module docstring)."""
        return {
            "chain": self.chain,
            "size": self.size,
            "root": self.root,
            "time": _time_text(self.time),
            "key_id": self.key_id,
            "signature": base64.b64encode(self.signature).decode(),
        }

    @classmethod
    def from_json(cls, data: Any) -> SignedTreeHead:
        """Read the wire form; ``HeadFormatError`` names what is wrong."""
        if not isinstance(data, dict):
            raise HeadFormatError("a signed head is a JSON object")
        try:
            chain, size, root = data["chain"], data["size"], data["root"]
            when, kid, sig = data["time"], data["key_id"], data["signature"]
        except KeyError as err:
            raise HeadFormatError(f"a signed head needs {err.args[0]!r}") from None
        if not all(isinstance(v, str) for v in (chain, root, when, kid, sig)):
            raise HeadFormatError("chain, root, time, key_id and signature are strings")
        if not isinstance(size, int) or isinstance(size, bool):
            raise HeadFormatError("size is an integer")
        try:
            parsed = datetime.strptime(when, _TIME).replace(tzinfo=UTC)
            signature = base64.b64decode(sig, validate=True)
        except (ValueError, binascii.Error):
            raise HeadFormatError("time or signature is malformed") from None
        if not _KEY_ID.fullmatch(kid):
            raise HeadFormatError(f"not a key id: {kid!r}")
        return cls(TreeHead(chain, size, root, parsed), kid, signature)


def sign_head(head: TreeHead, key: Ed25519PrivateKey) -> SignedTreeHead:
    """Sign ``head`` with ``key``, naming the key by its id."""
    kid = key_id(key.public_key())
    return SignedTreeHead(head, kid, key.sign(head.message(kid)))
