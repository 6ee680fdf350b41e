"""Expose an enum declared outside the schema, with a description on each of its values.

The domain's enums (``gateway/domain``, ``connectors``) are plain Python enums: their
members cannot carry ``strawberry.enum_value(...)``, which would make the domain depend on
strawberry. ``enum_with_values`` takes the values' words at the place the schema exposes
the enum, and refuses words for a value the enum does not have, so a renamed member
fails at import rather than losing its description.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import TypeVar

import strawberry
from strawberry.types.enum import has_enum_definition

__all__ = ["enum_with_values"]

E = TypeVar("E", bound=enum.Enum)


def enum_with_values(
    cls: type[E], *, description: str, values: Mapping[str, str], name: str | None = None
) -> type[E]:
    """``strawberry.enum(cls, ...)`` with ``values`` (GraphQL value name to description)."""
    exposed = strawberry.enum(cls, name=name, description=description)
    if not has_enum_definition(cls):  # strawberry.enum has just set it
        raise TypeError(f"{cls.__name__} is not a strawberry enum")
    definition = cls.__strawberry_definition__
    unknown = set(values) - {value.name for value in definition.values}
    if unknown:
        raise ValueError(f"{definition.name} has no value {', '.join(sorted(unknown))}")
    for value in definition.values:
        value.description = values.get(value.name, value.description)
    return exposed
