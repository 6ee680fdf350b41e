"""Whether a value is awaitable, known once per class: asked some 60 times per debtor answered.

strawberry's ``optimized_is_awaitable`` answers plain values (str, int, list, …) by their
type, but every other object (each fact, each provenance, each result object) goes through
two ``isinstance`` checks and a failed ``hasattr(value, "__await__")``, which raises and
catches an ``AttributeError`` inside. For an ordinary class the answer is the class's: it
is kept per class. Coroutines, generators (a generator is awaitable only when its code says
so), objects whose ``__class__`` is not their type, and classes that compute attributes
(``__getattr__``, their own ``__getattribute__``) are asked every time, as before.
"""

from __future__ import annotations

from collections.abc import Awaitable
from types import CoroutineType, FunctionType, GeneratorType
from typing import Any, TypeGuard

from strawberry.execution import optimized_is_awaitable

__all__ = ["is_awaitable"]

_MAX_CLASSES = 4096  # classes remembered; a schema has a few hundred at most
_by_class: dict[type, bool] = {CoroutineType: True}


def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
    """``optimized_is_awaitable(value)``, remembered per class where the class decides it."""
    cls = type(value)
    known = _by_class.get(cls)
    if known is not None:
        return known
    answer = optimized_is_awaitable(value)
    if _decided_by_class(cls, value) and len(_by_class) < _MAX_CLASSES:
        _by_class[cls] = answer
    return answer


def _decided_by_class(cls: type, value: Any) -> bool:
    # ``await`` looks ``__await__`` up on the class, never on the instance: an instance's
    # own attribute of that name (which ``hasattr`` sees) is not let decide for its class.
    if cls is GeneratorType or value.__class__ is not cls:
        return False
    if "__await__" in getattr(value, "__dict__", ()):
        return False
    # Attribute look-up written in Python may answer differently per instance.
    lookup = getattr(cls, "__getattribute__", None)
    return not isinstance(lookup, FunctionType) and not hasattr(cls, "__getattr__")
