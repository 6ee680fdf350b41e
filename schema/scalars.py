"""Custom scalars: ``Money`` is an exact decimal string in yuan with two places."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import strawberry

from gateway.errors import InvalidInput

__all__ = ["SCALARS", "Money", "money"]

_CENT = Decimal("0.01")


def money(value: Decimal) -> str:
    """Format yuan exactly with two places; never through float."""
    return str(value.quantize(_CENT))


def _parse_money(value: object) -> Decimal:
    if not isinstance(value, str | int):
        raise InvalidInput("Money", 'expected a decimal string such as "12345.67"')
    try:
        parsed = Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise InvalidInput("Money", f"{value!r} is not a decimal amount") from exc
    if not parsed.is_finite() or parsed.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput("Money", f"{value!r} must be finite with at most two decimal places")
    return parsed.quantize(_CENT)


# Every ``Decimal`` in the schema is money: the map below serves it as the ``Money`` scalar.
Money = Decimal

SCALARS: dict[object, Any] = {
    Decimal: strawberry.scalar(
        name="Money",
        description='An exact amount in yuan as a decimal string with two places, e.g. "12345.67".',
        serialize=money,
        parse_value=_parse_money,
    )
}
