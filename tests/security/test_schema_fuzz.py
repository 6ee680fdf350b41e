"""Generated operations over the exported schema: never a 500, never an unmasked internal error.

hypothesis-graphql builds valid documents (with random arguments) from the SDL that
``liandong schema print`` exports; each one is sent to a production-profile gateway with a
valid officer token. Every error in every answer must carry a stable ``extensions.code``,
and an internal one must read "Internal error." and nothing more.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC
from decimal import Decimal
from typing import Any

import graphql
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_graphql import mutations, nodes, queries

from schema import build_schema
from tests.harness import Gateway

SDL = build_schema().as_str()
SCHEMA = graphql.build_schema(SDL, assume_valid_sdl=True)  # federation directives

_STRATEGIES: dict[str, st.SearchStrategy[Any]] = {
    "DateTime": st.datetimes(timezones=st.just(UTC)).map(lambda d: nodes.String(d.isoformat())),
    "Date": st.dates().map(lambda d: nodes.String(d.isoformat())),
    "Money": st.decimals(min_value=Decimal(0), max_value=Decimal(10**9), places=2).map(
        nodes.String
    ),
}


def custom_scalars() -> dict[str, st.SearchStrategy[Any]]:
    """A strategy for every non-standard scalar (others' areas add their own over time)."""
    found = {
        name
        for name, t in SCHEMA.type_map.items()
        if isinstance(t, graphql.GraphQLScalarType) and name not in graphql.specified_scalar_types
    }
    text = st.text(max_size=24).map(nodes.String)
    return {name: _STRATEGIES.get(name, text) for name in found}


def operations() -> st.SearchStrategy[str]:
    scalars = custom_scalars()
    ops = queries(SCHEMA, custom_scalars=scalars)
    if SCHEMA.mutation_type is not None:
        ops = ops | mutations(SCHEMA, custom_scalars=scalars)
    return ops


def check(status: int, body: dict[str, Any], codes: Counter[str]) -> None:
    assert status < 500, body
    assert "Traceback" not in str(body)
    for error in body.get("errors") or ():
        code = (error.get("extensions") or {}).get("code")
        assert isinstance(code, str) and code, error
        codes[code] += 1
        if code == "INTERNAL":
            assert error["message"] == "Internal error.", error


async def test_generated_operations_get_no_500_and_no_unmasked_error(
    prod_gateway: Gateway,
) -> None:
    gw = prod_gateway
    token = gw.token(scopes=["unmask"])
    loop = asyncio.get_running_loop()
    codes: Counter[str] = Counter()
    sent = 0

    # Hypothesis drives a synchronous test; it runs in a worker thread and sends each
    # document through this loop, which keeps serving the gateway meanwhile.
    @settings(
        max_examples=300,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )
    @given(document=operations())
    def one(document: str) -> None:
        nonlocal sent
        status, body = asyncio.run_coroutine_threadsafe(
            gw.post(document, token=token), loop
        ).result()
        sent += 1
        check(status, body, codes)

    await asyncio.to_thread(one)
    assert sent >= 100, f"only {sent} operations were generated"
    assert codes["INTERNAL"] == 0, codes
