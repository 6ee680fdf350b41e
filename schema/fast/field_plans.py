"""One object's selected fields executed from a plan made once per shared selection.

graphql-core's ``execute_fields`` makes a ``Path`` for every field and calls
``execute_field``, which looks the field up, checks for middleware, tests whether the field
has arguments and coerces them, on every object of every request. For a selection shared
between requests (see ``FastExecutionContext.collect_subfields``) all of that is known once:
a ``FieldStep`` holds the field, its nodes, its resolver and, where the document writes the
arguments out without a variable (``restrictions(first: 100)``, ``assets(kinds: [...])``),
the arguments already coerced and converted. What is left per object is the resolver call
and graphql-core's own completion of its result, unchanged, so every answer and every error
is what graphql-core makes: errors are located and nulls propagated by its own
``handle_field_error``, awaitables finished by its own ``complete_awaitable_value``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import TYPE_CHECKING, Any

from graphql import GraphQLField, GraphQLObjectType
from graphql.execution.collect_fields import FieldDetails
from graphql.execution.values import get_argument_values
from graphql.language import FieldNode, Visitor, visit
from graphql.pyutils import Path
from graphql.pyutils.gather_with_cancel import gather_with_cancel

from schema.fast.completion import Completer, completer
from schema.fast.lean_resolvers import ArgsResolver, lean_with_args

if TYPE_CHECKING:
    from graphql.execution.executor import Executor

__all__ = ["FieldStep", "execute_step", "execute_steps", "plan_steps"]

_TYPENAME = "__typename"
_new_tuple = tuple.__new__


def _path(prev: Path | None, key: str, typename: str) -> Path:
    # ``Path(prev, key, typename)`` without the named tuple's ``__new__`` (a Python frame):
    # one per field of every object answered.
    path: Path = _new_tuple(Path, (prev, key, typename))
    return path


assert Path._fields == ("prev", "key", "typename")


@dataclass(slots=True)
class FieldStep:
    """How one response name of a shared selection is answered."""

    name: str
    details: list[FieldDetails]
    nodes: list[FieldNode]
    field_def: GraphQLField | None  # None: ``__typename``
    leaf: Any  # (reader, scalar type, non-null, shortcut...) for a plain scalar, else None
    resolve: Callable[..., Any] | None
    has_args: bool
    constant: bool  # the arguments, if any, hold no variable
    args: dict[str, Any] | None = None  # coerced once, when constant
    lean: ArgsResolver | None = None  # the resolver, called with converted arguments
    converted: dict[str, Any] | None = None  # converted once, when constant and plain
    complete: Completer | None = None  # the completion of the field's type (not __typename)


class _Variables(Visitor):
    found = False

    def enter_variable(self, *_: object) -> Any:
        self.found = True
        return self.BREAK


def _constant(node: FieldNode) -> bool:
    finder = _Variables()
    for argument in node.arguments or ():
        visit(argument, finder)
    return not finder.found


def plan_steps(
    parent_type: GraphQLObjectType,
    grouped_field_set: Any,
    leaf_of: Callable[[GraphQLField], Any],
) -> list[FieldStep] | None:
    """Steps for every field of ``grouped_field_set``, or None if one is not in the schema."""
    steps: list[FieldStep] = []
    for name, details in grouped_field_set.items():
        node = details[0].node
        nodes = [fd.node for fd in details]
        if node.name.value == _TYPENAME:
            steps.append(FieldStep(name, details, nodes, None, None, None, False, True))
            continue
        field_def = parent_type.fields.get(node.name.value)
        if field_def is None:
            return None  # graphql-core answers it (Undefined: left out)
        leaf = leaf_of(field_def) if not node.arguments else None
        has_args = bool(field_def.args or node.arguments)
        step = FieldStep(
            name, details, nodes, field_def, leaf, field_def.resolve, has_args, _constant(node)
        )
        if has_args and step.constant:
            step.lean = lean_with_args(field_def)
        step.complete = completer(field_def.type)
        steps.append(step)
    return steps


def _plain(value: Any) -> bool:
    # Values a resolver cannot change under another request's feet (lists are copied).
    if isinstance(value, list):
        return all(_plain(v) for v in value)
    return value is None or isinstance(value, bool | int | float | str | Enum)


def _call(step: FieldStep, executor: Executor[Any], source: Any, info: Any) -> Any:
    field_def = step.field_def
    assert field_def is not None
    resolve = step.resolve or executor.field_resolver
    if not step.has_args:
        return resolve(source, info)
    args = step.args
    if args is None:
        first = step.details[0]
        args = get_argument_values(
            field_def,
            first.node,
            executor.variable_values,
            first.fragment_variable_values,
            executor.hide_suggestions,
        )
        if step.constant and first.fragment_variable_values is None:
            step.args = args
    if step.lean is None or step.args is None:
        return resolve(source, info, **args)
    converted = step.converted
    if converted is None:
        converted = step.lean.convert(args, info)
        if all(_plain(v) for v in converted.values()):
            step.converted = converted
    kwargs = {k: list(v) if isinstance(v, list) else v for k, v in converted.items()}
    return step.lean(source, info, kwargs)


def execute_step(
    executor: Executor[Any],
    step: FieldStep,
    parent_type: GraphQLObjectType,
    source: Any,
    path: Path,
) -> Any:
    """graphql-core's ``execute_field`` for a planned field, with what is known skipped."""
    field_def = step.field_def
    assert field_def is not None
    return_type = field_def.type
    details = step.details
    complete = step.complete
    assert complete is not None
    info = executor.build_resolve_info(field_def, step.nodes, parent_type, path)
    try:
        result = _call(step, executor, source, info)
        if executor.is_awaitable(result):
            return executor.complete_awaitable_value(return_type, details, info, path, result, None)
        completed = complete(executor, details, info, path, result)
        if executor.is_awaitable(completed):
            return _await_completed(executor, completed, step, path)
    except Exception as raw_error:  # graphql-core locates and reports it
        executor.handle_field_error(raw_error, return_type, details, path)
        return None
    return completed


