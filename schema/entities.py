"""``_entities``: each representation resolved on its own, noted for the audit record.

Strawberry's own resolver edits the representations it is given (it pops ``__typename``
and adds its ``info`` object), and those are the very dicts of the request's variables: the
audit record then printed a framework object holding the whole request context. Here the
representations are only read, and what the record lists is noted from our own values
(see ``resolvers/entities.py``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from strawberry.types import Info

from gateway import validation
from gateway.audit.entities import EntityReference
from gateway.errors import InvalidInput, LiandongError
from resolvers.context import RequestContext
from resolvers.entities import ENTITY_TYPES, case_reference, debtor_reference, note_reference
from schema.case import Case
from schema.debtor import Debtor

__all__ = ["resolve_entities"]

_UNKNOWN = "?"  # the type a representation named, when it is none of ours


def resolve_entities(
    info: Info[RequestContext, None], representations: Sequence[object]
) -> list[Awaitable[Debtor | Case]]:
    """One awaitable per representation; a failing one fails only its own entity."""
    ctx = info.context
    # After those of an earlier _entities field of the same request (an alias), if any.
    first = len(ctx.entity_references)
    ctx.entity_references.extend([EntityReference(_UNKNOWN)] * len(representations))
    return [_resolve(ctx, first + i, rep) for i, rep in enumerate(representations)]


async def _resolve(ctx: RequestContext, index: int, representation: object) -> Debtor | Case:
    fields: Mapping[str, Any] = representation if isinstance(representation, Mapping) else {}
    typename = fields.get("__typename")
    known = typename if isinstance(typename, str) and typename in ENTITY_TYPES else _UNKNOWN
    note_reference(ctx, index, EntityReference(known))
    try:
        if known == "Debtor":
            key, kind, case = await debtor_reference(
                ctx, index, fields.get("caseNumber"), fields.get("handle")
            )
            return Debtor(key=key, kind=kind, case_number=case.number)
        if known == "Case":
            number = fields.get("number")
            if not isinstance(number, str):
                raise InvalidInput("representations", "a Case reference needs its number")
            normalised = validation.case_number(number, "number")
            note_reference(ctx, index, EntityReference("Case", normalised))
            return Case.from_row(await case_reference(ctx, normalised))
        raise InvalidInput("representations", "not a reference to an entity of this subgraph")
    except Exception as err:
        code = err.code if isinstance(err, LiandongError) else "INTERNAL"
        note_reference(ctx, index, replace(ctx.entity_references[index], code=code))
        raise
