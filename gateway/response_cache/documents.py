"""Which GraphQL documents may have their answers kept, and how a kept answer reads.

Only queries whose every root field is a debtor look-up (``debtor``, ``debtors``): their
answers change only when a fact expires or a control, restriction or assistance step
touches the debtor or the case, and each of those drops the answer. Left out:

- any other root field (``case``, ``agencies``, ``auditRecords``, ``myAccessLog`` ...),
  whose answers change with no event about a debtor;
- ``assistanceRequests`` and ``overdue`` anywhere: ``overdue`` turns with the clock;
- a document that aliases ``cached``: a kept answer must say it is served from a cache
  (``mark_cached``), and an alias hides the field.
"""

from __future__ import annotations

import functools

from graphql import (
    DocumentNode,
    FieldNode,
    GraphQLError,
    OperationDefinitionNode,
    OperationType,
    Visitor,
    parse,
    visit,
)

__all__ = ["CACHED_FALSE", "CACHED_TRUE", "cacheable_document", "mark_cached"]

ROOT_FIELDS = frozenset({"debtor", "debtors", "__typename"})
CLOCK_FIELDS = frozenset({"assistanceRequests", "overdue"})
CACHED_FALSE = b'"cached":false'
CACHED_TRUE = b'"cached":true'


class _Unfit(Visitor):
    """Finds a field that makes the answer unfit to keep."""

    def __init__(self) -> None:
        super().__init__()
        self.unfit = False

    def enter_field(self, node: FieldNode, *_args: object) -> None:
        if node.name.value in CLOCK_FIELDS or (
            node.name.value == "cached" and node.alias is not None
        ):
            self.unfit = True


def _operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name is not None and o.name.value == name), None)


@functools.lru_cache(maxsize=256)
def cacheable_document(query: str, operation_name: str | None) -> bool:
    """Whether answers to ``operation_name`` of ``query`` may be kept (see the module)."""
    try:
        document = parse(query, no_location=True)
    except GraphQLError:
        return False
    operation = _operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return False
    roots = operation.selection_set.selections
    # A fragment at the root could hold any field: only plain fields are looked at.
    if not all(isinstance(s, FieldNode) and s.name.value in ROOT_FIELDS for s in roots):
        return False
    finder = _Unfit()
    visit(document, finder)
    return not finder.unfit


def mark_cached(body: bytes) -> bytes:
    """The answer as served from the cache: every fact's ``cached`` reads ``true``.

    The facts keep their ``fetchedAt``; only ``cached`` changes, and only where the fact was
    fetched for the build. Inside a JSON string a quote is escaped, so the pattern can only
    match a ``cached`` key (documents with an alias for it are not kept at all).
    """
    return body.replace(CACHED_FALSE, CACHED_TRUE)
