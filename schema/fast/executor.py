"""The GraphQL executor, with two shortcuts that leave every answer as it was.

Measured on the warm profile, graphql-core spent most of its time not in resolvers but
around them: building a ``GraphQLResolveInfo`` and walking ``complete_value`` for every
scalar, and collecting each object's sub-selections again for every request. So:

- **Plain scalar fields** (strawberry's attribute readers, no arguments, a scalar or enum
  type) are read and serialised directly. Anything unusual on the way (an exception, a
  null for a non-null field, an awaitable) goes down graphql-core's own path, which then
  produces exactly its usual result or error.
- **Sub-selections** are collected once per (object type, field nodes of the cached
  document) and shared between requests, for operations without directives (``@skip`` and
  ``@include`` are the only thing that would make a collection depend on variables).
- **Objects whose selected fields are all plain scalars** (and ``__typename``), such as a
  provenance or an identity, are completed in one loop over a plan made once per shared
  selection: no ``Path`` and no call per field. Reading attributes has no side effects,
  so on anything unusual the whole object is simply done again on the path above.

And once the response is built, the executor lets go of the one reference cycle it made
(``build_response``), so that a request's objects are freed when it ends.
"""

from __future__ import annotations

import operator
from collections import OrderedDict
from collections.abc import Callable
from datetime import datetime
from typing import Any, ClassVar

from graphql import (
    GraphQLEnumType,
    GraphQLField,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    visit,
)
from graphql.execution.collect_fields import CollectedFields, FieldDetails
from graphql.language import DirectiveNode, FieldNode, Node, Visitor
from graphql.pyutils import Path
from strawberry.schema.schema import (
    StrawberryGraphQLCoreExecutionContext,
    _OperationContextAwareGraphQLResolveInfo,
)

from schema.fast.awaitable import is_awaitable
from schema.fast.completion import leaf_shortcut
from schema.fast.field_plans import FieldStep, execute_steps, plan_steps
from schema.fast.lean_resolvers import strawberry_field

__all__ = ["FastExecutionContext"]

_Info = _OperationContextAwareGraphQLResolveInfo
# Made positionally: the fields must be the fifteen ``build_resolve_info`` fills, in order.
assert len(_Info._fields) == 15 and _Info._fields[-1] == "operation_extensions"
_new_tuple = tuple.__new__
_complete_leaf = StrawberryGraphQLCoreExecutionContext.complete_leaf_value

_MAX_SHARED = 4096  # collected selections kept; a handful per distinct operation
_TYPENAME = "__typename"

# A plain scalar field: its attribute reader, its scalar or enum type, whether non-null,
# and the type's ``leaf_shortcut`` (the class it answers as is, an enum's names).
_Leaf = tuple[Callable[[Any], Any], Any, bool, type | None, dict[Any, str] | None]
# How one field of an all-scalar selection is answered: response name, the attribute
# reader (None for ``__typename``), then the rest of its ``_Leaf``.
_Step = tuple[str, Any, Any, bool, type | None, dict[Any, str] | None]


class _HasDirective(Visitor):
    found = False

    def enter_directive(self, _node: DirectiveNode, *_args: Any) -> Any:
        self.found = True
        return self.BREAK


class FastExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """strawberry's execution context with the shortcuts described above."""

    # Keyed by ids of schema and document nodes; each value keeps those objects alive, so
    # an id cannot be reused while its entry exists.
    _shared: ClassVar[OrderedDict[tuple[int, ...], tuple[Any, CollectedFields]]] = OrderedDict()
    _static: ClassVar[dict[int, tuple[Node, bool]]] = {}
    _leaves: ClassVar[dict[int, tuple[GraphQLField, _Leaf | None]]] = {}
    # Plans of shared all-scalar selections, by id of the grouped field set (kept alive).
    _plans: ClassVar[dict[int, tuple[Any, list[_Step] | None]]] = {}
    # Plans of every shared selection, by id of the grouped field set (kept alive).
    _steps: ClassVar[dict[int, tuple[Any, list[FieldStep] | None]]] = {}
    # Sub-selections by field details list of a shared selection (kept alive), then by type.
    _by_details: ClassVar[dict[int, tuple[Any, dict[GraphQLObjectType, CollectedFields]]]] = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._info_tail: tuple[Any, ...] | None = None
        self._leaf_memo: dict[int, tuple[Any, Any, Any]] | None = None
        super().__init__(*args, **kwargs)
        self.is_awaitable = is_awaitable
        # A resolver middleware (a strawberry extension with ``resolve``) must see every field.
        self._plain_resolvers = not getattr(self.middleware_manager, "_middleware_resolvers", None)
        self._static_operation = _static(self.operation)
        self._shareable = (
            self._plain_resolvers
            and self._static_operation
            and all(
                not f.variable_signatures and _static(f.definition) for f in self.fragments.values()
            )
        )

    def build_resolve_info(
        self,
        field_def: GraphQLField,
        field_nodes: list[FieldNode],
        parent_type: GraphQLObjectType,
        path: Path,
    ) -> Any:
        # strawberry's info, the same tuple, made without the named tuple's ``__new__``
        # (a Python frame) and with the ten fields that are the same for every field of
        # this execution read once: a 50-debtor answer makes some 750 of these.
        tail = self._info_tail
        if tail is None:
            tail = self._info_tail = (
                self.schema,
                self.fragment_definitions,
                self.root_value,
                self.operation,
                self.variable_values.coerced,
                self.context_value,
                self.is_awaitable,
                self.abort_signal,
                self.async_helpers,
                self.operation_extensions,
            )
        head = (field_nodes[0].name.value, field_nodes, field_def.type, parent_type, path)
        return _new_tuple(_Info, head + tail)

    def complete_leaf_value(self, return_type: Any, result: Any) -> Any:  # type: ignore[override]
        # graphql-core's (a static method), with each ``datetime`` object serialised once per
        # execution: all facts of one agency batch share one ``fetched_at``, so a 50-debtor
        # answer serialised the same few objects some 300 times. By identity, not equality:
        # equal datetimes in other time zones serialise differently.
        if result.__class__ is not datetime:
            return _complete_leaf(return_type, result)
        memo = self._leaf_memo
        if memo is None:
            memo = self._leaf_memo = {}
        found = memo.get(id(result))
        if found is not None and found[0] is result and found[1] is return_type:
            return found[2]
        completed = _complete_leaf(return_type, result)
        memo[id(result)] = (result, return_type, completed)  # keeps ``result`` alive: its id
        return completed

    def __copy__(self) -> FastExecutionContext:
        # graphql-core makes sub-executors (``@defer``) and a subscription's per-event
        # executors as shallow copies; a copy builds its own info tail, since a per-event
        # executor has a root value of its own, and keeps its own leaf memo.
        made = object.__new__(type(self))
        vars(made).update(vars(self))
        made._info_tail = None
        made._leaf_memo = None  # a subscription's events must not grow one memo forever
        return made

    def build_response(self, data: dict[str, Any] | None) -> Any:
        try:
            return super().build_response(data)
        finally:
            # The tail holds ``async_helpers``, bound methods of this executor (see below).
            self._info_tail = None
            if self._static_operation:
                # ``async_helpers`` holds bound methods of this executor: a reference cycle
                # that kept each request's whole object graph (its context, loaders, facts)
                # alive until the next garbage collection, so every collection had dozens
                # of requests' objects to walk. Without directives there is no @defer or
                # @stream, hence no sub-executor to come that would copy the helpers.
                vars(self).pop("async_helpers", None)

    def collect_subfields(
        self, return_type: GraphQLObjectType, field_details_list: list[FieldDetails]
    ) -> CollectedFields:
        if not self._shareable or any(
            fd.defer_usage is not None or fd.fragment_variable_values is not None
            for fd in field_details_list
        ):
            return super().collect_subfields(return_type, field_details_list)
        key = (id(self.schema), id(return_type), *(id(fd.node) for fd in field_details_list))
        shared = self._shared.get(key)
        if shared is not None:
            return shared[1]
        collected = super().collect_subfields(return_type, field_details_list)
        keep = (self.schema, return_type, [fd.node for fd in field_details_list])
        self._shared[key] = (keep, collected)
        grouped = collected.grouped_field_set
        self._plans[id(grouped)] = (grouped, _plan(return_type, grouped))
        self._steps[id(grouped)] = (grouped, plan_steps(return_type, grouped, _leaf))
        for details in grouped.values():
            if all(
                fd.defer_usage is None and fd.fragment_variable_values is None for fd in details
            ):
                self._by_details[id(details)] = (details, {})
        if len(self._shared) > _MAX_SHARED:
            _, (_, dropped) = self._shared.popitem(last=False)
            self._plans.pop(id(dropped.grouped_field_set), None)
            self._steps.pop(id(dropped.grouped_field_set), None)
            for details in dropped.grouped_field_set.values():
                self._by_details.pop(id(details), None)
        return collected

    def complete_object_value(  # noqa: PLR0917 - graphql-core's signature
        self,
        return_type: GraphQLObjectType,
        field_details_list: list[FieldDetails],
        info: Any,
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        # graphql-core's, with the sub-selection found by one probe: the details list of a
        # shared selection is the same object in every request and for every list item.
        known = self._by_details.get(id(field_details_list)) if self._shareable else None
        if known is None or known[0] is not field_details_list or position_context is not None:
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        is_type_of = return_type.is_type_of
        if is_type_of is not None:
            fits = is_type_of(result, info)
            if fits is not True:  # awaitable, or not of the type: graphql-core's path
                return super().complete_object_value(
                    return_type, field_details_list, info, path, result, position_context
                )
        collected = known[1].get(return_type)
        if collected is None:
            collected = self.collect_subfields(return_type, field_details_list)
            known[1][return_type] = collected
        if collected.new_defer_usages:
            return super().complete_object_value(
                return_type, field_details_list, info, path, result, position_context
            )
        return self.execute_fields(return_type, result, path, collected.grouped_field_set, None)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        shortcut = self._shareable and position_context is None
        planned = self._plans.get(id(grouped_field_set)) if shortcut else None
        if planned is not None and planned[0] is grouped_field_set and planned[1] is not None:
            results: dict[str, Any] = {}
            is_awaitable = self.is_awaitable
            try:
                for name, read, leaf_type, non_null, cls, names in planned[1]:
                    if read is None:
                        results[name] = parent_type.name
                        continue
                    value = read(source_value)
                    if value.__class__ is cls:
                        results[name] = value if names is None else names[value]
                    elif value is None:
                        if non_null:
                            break
                        results[name] = None
                    elif is_awaitable(value):
                        break
                    else:
                        results[name] = self.complete_leaf_value(leaf_type, value)
                else:
                    return results
            except Exception:  # noqa: S110 - done again below, where errors are reported
                pass
        steps = self._steps.get(id(grouped_field_set)) if shortcut else None
        if steps is not None and steps[0] is grouped_field_set and steps[1] is not None:
            return execute_steps(self, parent_type, source_value, path, steps[1])
        return super().execute_fields(
            parent_type, source_value, path, grouped_field_set, position_context
        )

    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: list[FieldDetails],
        path: Path,
        position_context: Any,
    ) -> Any:
        if self._plain_resolvers:
            node = field_details_list[0].node
            field_def = parent_type.fields.get(node.name.value)
            leaf = _leaf(field_def) if field_def is not None and not node.arguments else None
            if leaf is not None:
                read, leaf_type, non_null, cls, names = leaf
                try:
                    value = read(source)
                    if value.__class__ is cls:
                        return value if names is None else names[value]
                    if value is not None and not self.is_awaitable(value):
                        return self.complete_leaf_value(leaf_type, value)
                    if value is None and not non_null:
                        return None
                except Exception:  # noqa: S110 - graphql-core's path reports it
                    pass
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


