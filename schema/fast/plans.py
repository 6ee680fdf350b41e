"""Plans that complete a whole sub-tree of plain fields in one loop, and their runner.

A plan answers one shared selection (see ``executor.py``) when every field in it is
``__typename``, a plain scalar, or a plain object, or a list of plain scalars or plain
objects (attribute readers without arguments; object types without an ``is_type_of``
check), each object's own selection planned likewise. Running it reads attributes and
serialises scalars, nothing else: no ``Path``, no ``GraphQLResolveInfo``, no call per
field. Anything unusual (a null where the schema says non-null, an awaitable, a value
that is not a list where a list is due, a scalar that does not serialise) raises
``Unplanned``, and the executor completes the whole object again on graphql-core's path,
which gives its usual answer or error; reading attributes has no side effects, so
nothing was done twice that matters.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["LEAF", "LIST", "OBJECT", "TYPENAME", "Item", "Step", "Unplanned", "run_plan"]

TYPENAME, LEAF, OBJECT, LIST = range(4)

# How a value (a field's, or a list's item) is completed: its kind (LEAF or OBJECT), the
# scalar or enum type (LEAF) or the object type's name (OBJECT), whether it is non-null,
# and the object's steps (OBJECT).
Item = tuple[int, Any, bool, "list[Step] | None"]
# One field of a planned selection: response name, kind, attribute reader (None for
# ``__typename``), the scalar or enum type / object type name / list ``Item``, whether
# non-null, and the object's steps.
Step = tuple[str, int, Callable[[Any], Any] | None, Any, bool, "list[Step] | None"]


class Unplanned(Exception):
    """Something the plan does not cover: complete the object on graphql-core's path."""


def run_plan(
    steps: list[Step],
    type_name: str,
    source: Any,
    leaf: Callable[[Any, Any], Any],
    is_awaitable: Callable[[Any], bool],
) -> dict[str, Any]:
    """The completed fields of ``source``; raises ``Unplanned`` (or what a reader raised)."""
    out: dict[str, Any] = {}
    for name, kind, read, what, non_null, sub in steps:
        if read is None:
            out[name] = type_name
            continue
        value = read(source)
        if value is None:
            if non_null:
                raise Unplanned
            out[name] = None
        elif is_awaitable(value):
            raise Unplanned
        elif kind == LEAF:
            out[name] = leaf(what, value)
        elif kind == OBJECT:
            assert sub is not None
            out[name] = run_plan(sub, what, value, leaf, is_awaitable)
        else:
            out[name] = _run_list(what, value, leaf, is_awaitable)
    return out


def _run_list(
    item: Item, values: Any, leaf: Callable[[Any, Any], Any], is_awaitable: Callable[[Any], bool]
) -> list[Any]:
    # graphql-core takes any iterable but a string or a mapping; lists and tuples are
    # what our types hold, and anything else goes its way.
    if type(values) is not list and type(values) is not tuple:
        raise Unplanned
    kind, what, non_null, sub = item
    out: list[Any] = []
    for value in values:
        if value is None:
            if non_null:
                raise Unplanned
            out.append(None)
        elif is_awaitable(value):
            raise Unplanned
        elif kind == LEAF:
            out.append(leaf(what, value))
        else:
            assert sub is not None
            out.append(run_plan(sub, what, value, leaf, is_awaitable))
    return out
