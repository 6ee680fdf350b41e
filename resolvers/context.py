"""What every resolver gets as ``info.context``: who asks, for which request, with what."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from graphql import GraphQLError

from resolvers.loaders import Loaders

if TYPE_CHECKING:
    from gateway.auth import Principal
    from gateway.store import CaseRow, Store

__all__ = ["RequestContext"]


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
