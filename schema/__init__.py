"""The GraphQL schema: types, roots, scalars, and the extensions that wrap execution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaskErrors,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    ParserCache,
    QueryDepthLimiter,
    SchemaExtension,
    ValidationCache,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types

from schema.assets import EquityStake, RealEstate, Vehicle
from schema.extensions import PartialErrors, is_unexpected
from schema.query import LookupQuery
from schema.scalars import SCALARS

__all__ = ["MUTATIONS", "QUERIES", "SUBSCRIPTIONS", "SchemaOptions", "build_schema"]

# Each area of the API contributes its own root type; they are merged into the roots here.
QUERIES: tuple[type, ...] = (LookupQuery,)
MUTATIONS: tuple[type, ...] = ()
SUBSCRIPTIONS: tuple[type, ...] = ()


@dataclass(frozen=True, slots=True)
class SchemaOptions:
    """What shapes the schema's behaviour (from the gateway settings)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    introspection: bool = True
    mask_errors: bool = False


def build_schema(options: SchemaOptions | None = None) -> strawberry.Schema:
    """Build the schema with the caches on and the limits in force."""
    opts = options or SchemaOptions()
    # The limiters' rule classes are made once: the validation cache keys on the rule
    # classes, so fresh ones per request would make every validation a miss.
    rules = [
        *QueryDepthLimiter(max_depth=opts.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=opts.max_aliases).validation_rules,
    ]
    max_tokens = opts.max_tokens
    extensions: list[Callable[[], SchemaExtension] | type[SchemaExtension]] = [
        lambda: ParserCache(maxsize=512),
        lambda: ValidationCache(maxsize=512),
        lambda: MaxTokensLimiter(max_token_count=max_tokens),
        lambda: AddValidationRules(rules),
        PartialErrors,
    ]
    if not opts.introspection:
        extensions.append(DisableIntrospection)
    if opts.mask_errors:
        extensions.append(
            lambda: MaskErrors(should_mask_error=is_unexpected, error_message="Internal error.")
        )
    return strawberry.Schema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS) if MUTATIONS else None,
        subscription=merge_types("Subscription", SUBSCRIPTIONS) if SUBSCRIPTIONS else None,
        types=[RealEstate, Vehicle, EquityStake],
        extensions=extensions,
        config=StrawberryConfig(scalar_map=SCALARS),
    )
