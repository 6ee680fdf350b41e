"""Resolvers called without strawberry's per-call wrapping where that wrapping has no work.

For every call of a field with its own resolver, strawberry builds an ``Info``, converts
the arguments (``get_arguments``), folds the field's extensions into a chain of partials
and goes through three nested wrappers before it reaches our function. For a field with
no arguments, no field extensions (permission classes are extensions) and no exception
handlers, all of that comes down to calling the function with the source and, if it asks,
an ``Info``. On the warm profile (about 30 such fields per look-up) these wrapped calls,
resolvers included, were ~12% of a worker's samples. Fields with arguments, extensions or
handlers keep strawberry's resolver, and so does every subscription field; a field with
arguments but no extensions gets an ``ArgsResolver`` beside it, which the executor's plans
call where the document writes the arguments out, converted once
(``schema/fast/field_plans.py``).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import strawberry
from graphql import GraphQLField, GraphQLObjectType, GraphQLResolveInfo
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.arguments import convert_arguments
from strawberry.types.field import StrawberryField

__all__ = [
    "ArgsResolver",
    "lean_resolver",
    "lean_with_args",
    "strawberry_field",
    "use_lean_resolvers",
]

_BACKREF = GraphQLCoreConverter.DEFINITION_BACKREF
# Where a field's ``ArgsResolver`` is kept: on the field, so it goes with its schema.
_ARGS_RESOLVER = "liandong-args-resolver"


def strawberry_field(gql_field: GraphQLField) -> StrawberryField | None:
    """The strawberry field a graphql-core field was made from, if any."""
    field = (gql_field.extensions or {}).get(_BACKREF)
    return field if isinstance(field, StrawberryField) else None


def lean_resolver(field: StrawberryField, info_class: type[Any]) -> Callable[..., Any] | None:
    """A direct resolver for ``field``, or None if strawberry's wrapping has work to do."""
    resolver = field.base_resolver
    if resolver is None or field.extensions or field.arguments:
        return None
    func = resolver.wrapped_func
    if not callable(func):
        return None
    takes_self = resolver.self_parameter is not None
    # ``root`` and ``parent`` are both the source, passed by name, as strawberry does.
    by_name = tuple(
        p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None
    if takes_self and not by_name:
        # The usual method resolvers, ``def f(self)`` and ``def f(self, info)``, called
        # without a keyword dict: a few hundred of these in a 50-debtor answer.
        if info_name is None:
            return lambda source, info: func(source)
        if _second_positional(func, info_name):
            return lambda source, info: func(source, info_class(_raw_info=info, _field=field))

    def resolve(source: Any, info: GraphQLResolveInfo[Any]) -> Any:
        kwargs = dict.fromkeys(by_name, source)
        if info_name is not None:
            kwargs[info_name] = info_class(_raw_info=info, _field=field)
        return func(source, **kwargs) if takes_self else func(**kwargs)

    return resolve


def _second_positional(func: Callable[..., Any], name: str) -> bool:
    # Whether ``name`` can be passed as the second positional argument (after ``self``).
    try:
        params = list(inspect.signature(func).parameters.values())
    except (TypeError, ValueError):
        return False
    positional = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return len(params) >= 2 and params[1].name == name and params[1].kind in positional


class ArgsResolver:
    """What strawberry's resolver does for a field with arguments and no extensions, in two
    parts: ``convert`` (graphql-core's coerced arguments to Python values) and the call."""

    def __init__(self, field: StrawberryField, schema: strawberry.Schema) -> None:
        resolver = field.base_resolver
        assert resolver is not None
        self.field = field
        self.func: Callable[..., Any] = resolver.wrapped_func  # type: ignore[assignment]
        self.info_class = schema.config.info_class
        self.config = schema.config
        self.scalars = schema.schema_converter.scalar_registry
        self.takes_self = resolver.self_parameter is not None
        self.by_name = tuple(
            p.name for p in (resolver.parent_parameter, resolver.root_parameter) if p is not None
        )
        self.info_name = resolver.info_parameter.name if resolver.info_parameter else None

    def convert(self, args: dict[str, Any], info: GraphQLResolveInfo[Any]) -> dict[str, Any]:
        """The field's arguments as its resolver takes them (strawberry's conversion)."""
        wrapped = self.info_class(_raw_info=info, _field=self.field)
        return convert_arguments(
            args,
            self.field.arguments,
            scalar_registry=self.scalars,
            config=self.config,
            info=wrapped,
        )

    def __call__(self, source: Any, info: GraphQLResolveInfo[Any], kwargs: dict[str, Any]) -> Any:
        for name in self.by_name:
            kwargs[name] = source
        if self.info_name is not None:
            kwargs[self.info_name] = self.info_class(_raw_info=info, _field=self.field)
        return self.func(source, **kwargs) if self.takes_self else self.func(**kwargs)


def lean_with_args(gql_field: GraphQLField) -> ArgsResolver | None:
    """The ``ArgsResolver`` made for ``gql_field`` by ``use_lean_resolvers``, if any."""
    found = (gql_field.extensions or {}).get(_ARGS_RESOLVER)
    return found if isinstance(found, ArgsResolver) else None


def use_lean_resolvers(schema: strawberry.Schema) -> int:
    """Give eligible fields of ``schema`` a direct resolver; returns how many changed."""
    if schema.exception_handlers:
        return 0
    core = schema._schema
    subscription = core.subscription_type
    info_class = schema.config.info_class
    changed = 0
    for gql_type in core.type_map.values():
        if not isinstance(gql_type, GraphQLObjectType) or gql_type is subscription:
            continue
        for gql_field in gql_type.fields.values():
            field = strawberry_field(gql_field)
            if field is None:
                continue
            if gql_field.args:
                resolver = field.base_resolver
                if (
                    resolver is not None
                    and not field.extensions
                    and callable(resolver.wrapped_func)
                ):
                    extensions = dict(gql_field.extensions or {})
                    extensions[_ARGS_RESOLVER] = ArgsResolver(field, schema)
                    gql_field.extensions = extensions
                continue
            lean = lean_resolver(field, info_class)
            if lean is not None:
                gql_field.resolve = lean
                changed += 1
    return changed
