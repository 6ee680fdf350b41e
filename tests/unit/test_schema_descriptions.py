"""Every type, field, argument, input field and enum value of the API has a description.

The schema is what a front-end developer reads first (GraphiQL's docs pane, generated
clients); a name alone does not say what a field holds, where it comes from or when it is
null. On failure the test lists exactly what lacks one, as ``Type.field(argument)``.
"""

from __future__ import annotations

import enum

import pytest
import strawberry
from graphql import (
    GraphQLEnumType,
    GraphQLInputObjectType,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
)

from schema import SchemaOptions, build_schema
from schema.outside_enums import enum_with_values

# graphql-core's own scalars are described by the GraphQL spec.
BUILT_IN = {"String", "Int", "Float", "Boolean", "ID"}


def undescribed(schema: GraphQLSchema) -> list[str]:
    """Everything in ``schema`` (outside introspection) without a description."""
    missing: list[str] = []

    def check(description: str | None, where: str) -> None:
        if not (description and description.strip()):
            missing.append(where)

    for name, named in sorted(schema.type_map.items()):
        if name.startswith("__") or name in BUILT_IN:
            continue
        check(named.description, name)
        missing.extend(_members(named))
    return missing


def _members(named: GraphQLNamedType) -> list[str]:
    out: list[str] = []
    if isinstance(named, GraphQLObjectType | GraphQLInterfaceType):
        for field_name, field in named.fields.items():
            where = f"{named.name}.{field_name}"
            if not (field.description and field.description.strip()):
                out.append(where)
            for arg_name, arg in field.args.items():
                if not (arg.description and arg.description.strip()):
                    out.append(f"{where}({arg_name})")
    elif isinstance(named, GraphQLInputObjectType):
        for field_name, input_field in named.fields.items():
            if not (input_field.description and input_field.description.strip()):
                out.append(f"{named.name}.{field_name}")
    elif isinstance(named, GraphQLEnumType):
        for value_name, value in named.values.items():
            if not (value.description and value.description.strip()):
                out.append(f"{named.name}.{value_name}")
    return out


@pytest.mark.parametrize("shortcuts", [True, False], ids=["shortcuts", "plain"])
@pytest.mark.parametrize("federation", [False, True], ids=["api", "subgraph"])
def test_everything_in_the_schema_is_described(shortcuts: bool, federation: bool) -> None:
    schema = build_schema(SchemaOptions(shortcuts=shortcuts, federation=federation))
    # Federation's own machinery (_Service, _Any, _entities, link__...) is not ours.
    missing = [
        m for m in undescribed(schema._schema) if not m.startswith(("_", "link__", "Query._"))
    ]
    assert not missing, f"{len(missing)} without a description:\n" + "\n".join(missing)


def test_words_for_a_value_an_outside_enum_lacks_fail_at_import() -> None:
    # A renamed domain enum member must not leave its description behind unseen.
    class Kind(enum.Enum):
        ONE = "one"
        TWO = "two"

    with pytest.raises(ValueError, match="Kind has no value THREE"):
        enum_with_values(Kind, description="Kinds.", values={"ONE": "One.", "THREE": "Three."})


class Shade(enum.Enum):
    """A plain enum, as the domain declares them (no strawberry in it)."""

    LIGHT = "light"
    DARK = "dark"


def test_an_outside_enum_carries_its_values_words() -> None:
    enum_with_values(Shade, description="Shades.", values={"LIGHT": "Light.", "DARK": "Dark."})

    @strawberry.type(description="A root.")
    class Query:
        shade: Shade = strawberry.field(description="A shade.", default=Shade.DARK)

    built = strawberry.Schema(query=Query)._schema
    assert undescribed(built) == []
    assert built.type_map["Shade"].description == "Shades."
    assert isinstance(shade := built.type_map["Shade"], GraphQLEnumType)
    assert shade.values["DARK"].description == "Dark."


def test_the_walk_finds_what_lacks_a_description() -> None:
    from graphql import build_schema as from_sdl

    sdl = """"A root." type Query { "Described." a(x: Int): E  b: Int }
    "An enum." enum E { "One." ONE TWO }"""
    assert undescribed(from_sdl(sdl)) == ["E.TWO", "Query.a(x)", "Query.b"]
