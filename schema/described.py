"""Fill in the schema's descriptions from the tables, where the code gave none.

Applied to the built graphql-core schema (what introspection, GraphiQL's docs and the
printed SDL read), after strawberry made it from the code: a description in the code
always wins; then an object field takes its interface's; then the tables
(``schema/described_fields.py``, ``schema/described_values.py``) fill what is left.
``tests/unit/test_schema_descriptions.py`` fails naming anything still undescribed, and
any table entry that names nothing in the schema.
"""

from __future__ import annotations

from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema.described_fields import FIELDS
from schema.described_values import VALUES_AND_ARGUMENTS

__all__ = ["TABLE", "coordinates", "describe"]

TABLE: dict[str, str] = {**FIELDS, **VALUES_AND_ARGUMENTS}


def _fill(current: str | None, key: str, inherited: str | None = None) -> str | None:
    if current and current.strip():
        return current
    return inherited or TABLE.get(key, current)


def describe(schema: GraphQLSchema) -> None:
    """Give every type, field, argument and value of ``schema`` a description it lacks."""
    # Interfaces first, so that the object types implementing them can take their words.
    ordered = sorted(
        schema.type_map.items(), key=lambda item: not isinstance(item[1], GraphQLInterfaceType)
    )
    for name, named in ordered:
        if name.startswith("__"):
            continue
        named.description = _fill(named.description, name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                key = f"{name}.{field_name}"
                inherited = next(
                    (
                        i.fields[field_name].description
                        for i in named.interfaces
                        if field_name in i.fields and i.fields[field_name].description
                    ),
                    None,
                )
                if key in TABLE:
                    inherited = None  # the type's own words before its interface's
                field.description = _fill(field.description, key, inherited)
                for arg_name, arg in field.args.items():
                    arg.description = _fill(arg.description, f"{key}({arg_name})")
        elif isinstance(named, GraphQLInputObjectType):
            for field_name, input_field in named.fields.items():
                key = f"{name}.{field_name}"
                input_field.description = _fill(input_field.description, key)
        elif isinstance(named, GraphQLEnumType):
            for value_name, value in named.values.items():
                value.description = _fill(value.description, f"{name}.{value_name}")


def coordinates(schema: GraphQLSchema) -> set[str]:
    """Every coordinate the tables could name in ``schema``."""
    out: set[str] = set()
    for name, named in schema.type_map.items():
        out.add(name)
        if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
            for field_name, field in named.fields.items():
                out.add(f"{name}.{field_name}")
                out.update(f"{name}.{field_name}({a})" for a in field.args)
        elif isinstance(named, GraphQLInputObjectType):
            out.update(f"{name}.{f}" for f in named.fields)
        elif isinstance(named, GraphQLEnumType):
            out.update(f"{name}.{v}" for v in named.values)
    return out
