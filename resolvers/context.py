"""What every resolver gets as ``info.context``: who asks, for which request, with what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from gateway.audit.entities import EntityReference
from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from connectors.http import HttpClient
    from gateway.audit.query import AuditSearch
    from gateway.audit.witnesses import Witness
    from gateway.auth import Principal
    from gateway.debtor_handle import DebtorHandles
    from gateway.runtime.assistance import AssistanceRuntime
    from gateway.store.cases import CaseRow, Store
    from gateway.watch.scheduler import WatchScheduler

__all__ = ["OperationFacts", "RequestContext"]


@dataclass(slots=True)
class OperationFacts:
    """One executed GraphQL operation, as its audit record needs it (see schema/recorder.py).

    ``errors`` holds one summary per error: its ``code`` and, where present, ``agency``,
    ``field``, ``limit``, ``reason``, and for internal errors the exception's ``type``.
    """

    query: str | None
    name: str | None
    kind: str | None  # "query", "mutation", "subscription"; None when it did not parse
    variables: dict[str, Any]
    errors: list[dict[str, Any]]
    has_data: bool


@dataclass(slots=True)
class RequestContext:
    """Per-request state; made fresh for every operation."""

    principal: Principal
    request_id: str
    loaders: Loaders
    store: Store
    unmask: bool = False
    max_ids: int = 500
    # Cases already fetched and authorised in this request, by number.
    cases: dict[str, CaseRow] = field(default_factory=dict)
    # Debtor ids whose data this request touched (for the audit record).
    debtors_touched: set[str] = field(default_factory=set)
    # Errors of one agency inside a list that other agencies filled: reported beside the data.
    partial_errors: list[GraphQLError] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)
    # Case numbers this request named, allowed or not (for the audit record).
    cases_requested: list[str] = field(default_factory=list)
    # The operations executed for this request and how they ended (for the audit record).
    operations: list[OperationFacts] = field(default_factory=list)
    # The audit log's reader, for the auditor's root fields (None: the log is disabled).
    audit_search: AuditSearch | None = None
    # Where the signed tree heads are published (None: heads are not signed).
    audit_heads: Witness | None = None
    # The shared HTTP client, whose per-agency figures ``agencies`` reports.
    http: HttpClient | None = None
    # Assistance requests: service, store and event bus (None when not running).
    assistance: AssistanceRuntime | None = None
    # Asset watches: their store, scheduler and bus (None when not running).
    watch: WatchScheduler | None = None
    # The websocket's connection_init payload (strawberry sets it; the token is in it).
    connection_params: dict[str, Any] | None = None
    # An _entities request's references, in the order asked (for the audit record).
    entity_references: list[EntityReference] = field(default_factory=list)
    # Seals and opens opaque debtor handles (None only where no gateway runs).
    handles: DebtorHandles | None = None
