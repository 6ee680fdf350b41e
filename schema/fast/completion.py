"""A planned field's result completed by a function chosen once per field type.

graphql-core's ``complete_value`` finds out what a field's type is on every call: a
non-null wrapper, a list, a leaf, an abstract or an object type, in that order, with a
call per wrapper and per list item, and ``complete_leaf_value`` goes through the scalar's
``coerce_output_value`` (for strawberry's enums, a loop over the enum's values) even for a
plain string. In a 50-debtor answer that is ~1,600 calls of ``complete_value`` alone.
For a planned field the type is known when the plan is made, so ``completer`` picks the
steps once:

- a leaf whose value is of the one class the scalar passes through unchanged (``str`` for
  ``String`` and ``ID``, ``bool`` for ``Boolean``), or a member of the enum's own class, is
  answered at once (an enum member by a table made from the same rule strawberry's
  ``coerce_output_value`` follows);
- an object goes straight to the executor's ``complete_object_value``;
- a list is walked here as graphql-core's ``complete_iterable_value`` walks it (the same
  paths, the same per-item error handling and settling), each item by its own completer.

Anything else (a null, an exception as a result, another iterable, an abstract type, a
custom scalar, an int or a float) goes to graphql-core's ``complete_value`` before any work
is done, so every answer and every error is the one graphql-core makes. Only used for
operations without directives, hence without ``@stream``.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Any

from graphql import (
    GraphQLBoolean,
    GraphQLEnumType,
    GraphQLID,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLString,
)
from graphql.execution.collect_fields import FieldDetails
from graphql.pyutils import Path, Undefined
from graphql.pyutils.gather_with_cancel import gather_with_cancel

if TYPE_CHECKING:
    from graphql.execution.executor import Executor

__all__ = ["Completer", "completer", "leaf_shortcut"]

# (executor, field details, info, path, result) -> the completed value, or an awaitable.
Completer = Callable[["Executor[Any]", list[FieldDetails], Any, Path, Any], Any]

# The class whose values a leaf type answers unchanged (or an enum's class), and for an
# enum the name of each member.
LeafShortcut = tuple[type | None, dict[Any, str] | None]

_PASSED_THROUGH: dict[Any, type] = {GraphQLString: str, GraphQLID: str, GraphQLBoolean: bool}


def leaf_shortcut(leaf_type: Any) -> LeafShortcut:
    """What a leaf type answers without ``coerce_output_value``: ``(cls, names)``; a value
    of exactly ``cls`` is its own answer if ``names`` is None, else ``names[value]``."""
    passed = _PASSED_THROUGH.get(leaf_type)
    if passed is not None:
        return passed, None
    if isinstance(leaf_type, GraphQLEnumType):
        wrapped = getattr(leaf_type, "wrapped_cls", None)
        if isinstance(wrapped, type) and issubclass(wrapped, Enum):
            # strawberry's ``coerce_output_value``: the first name whose value equals the
            # member's value. Every member of the class has one, or it raises there.
            names: dict[Any, str] = {}
            for member in wrapped:
                found = [n for n, v in leaf_type.values.items() if member.value == v.value]
                if not found:
                    return None, None
                names[member] = found[0]
            return wrapped, names
    return None, None


def completer(return_type: Any) -> Completer:
    """The completion of ``return_type``'s results, chosen once (see the module's doc)."""
    inner = return_type.of_type if isinstance(return_type, GraphQLNonNull) else return_type

    def general(
        executor: Executor[Any], details: list[FieldDetails], info: Any, path: Path, result: Any
    ) -> Any:
        return executor.complete_value(return_type, details, info, path, result, None)

    if isinstance(inner, GraphQLObjectType):

        def complete_object(
            executor: Executor[Any],
            details: list[FieldDetails],
            info: Any,
            path: Path,
            result: Any,
        ) -> Any:
            if result is None or result is Undefined or isinstance(result, Exception):
                return general(executor, details, info, path, result)
            return executor.complete_object_value(inner, details, info, path, result, None)

        return complete_object

    if isinstance(inner, GraphQLList):
        item_type = inner.of_type
        item = completer(item_type)

        def complete_list(
            executor: Executor[Any],
            details: list[FieldDetails],
            info: Any,
            path: Path,
            result: Any,
        ) -> Any:
            if result.__class__ is not list:
                return general(executor, details, info, path, result)
            return _items(executor, item_type, item, details, info, path, result)

        return complete_list

    cls, names = leaf_shortcut(inner)
    if cls is None:
        return general

    def complete_leaf(
        executor: Executor[Any], details: list[FieldDetails], info: Any, path: Path, result: Any
    ) -> Any:
        if result.__class__ is cls:
            return result if names is None else names[result]
        return general(executor, details, info, path, result)

    return complete_leaf


def _items(  # noqa: PLR0917 - graphql-core's arguments, in its order
    executor: Executor[Any],
    item_type: Any,
    item: Completer,
    details: list[FieldDetails],
    info: Any,
    path: Path,
    items: list[Any],
) -> Any:
    """graphql-core's ``complete_iterable_value`` over a list, with no stream."""
    is_awaitable = executor.is_awaitable
    completed: list[Any] = []
    awaitable_indices: list[int] = []
    try:
        for index, value in enumerate(items):
            item_path = path.add_key(index, None)
            if is_awaitable(value):
                completed.append(
                    executor.complete_awaitable_list_item_value(
                        value, item_type, details, info, item_path, None
                    )
                )
                awaitable_indices.append(index)
                continue
            try:
                done = item(executor, details, info, item_path, value)
                if done.__class__ is not dict and is_awaitable(done):
                    completed.append(_await_item(executor, done, item_type, details, item_path))
                    awaitable_indices.append(index)
                    continue
            except Exception as raw_error:
                executor.handle_field_error(raw_error, item_type, details, item_path)
                done = None
            completed.append(done)
    except Exception:
        # As graphql-core: settle what other items started, and any awaitable item not
        # reached yet, before the error goes up.
        pending = [completed[i] for i in awaitable_indices]
        pending.extend(v for v in items[len(completed) + 1 :] if is_awaitable(v))
        if pending:
            executor.settle_in_background(pending)
        raise
    if not awaitable_indices:
        return completed
    return _gathered(completed, awaitable_indices)


async def _await_item(
    executor: Executor[Any], done: Any, item_type: Any, details: list[FieldDetails], path: Path
) -> Any:
    try:
        return await done
    except Exception as raw_error:
        executor.handle_field_error(raw_error, item_type, details, path)
        return None


async def _gathered(completed: list[Any], awaitable_indices: list[int]) -> list[Any]:
    if len(awaitable_indices) == 1:
        index = awaitable_indices[0]
        completed[index] = await completed[index]
    else:
        awaited = await gather_with_cancel(*(completed[i] for i in awaitable_indices))
        for index, value in zip(awaitable_indices, awaited, strict=True):
            completed[index] = value
    return completed
