"""The leaf shortcuts of planned completion answer what the scalar or enum itself answers."""

from __future__ import annotations

from graphql import GraphQLBoolean, GraphQLEnumType, GraphQLID, GraphQLString
from hypothesis import given
from hypothesis import strategies as st

from schema import build_schema
from schema.fast.completion import leaf_shortcut

SCHEMA = build_schema()._schema
ENUMS = [
    t
    for name, t in sorted(SCHEMA.type_map.items())
    if isinstance(t, GraphQLEnumType) and not name.startswith("__")
]


def test_every_enum_of_the_schema_names_each_member_as_strawberry_does() -> None:
    assert ENUMS
    for enum_type in ENUMS:
        cls, names = leaf_shortcut(enum_type)
        assert cls is not None and names is not None, enum_type.name
        assert set(names) == set(cls)  # type: ignore[call-overload]
        for member, name in names.items():
            assert name == enum_type.coerce_output_value(member)


@given(text=st.text(), flag=st.booleans())
def test_plain_scalars_pass_their_own_class_through(text: str, flag: bool) -> None:
    for scalar, value in ((GraphQLString, text), (GraphQLID, text), (GraphQLBoolean, flag)):
        cls, names = leaf_shortcut(scalar)
        assert names is None and type(value) is cls
        assert scalar.coerce_output_value(value) == value
