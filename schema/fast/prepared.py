"""Parsing and validation, each done once per distinct query text.

Officers' clients send the same few operations over and over; both caches are keyed so that
a repeat costs a dictionary look-up.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Sequence
from typing import Any, ClassVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    OperationDefinitionNode,
    SelectionSetNode,
    validate,
    visit,
)
from graphql.language import Visitor
from strawberry.extensions import ParserCache, SchemaExtension
from strawberry.schema.validation_rules.maybe_null import MaybeNullValidationRule
from strawberry.schema.validation_rules.one_of import OneOfInputValidationRule

# What strawberry's ``validate_document`` adds to the rules it is given.
_STRAWBERRY_RULES = (MaybeNullValidationRule, OneOfInputValidationRule)

__all__ = ["OperationRules", "ParsedInPath", "ValidatedByText"]


class ParsedInPath(ParserCache):
    """``ParserCache`` that lets a document which does not parse fail on the ordinary path.

    ``ParserCache`` parses while its hook is being entered, so a syntax error (or too many
    tokens) escapes every ``on_operation`` hook: no code, no audit facts. Here a failed cached
    parse leaves the document unset; strawberry parses it again inside its own error
    handling, and the error comes back as a result that the other extensions see.
    """

    def on_parse(self) -> Iterator[None]:
        ec = self.execution_context
        try:
            ec.graphql_document = self.cached_parse_document(ec.query, **ec.parse_options)
        except GraphQLError:
            ec.graphql_document = None
        yield


class ValidatedByText(SchemaExtension):
    """Validation results cached by (schema, query text, rules).

    strawberry's ``ValidationCache`` keys on the parsed document, whose hash walks the whole
    tree on every request (measured: ~2% of a warm look-up). The text determines the
    document (``ParsedInPath`` caches it by text), so the text is as good a key and hashes
    in C. The rules are part of the key: those that ``OperationRules`` adds are classes
    made once (``build_schema``), so the key repeats.
    """

    maxsize: ClassVar[int] = 512
    _results: ClassVar[OrderedDict[tuple[Any, ...], list[GraphQLError]]] = OrderedDict()

    def __init__(self, hide_suggestions: bool = False, *, cache: bool = True) -> None:
        # In production a misspelt field must not be answered with the names it is near:
        # with introspection off, that would hand the schema out one guess at a time.
        self.hide_suggestions = hide_suggestions
        self.cache = cache

    def on_validate(self) -> Iterator[None]:
        ec = self.execution_context
        if ec.graphql_document is not None and ec.query is not None and ec.validation_rules:
            schema = ec.schema._schema
            key = (schema, ec.query, tuple(ec.validation_rules), self.hide_suggestions)
            found = self._results.get(key) if self.cache else None
            if found is None:
                found = self._validate(schema, ec.graphql_document, ec.validation_rules)
                if self.cache:
                    self._results[key] = found
                    if len(self._results) > self.maxsize:
                        self._results.popitem(last=False)
            else:
                self._results.move_to_end(key)
            ec.pre_execution_errors = list(found)
        # strawberry runs the first operation of a document when no operationName picks
        # one; the GraphQL specification (and graphql-core's own execute) refuses instead.
        # Here, not in OperationRules, so that it holds with the shortcuts off too.
        document = ec.graphql_document
        if document is not None and ec._provided_operation_name is None:
            count = sum(isinstance(d, OperationDefinitionNode) for d in document.definitions)
            if count > 1:
                ec.pre_execution_errors = [*(ec.pre_execution_errors or []), _no_operation_name()]
        yield

    def _validate(
        self, schema: Any, document: DocumentNode, rules: Sequence[type[ASTValidationRule]]
    ) -> list[GraphQLError]:
        if (empty := _empty_selection(document)) is not None:
            # graphql-core 3.3 parses "{}", which the specification's grammar does not allow
            # (and strawberry's depth limiter fails on): refused as a syntax error.
            message = "Syntax Error: a selection set must select at least one field."
            return [GraphQLError(message, nodes=[empty])]
        return validate(
            schema,
            document,
            (*rules, *_STRAWBERRY_RULES),
            hide_suggestions=self.hide_suggestions,
        )


class OperationRules(SchemaExtension):
    """The token limit and the extra validation rules (depth, aliases, no introspection in
    production) in one hook: what ``MaxTokensLimiter``, ``AddValidationRules`` and
    ``DisableIntrospection`` do, for one extension made per request instead of three."""

    def __init__(self, max_tokens: int, rules: Sequence[type[ASTValidationRule]]) -> None:
        self.max_tokens = max_tokens
        self.rules = tuple(rules)

    def on_operation(self) -> Iterator[None]:
        ec = self.execution_context
        ec.parse_options["max_tokens"] = self.max_tokens
        ec.validation_rules = (*ec.validation_rules, *self.rules)
        yield


class _EmptySelection(Visitor):
    found: SelectionSetNode | None = None

    def enter_selection_set(self, node: SelectionSetNode, *_args: Any) -> Any:
        if not node.selections:
            self.found = node
            return self.BREAK
        return None


def _empty_selection(document: DocumentNode) -> SelectionSetNode | None:
    visitor = _EmptySelection()
    visit(document, visitor)
    return visitor.found


def _no_operation_name() -> GraphQLError:
    return GraphQLError("Must provide operation name if query contains multiple operations.")
