"""Whether a value is awaitable, remembered per class: asked of every fact and every field.

The standard checks end in an ABC ``isinstance`` (``inspect.isawaitable``) or a failing
``hasattr(value, "__await__")`` (strawberry's ``optimized_is_awaitable``, graphql-core's
check), each slower than the rest of a small resolver, for every object that is not a
plain value. ``await`` decides by the class, so the class's answer is kept. Asked every
time, as before: generators (a generator is awaitable only when its code says so), objects
whose ``__class__`` is not their type, classes that compute attributes (``__getattr__``, a
``__getattribute__`` written in Python), and an instance holding its own ``__await__``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import FunctionType, GeneratorType
from typing import Any, TypeGuard

__all__ = ["remembered_per_class"]

_MAX_CLASSES = 4096  # classes remembered per check; a schema has a few hundred at most


def remembered_per_class(
    check: Callable[[Any], bool],
) -> Callable[[Any], TypeGuard[Awaitable[Any]]]:
    """``check``, with its answer kept per class where the class decides it."""
    by_class: dict[type, bool] = {}

    def is_awaitable(value: Any) -> TypeGuard[Awaitable[Any]]:
        cls = type(value)
        known = by_class.get(cls)
        if known is not None:
            return known
        answer = check(value)
        if _decided_by_class(cls, value) and len(by_class) < _MAX_CLASSES:
            by_class[cls] = answer
        return answer

    return is_awaitable


def _decided_by_class(cls: type, value: Any) -> bool:
    if cls is GeneratorType or value.__class__ is not cls:
        return False
    # ``hasattr`` sees an instance's own ``__await__``; ``await`` would not.
    if "__await__" in getattr(value, "__dict__", ()):
        return False
    lookup = getattr(cls, "__getattribute__", None)
    return not isinstance(lookup, FunctionType) and not hasattr(cls, "__getattr__")
