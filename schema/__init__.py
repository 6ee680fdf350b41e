"""The GraphQL schema: types, roots, scalars, and the extensions that wrap execution."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import strawberry
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import (
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
    SchemaExtension,
)
from strawberry.schema.config import StrawberryConfig
from strawberry.tools import merge_types
from strawberry.types.base import get_object_definition

from schema.access_log import AccessLogQuery
from schema.agencies import AgencyQuery
from schema.agency_workload import AgencyWorkloadQuery
from schema.approval_inbox import ApprovalInboxQuery
from schema.assets import EquityStake, RealEstate, Vehicle
from schema.assistance import AssistanceMutation, AssistanceQuery, AssistanceSubscription
from schema.audit import AuditQuery
from schema.audit_heads import AuditHeadsQuery
from schema.audit_verification import AuditVerificationQuery
from schema.case_costs import CaseCostsMutation
from schema.case_list import CaseListQuery
from schema.case_status import CaseStatusMutation
from schema.decisions import DecisionMutation
from schema.error_codes import ErrorCodes, MaskInternal
from schema.error_log import LoggedSchema
from schema.extensions import PartialErrors, is_unexpected
from schema.fast.executor import FastExecutionContext
from schema.fast.lean_mask import LeanMaskInternal
from schema.fast.lean_resolvers import use_lean_resolvers
from schema.fast.prepared import OperationRules, ParsedInPath, ValidatedByText
from schema.federation import SubgraphSchema, plain_schema
from schema.node_query import NodeQuery
from schema.query import LookupQuery
from schema.recorder import OperationRecorder
from schema.restrictions import RestrictionMutation
from schema.scalars import SCALARS
from schema.watch import WatchMutation, WatchSubscription

__all__ = ["MUTATIONS", "QUERIES", "SUBSCRIPTIONS", "SchemaOptions", "build_schema"]

# Each area of the API contributes its own root type; they are merged into the roots here.
QUERIES: tuple[type, ...] = (
    LookupQuery,
    AuditQuery,
    AgencyQuery,
    AssistanceQuery,
    AccessLogQuery,
    CaseListQuery,
    ApprovalInboxQuery,
    NodeQuery,
    AuditHeadsQuery,
    AgencyWorkloadQuery,
    AuditVerificationQuery,
)
MUTATIONS: tuple[type, ...] = (
    AssistanceMutation,
    RestrictionMutation,
    DecisionMutation,
    CaseStatusMutation,
    WatchMutation,
    CaseCostsMutation,
)
SUBSCRIPTIONS: tuple[type, ...] = (AssistanceSubscription, WatchSubscription)

_Extension = Callable[[], SchemaExtension] | type[SchemaExtension]


@dataclass(frozen=True, slots=True)
class SchemaOptions:
    """What shapes the schema's behaviour (from the gateway settings)."""

    max_depth: int = 12
    max_aliases: int = 30
    max_tokens: int = 3000
    introspection: bool = True
    mask_errors: bool = False
    # No "Did you mean …?" in errors (production: they leak names with introspection off).
    hide_suggestions: bool = False
    # Also a Federation v2 subgraph (``_service``, ``_entities``); see schema/federation.py.
    federation: bool = False
    # The execution shortcuts (executor.py, lean_resolvers.py, extension_runner.py,
    # prepared.py, MaskInternal's lean check): off, the schema runs on strawberry's and
    # graphql-core's own paths, with the same answers, only slower. Off is the way out
    # when a strawberry or graphql-core release changes an internal they rely on.
    shortcuts: bool = True


def build_schema(options: SchemaOptions | None = None) -> strawberry.Schema:
    """Build the schema with the limits in force (and the caches, with the shortcuts)."""
    opts = options or SchemaOptions()
    extensions = _limits(opts) if opts.shortcuts else _plain_limits(opts)
    extensions.append(PartialErrors)
    if opts.mask_errors:
        mask = LeanMaskInternal if opts.shortcuts else MaskInternal
        extensions.append(
            lambda: mask(should_mask_error=is_unexpected, error_message="Internal error.")
        )
    # Last in the list, first to run once the operation is over: ErrorCodes codes every
    # error, then OperationRecorder notes them for the audit record, then masking runs.
    extensions += [OperationRecorder, lambda: ErrorCodes(opts.hide_suggestions)]
    schema_class = SubgraphSchema if opts.federation else LoggedSchema
    schema = plain_schema(
        lambda: schema_class(
            query=_root(
                "Query",
                QUERIES,
                "Reads: cases, debtors through a case, assistance requests, agencies, audit.",
            ),
            mutation=_root(
                "Mutation",
                MUTATIONS,
                "Acts: assistance requests, restrictions, case status and costs, watches.",
            )
            if MUTATIONS
            else None,
            subscription=_root(
                "Subscription",
                SUBSCRIPTIONS,
                "Follows: a case's assistance requests and watched assets, live.",
            )
            if SUBSCRIPTIONS
            else None,
            types=[RealEstate, Vehicle, EquityStake],
            extensions=extensions,
            config=StrawberryConfig(scalar_map=SCALARS),
            execution_context_class=FastExecutionContext if opts.shortcuts else None,
            lean_extensions=opts.shortcuts,
        )
    )
    if opts.shortcuts:
        use_lean_resolvers(schema)
    return schema


def _root(name: str, parts: tuple[type, ...], description: str) -> type:
    """The root type ``name`` merged from ``parts``, with its description."""
    merged = merge_types(name, parts)
    # merge_types takes no description; the federation subgraph's Query keeps this one.
    get_object_definition(merged, strict=True).description = description
    return merged


def _limits(opts: SchemaOptions) -> list[_Extension]:
    """Parse and validation caches, and every limit in one extension made per request."""
    # The limiters' rule classes are made once: the validation cache keys on the rule
    # classes, so fresh ones per request would make every validation a miss.
    rules = [
        *QueryDepthLimiter(max_depth=opts.max_depth).validation_rules,
        *MaxAliasesLimiter(max_alias_count=opts.max_aliases).validation_rules,
    ]
    if not opts.introspection:
        rules.append(NoSchemaIntrospectionCustomRule)
    max_tokens = opts.max_tokens
    return [
        lambda: ParsedInPath(maxsize=512),
        lambda: ValidatedByText(opts.hide_suggestions),
        lambda: OperationRules(max_tokens, rules),
    ]


def _plain_limits(opts: SchemaOptions) -> list[_Extension]:
    """The same limits as strawberry's own extensions, in the same order, uncached."""
    extensions: list[_Extension] = [
        lambda: MaxTokensLimiter(max_token_count=opts.max_tokens),
        lambda: QueryDepthLimiter(max_depth=opts.max_depth),
        lambda: MaxAliasesLimiter(max_alias_count=opts.max_aliases),
    ]
    if not opts.introspection:
        extensions.append(DisableIntrospection)
    # Not a shortcut: what the API promises about validation (no suggestions in
    # production, "{}" refused), here without the cache.
    extensions.append(lambda: ValidatedByText(opts.hide_suggestions, cache=False))
    return extensions