async def _await_completed(
    executor: Executor[Any], completed: Awaitable[Any], step: FieldStep, path: Path
) -> Any:
    try:
        return await completed
    except Exception as raw_error:  # as graphql-core's ``await_completed``
        assert step.field_def is not None
        executor.handle_field_error(raw_error, step.field_def.type, step.details, path)
        return None


def execute_steps(
    executor: Executor[Any],
    parent_type: GraphQLObjectType,
    source: Any,
    path: Path | None,
    steps: list[FieldStep],
) -> Any:
    """graphql-core's ``execute_fields`` over a plan: the same results, awaitables and
    settling, without a ``Path`` or a look-up for the plain scalar fields."""
    results: dict[str, Any] = {}
    is_awaitable = executor.is_awaitable
    complete_leaf = executor.complete_leaf_value
    awaitable_fields: list[str] = []
    try:
        for step in steps:
            name = step.name
            if step.field_def is None:
                results[name] = parent_type.name
                continue
            leaf = step.leaf
            if leaf is not None:
                read, leaf_type, non_null, cls, names = leaf
                try:
                    value = read(source)
                    if value.__class__ is cls:
                        results[name] = value if names is None else names[value]
                        continue
                    if value is not None and not is_awaitable(value):
                        results[name] = complete_leaf(leaf_type, value)
                        continue
                    if value is None and not non_null:
                        results[name] = None
                        continue
                except Exception:  # noqa: S110 - read again below, where errors are reported
                    pass
                result = executor.execute_field(
                    parent_type, source, step.details, _path(path, name, parent_type.name), None
                )
            else:
                result = execute_step(
                    executor, step, parent_type, source, _path(path, name, parent_type.name)
                )
            results[name] = result
            if is_awaitable(result):
                awaitable_fields.append(name)
    except Exception:
        if awaitable_fields:
            # As graphql-core: settle what other fields started, as they may fail too.
            executor.settle_in_background([results[f] for f in awaitable_fields])
        raise
    if not awaitable_fields:
        return results
    return _gathered(results, awaitable_fields)


async def _gathered(results: dict[str, Any], awaitable_fields: list[str]) -> dict[str, Any]:
    if len(awaitable_fields) == 1:
        field = awaitable_fields[0]
        results[field] = await results[field]
    else:
        awaited = await gather_with_cancel(*(results[f] for f in awaitable_fields))
        results.update(zip(awaitable_fields, awaited, strict=True))
    return results
