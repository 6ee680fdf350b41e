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

__all__ = ["PREFIX", "DebtorHandles", "is_handle"]

PREFIX = "dh1."
_INFO = b"liandong debtor handle v1"
_SEP = b"\x00"  # neither a case number nor a debtor id holds a NUL
# A case number is at most ~40 bytes in UTF-8: anything much longer is not ours. Only the
# base64url alphabet, so that one handle has one spelling.
_SHAPE = re.compile(r"[A-Za-z0-9_-]{22,340}")


def is_handle(value: str) -> bool:
    """Whether ``value`` is shaped like a handle (not whether it is a valid one)."""
    return value.startswith(PREFIX)


class DebtorHandles:
    """Seals ``(case number, debtor id)`` into a handle and opens it again."""

    def __init__(self, secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=64, salt=None, info=_INFO).derive(secret)
        self._siv = AESSIV(key)
        # A case's debtors are listed with their handles again and again: remember them.
        self.seal = functools.lru_cache(maxsize=65_536)(self._seal)

    def _seal(self, case_number: str, debtor_id: str) -> str:
        sealed = self._siv.encrypt(case_number.encode() + _SEP + debtor_id.encode(), None)
        return PREFIX + base64.urlsafe_b64encode(sealed).rstrip(b"=").decode()

    def open(self, handle: object, field: str = "handle") -> tuple[str, str]:
        """``(case number, debtor id)`` of a handle made here; ``InvalidInput`` otherwise."""
        body = handle[len(PREFIX) :] if isinstance(handle, str) and is_handle(handle) else ""
        if not _SHAPE.fullmatch(body):
            raise InvalidInput(field, "not a debtor handle")
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            if base64.urlsafe_b64encode(sealed).rstrip(b"=").decode() != body:
                raise ValueError("not the canonical spelling")  # unused low bits set
            plain = self._siv.decrypt(sealed, None)
        except (binascii.Error, ValueError, InvalidTag):
            raise InvalidInput(field, "not a debtor handle") from None
        case_number, sep, debtor_id = plain.partition(_SEP)
        if not sep:
            raise InvalidInput(field, "not a debtor handle")
        return case_number.decode(), debtor_id.decode()
