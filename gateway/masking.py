"""Masking of personal numbers: ``110101199003071234`` becomes ``110101********1234``.

Responses mask resident ids unless the principal holds the ``unmask`` scope; logs and audit
variables always do. Credit codes identify companies publicly and are left alone. When in
doubt (id-shaped, but valid as neither), mask: a masked company code costs nothing, a
leaked personal number cannot be taken back.
"""

from __future__ import annotations

import functools
import re
from typing import TypeVar, cast

from stdnum.cn import ric

from gateway.identifiers import is_credit_code

__all__ = ["escaped", "mask_id", "mask_text", "mask_value"]

T = TypeVar("T")

_RESIDENT_SHAPE = re.compile(r"\d{17}[\dXx]")
# Not preceded or followed by another id character, so longer numbers (bank cards,
# timestamps) are not cut up into a false "id" in the middle.
_RESIDENT_IN_TEXT = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


# Validating a number with python-stdnum costs tens of microseconds, and the same few ids
# recur in every response and audit record of a case: remember recent answers.
@functools.lru_cache(maxsize=16_384)
def mask_id(value: str) -> str:
    """Mask an 18-character resident id (first 6 and last 4 kept); anything else unchanged."""
    if len(value) != 18 or not _RESIDENT_SHAPE.fullmatch(value):
        return value
    if value[17] not in "Xx" and _is_credit_code(value):
        return value
    return value[:6] + "*" * 8 + value[14:]


def _is_credit_code(value: str) -> bool:
    # A resident id whose check digit also happens to satisfy the credit-code checksum
    # would stay unmasked; prefer masking when both readings are plausible.
    if not is_credit_code(value.upper()):
        return False
    try:
        return not ric.is_valid(value)
    except KeyError:  # stdnum's region table has gaps that raise instead of failing
        return True


def mask_text(s: str) -> str:
    """Mask every resident-id-shaped number in free text (log lines, audit variables)."""
    return _RESIDENT_IN_TEXT.sub(lambda m: mask_id(m.group(0)), s)


def mask_value(obj: T) -> T:
    """``obj`` with every string in it masked, recursing into dicts, lists and tuples."""
    if isinstance(obj, str):
        return cast(T, mask_text(obj))
    if isinstance(obj, dict):
        return cast(T, {mask_value(k): mask_value(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return cast(T, [mask_value(v) for v in obj])
    if isinstance(obj, tuple):
        return cast(T, tuple(mask_value(v) for v in obj))
    return obj


# Lone surrogates and NUL: what UTF-8 and PostgreSQL text columns refuse.
_UNSAFE = re.compile("[\x00\ud800-\udfff]")


def escaped(text: str) -> str:
    """``text`` with lone surrogates and NUL written as escapes (``\\ud800``, ``\\x00``).

    For what is stored or logged: such text cannot be encoded to UTF-8 (surrogates) or
    stored in a PostgreSQL text column (NUL), and must be kept, not dropped.
    """
    if _UNSAFE.search(text) is None:
        return text
    return _UNSAFE.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
