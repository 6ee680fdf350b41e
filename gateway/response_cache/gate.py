"""The response cache at the door of ``/graphql``: after authentication, before execution.

A request is keyed by what it asks (its document, operation name, variables and extensions,
as parsed from a POST's JSON body or a GET's query string: ``request_key.py``) and its
scope: the court, roles and scopes of the token, which decide what may be seen and
unmasked. A GET and a POST that ask the same thing share their answer. A kept answer is
served only once the case check has been run again for this principal, on the cases the
answer was asked through (assigned, or a judge of the court) and the debtors that were
parties to them then and must still be; if it fails, the request is built as if nothing
were kept, and refused and recorded as usual. Officers of one court with
the same roles share answers only after each passes that check.

A built answer is kept only if it is one query of a kept kind (``documents.py``), ended with
no error at all (an agency down, a stale fact: such an answer is right only until the
agency is back, so it is not kept), and has at least one case behind it. It expires at the
earliest expiry of the facts in it (each fact's ``fetchedAt`` plus its facet's TTL), or after
``max_ttl_s``, whichever comes first.
"""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from connectors.domain import Facet
from gateway.auth import Principal
from gateway.response_cache.answers import Answer, AnswerCache, FactUse
from gateway.response_cache.documents import cacheable_document, mark_cached
from gateway.response_cache.record import agency_records, document_hash
from gateway.response_cache.request_key import request_key
from gateway.store.case_rows import CaseRow
from gateway.store.cases import Store
from resolvers.access import principal_may_see_case
from resolvers.context import RequestContext

__all__ = ["ResponseGate"]


class ResponseGate:
    """Looks requests up in the kept answers and keeps what their builds produced."""

    def __init__(
        self,
        answers: AnswerCache,
        store: Store,
        fact_ttl: Callable[[Facet], float],
        max_ttl_s: float,
    ) -> None:
        self.answers = answers
        self.store = store
        self.fact_ttl = fact_ttl
        self.max_ttl_s = max_ttl_s
        self.party_checks = 0  # party sets built and compared, for all answers

    async def key_of(self, request: Request, principal: Principal) -> bytes | None:
        """The request's key, or ``None`` if it is not a kind of request ever kept."""
        method = request.method
        if method == "GET":
            raw = request.scope.get("query_string", b"")
        elif method == "POST" and request.headers.get("content-type", "").startswith(
            "application/json"
        ):
            raw = await request.body()
        else:
            return None  # multipart and other bodies: never kept
        return request_key(method, raw, principal)

    async def respond(
        self,
        request: Request,
        principal: Principal,
        run: Callable[[Request], Awaitable[Response]],
        context: Callable[[], RequestContext | None],
    ) -> tuple[Response, Answer | None, Callable[[], bool] | None]:
        """The kept answer if there is one for this principal, else ``run``'s, with what
        keeps it (if it may be kept) to call once its record is durable; ``context`` gives
        the request's context once ``run`` has made it."""
        key = await self.key_of(request, principal)
        if key is None:
            return await run(request), None, None
        answer = await self.serve(key, principal)
        if answer is not None:
            return Response(answer.body, media_type="application/json"), answer, None
        generation = self.answers.generation
        response = await run(request)
        if response.status_code != 200 or isinstance(response, StreamingResponse):
            return response, None, None
        keep = functools.partial(self.keep, key, generation, context(), bytes(response.body))
        return response, None, keep

    async def serve(self, key: bytes, principal: Principal) -> Answer | None:
        """The kept answer for ``key`` if this principal passes its case check now."""
        answer = self.answers.get(key)
        if answer is None or not await self.allows(answer, principal):
            self.answers.misses += 1
            return None
        self.answers.hits += 1
        return answer

    async def allows(self, answer: Answer, principal: Principal) -> bool:
        """Whether ``principal`` passes ``answer``'s case check now (run on every hit)."""
        rows = await self.store.get_cases(list(answer.cases))
        found: list[CaseRow] = []
        for number in answer.cases:
            row = rows.get(number)
            if row is None or not principal_may_see_case(principal, row):
                return False
            found.append(row)
        checked = answer.checked
        if checked.holds(found):
            return True  # the same rows as last time: the same parties
        checked.checks += 1
        self.party_checks += 1
        for number, row in zip(answer.cases, found, strict=True):
            parties = {debtor for debtor, _kind in row.debtor_ids}
            if not answer.parties.get(number, frozenset()) <= parties:
                return False
        checked.passed(found)
        return True

    def keep(self, key: bytes, generation: int, ctx: RequestContext | None, body: bytes) -> bool:
        """Keep the answer ``ctx``'s request built, if it may be kept (see the module)."""
        if ctx is None or len(ctx.operations) != 1 or ctx.partial_errors or not ctx.cases:
            return False
        op = ctx.operations[0]
        if op.kind != "query" or op.errors or not op.has_data or op.query is None:
            return False
        if not cacheable_document(op.query, op.name):
            return False
        lifetime = self.max_ttl_s
        uses: Counter[tuple[str, str]] = Counter()
        now = datetime.now(UTC)
        for (agency, facet, _key), fact in ctx.loaders.known.items():
            if fact.stale:
                return False
            left = self.fact_ttl(facet) - (now - fact.fetched_at).total_seconds()
            lifetime = min(lifetime, left)
            uses[(agency, facet.value)] += 1
        if lifetime <= 0:
            return False
        debtors = frozenset(ctx.debtors_touched)
        facts = tuple(FactUse(a, f, n) for (a, f), n in sorted(uses.items()))
        answer = Answer(
            body=mark_cached(body),
            expires_at=time.monotonic() + lifetime,
            query=op.query,
            operation=op.name,
            variables=dict(op.variables),
            debtors=debtors,
            cases=tuple(ctx.cases),
            parties={
                number: debtors & {debtor for debtor, _kind in row.debtor_ids}
                for number, row in ctx.cases.items()
            },
            facts=facts,
            document_hash=document_hash(op.query),
            debtor_list=tuple(sorted(debtors)),
            agency_records=agency_records(facts),
        )
        return self.answers.put(key, answer, generation)