def _leaf(field_def: GraphQLField) -> _Leaf | None:
    """(reader, scalar or enum type, non-null) if the field only reads a scalar attribute."""
    known = FastExecutionContext._leaves.get(id(field_def))
    if known is not None:
        return known[1]
    found: _Leaf | None = None
    field_type = field_def.type
    inner = field_type.of_type if isinstance(field_type, GraphQLNonNull) else field_type
    # strawberry marks the resolvers of fields that only read an attribute ``_is_default``.
    plain = getattr(field_def.resolve, "_is_default", False) and not field_def.args
    if plain and isinstance(inner, GraphQLScalarType | GraphQLEnumType):
        non_null = isinstance(field_type, GraphQLNonNull)
        found = (_reader(field_def), inner, non_null, *leaf_shortcut(inner))
    FastExecutionContext._leaves[id(field_def)] = (field_def, found)
    return found


def _reader(field_def: GraphQLField) -> Callable[[Any], Any]:
    """What the field's resolver does with a source, without the calls around it."""
    field = strawberry_field(field_def)
    resolve = field_def.resolve
    assert resolve is not None
    # For a basic field (no resolver, no field extensions such as permission classes, no
    # exception handlers) strawberry's resolver is ``_get_basic_result``, which calls
    # ``default_resolver(source, python_name)`` behind ``get_result`` and two properties;
    # with the default ``getattr`` that is one attribute read. Anything else keeps its
    # resolver: a permission class must still run.
    if (
        field is not None
        and field.is_basic_field
        and getattr(resolve, "__name__", "") == "_get_basic_result"
        and field.default_resolver is getattr
        and field.python_name
    ):
        return operator.attrgetter(field.python_name)
    return lambda source: resolve(source, None)


def _plan(parent_type: GraphQLObjectType, grouped_field_set: Any) -> list[_Step] | None:
    """The steps answering ``grouped_field_set`` if every field in it is a plain scalar."""
    steps: list[_Step] = []
    for name, field_details_list in grouped_field_set.items():
        node = field_details_list[0].node
        if node.name.value == _TYPENAME:
            steps.append((name, None, None, True, None, None))
            continue
        field_def = parent_type.fields.get(node.name.value)
        leaf = _leaf(field_def) if field_def is not None and not node.arguments else None
        if leaf is None:
            return None
        steps.append((name, *leaf))
    return steps or None


def _static(node: Node) -> bool:
    """True if the operation or fragment has no directives (nothing depends on variables)."""
    known = FastExecutionContext._static.get(id(node))
    if known is not None:
        return known[1]
    finder = _HasDirective()
    visit(node, finder)
    if len(FastExecutionContext._static) >= _MAX_SHARED:
        FastExecutionContext._static.clear()
    FastExecutionContext._static[id(node)] = (node, not finder.found)
    return not finder.found
