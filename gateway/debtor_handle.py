"""Opaque debtor handles: how a debtor is named outside a case look-up without their number.

A handle names one debtor *as seen through one case*: ``dh1.`` followed by the base64url
of an AES-SIV encryption of the case number and the debtor id. AES-SIV is deterministic, so
the same debtor in the same case always gets the same handle (routers and other subgraphs
can join on it, front-ends can keep it), and authenticated, so a handle cannot be forged or
edited into another debtor's; without the key it reveals nothing, not even whether two
cases share a debtor. The handle is not a right: whoever hands it back is checked like any
other look-up (on the case, the debtor a party to it).

Uses: the federation key ``Debtor @key(fields: "caseNumber handle")``, and ``debtor(id:)`` /
``debtors(ids:)``, which take a handle of their case in place of a personal number. Since a
handle carries its case, ``node(id:)`` can take one on its own.

The same codec seals the API's other node ids (``nd1.``: a case, a debtor's asset): the type
and the parts that find the node again (its case, its debtor, the agency's own asset id),
under the same key with "node" as associated data, so that a node id never opens as a
handle nor a handle as a node id. A debtor's node id *is* its handle: one value for the API,
the federation key and ``node(id:)``.

The key is derived (HKDF-SHA256) from the audit key, which every gateway of one deployment
already shares; so all instances agree on handles, and changing the audit key changes them.
"""

from __future__ import annotations

import base64
import binascii
import functools
import re

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESSIV
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from gateway.errors import InvalidInput

__all__ = ["NODE_PREFIX", "PREFIX", "DebtorHandles", "is_handle", "is_node_id"]

PREFIX = "dh1."
NODE_PREFIX = "nd1."
_NODE_AD = [b"node"]
_INFO = b"liandong debtor handle v1"
_SEP = b"\x00"  # neither a case number nor a debtor id holds a NUL
# A case number is at most ~40 bytes in UTF-8: anything much longer is not ours. Only the
# base64url alphabet, so that one handle has one spelling.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,340}")


def is_handle(value: str) -> bool:
    """Whether ``value`` is shaped like a handle (not whether it is a valid one)."""
    return value.startswith(PREFIX)


def is_node_id(value: str) -> bool:
    """Whether ``value`` is shaped like a node id other than a handle."""
    return value.startswith(NODE_PREFIX)


def _body(value: object, prefix: str) -> str:
    body = value[len(prefix) :] if isinstance(value, str) and value.startswith(prefix) else ""
    return body if _SHAPE.fullmatch(body) else ""


class DebtorHandles:
    """Seals ``(case number, debtor id)`` into a handle, and other node ids; opens them."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(secret)
        self._siv = AESSIV(key)
        # A case's debtors are listed with their handles again and again: remember them.
        self.seal = functools.lru_cache(maxsize=65_536)(self._seal)
        self.seal_node = functools.lru_cache(maxsize=65_536)(self._seal_node)

    def _seal(self, case_number: str, debtor_id: str) -> str:
        sealed = self._siv.encrypt(case_number.encode() + _SEP + debtor_id.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def _seal_node(self, type_name: str, *parts: str) -> str:
        plain = _SEP.join(p.encode() for p in (type_name, *parts))
        sealed = self._siv.encrypt(plain, _NODE_AD)
        return NODE_PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def _decrypt(self, body: str, ad: list[bytes] | None) -> bytes | None:
        if not body:
            return None
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode() != body:
                return None  # not the canonical spelling: unused low bits set
            return self._siv.decrypt(sealed, ad)
        except (binascii.Error, ValueError, InvalidTag):
            return None

    def open_node(self, node_id: object, field: str = "id") -> tuple[str, list[str]]:
        """``(type name, parts)`` of a node id made here; ``InvalidInput`` otherwise."""
        plain = self._decrypt(_body(node_id, NODE_PREFIX), _NODE_AD)
        if plain is None:
            raise InvalidInput(field, "not a node id")
        type_name, *parts = (p.decode() for p in plain.split(_SEP))
        return type_name, parts

    def open(self, handle: object, field: str = "handle") -> tuple[str, str]:
        """``(case number, debtor id)`` of a handle made here; ``InvalidInput`` otherwise."""
        plain = self._decrypt(_body(handle, PREFIX), None)
        if plain is None:
            raise InvalidInput(field, "not a debtor handle")
        case_number, sep, debtor_id = plain.partition(_SEP)
        if not sep:
            raise InvalidInput(field, "not a debtor handle")
        return case_number.decode(), debtor_id.decode()
