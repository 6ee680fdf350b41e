"""The schema as an Apollo Federation v2 subgraph: ``_service``, ``_entities`` and the SDLs.

Entity types (``Debtor``, ``Case``) carry their ``@key`` directives in their own
definitions; how a key is authorised is in ``resolvers/entities.py``, how one request's
representations are resolved and recorded in ``schema/entities.py``. The subgraph schema
adds the federation root fields; the plain schema has the same types without them.

Strawberry prints type directives from the shared type definitions, so the plain schema's
own printer would show ``@key`` without defining it; ``public_sdl`` prints with
graphql-core instead, which gives valid SDL free of federation machinery.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any, cast

import strawberry
from graphql import GraphQLSchema, print_schema
from strawberry.federation.schema import FederationAny
from strawberry.types import Info

from gateway.errors import LimitExceeded
from schema.entities import resolve_entities
from schema.error_log import LoggedFederationSchema

__all__ = ["SubgraphSchema", "plain_schema", "public_sdl", "subgraph_sdl"]

DEFAULT_MAX_REPRESENTATIONS = 500
# Only @key is used, which every v2 release has; 2.9 is the newest that current composers
# (Apollo's and The Guild's) and routers all accept.
FEDERATION_VERSION = "2.9"
# What federation adds to a schema that plain clients have no use for.
_FEDERATION = frozenset({"key", "link", "_FieldSet", "link__Import", "link__Purpose", "_Any"})


class SubgraphSchema(LoggedFederationSchema):
    """A Federation v2 subgraph whose ``_entities`` takes a bounded list of references."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("federation_version", FEDERATION_VERSION)
        super().__init__(**kwargs)

    def entities_resolver(
        self, info: Info, representations: list[FederationAny]
    ) -> list[FederationAny]:
        # Variables escape the token limit: without this bound one request could name any
        # number of debtors. The request's own id limit applies, as for debtors(ids:), over
        # all the _entities fields of the request (aliases), which also bounds its record.
        limit = getattr(info.context, "max_ids", DEFAULT_MAX_REPRESENTATIONS)
        asked = len(getattr(info.context, "entity_references", ())) + len(representations)
        if asked > limit:
            raise LimitExceeded(
                f"at most {limit} representations per request, got {asked}",
                field="representations",
                limit=limit,
            )
        # Not strawberry's resolver: it edits the representations, which are the request's
        # own variables, and put a framework object into the audit record (schema/entities).
        return cast(list[FederationAny], resolve_entities(info, representations))


def plain_schema(factory: Callable[[], strawberry.Schema]) -> strawberry.Schema:
    """Build a non-federated schema whose entity types nevertheless carry ``@key``."""
    with warnings.catch_warnings():
        # Strawberry warns when a plain schema holds federation directives: here they are
        # deliberate (the same types serve the subgraph) and harmless at run time.
        warnings.filterwarnings(
            "ignore", message="Federation directive found in schema", category=UserWarning
        )
        return factory()


def public_sdl(schema: strawberry.Schema) -> str:
    """The client-facing SDL: valid GraphQL, without federation directives or fields."""
    kwargs: dict[str, Any] = dict(schema._schema.to_kwargs())
    kwargs["directives"] = tuple(d for d in kwargs["directives"] if d.name not in _FEDERATION)
    kwargs["types"] = tuple(t for t in kwargs["types"] or () if t.name not in _FEDERATION)
    return print_schema(GraphQLSchema(**kwargs)) + "\n"


def subgraph_sdl(schema: strawberry.Schema) -> str:
    """The subgraph SDL, as ``_service { sdl }`` returns it (``@link``, ``@key``)."""
    return schema.as_str() + "\n"
