"""The executor's ``is_awaitable``: strawberry's check, remembered per class.

Asked some 60 times per debtor answered (``resolvers/awaitables.py`` says when a class
decides the answer).
"""

from __future__ import annotations

from strawberry.execution import optimized_is_awaitable

from resolvers.awaitables import remembered_per_class

__all__ = ["is_awaitable"]

is_awaitable = remembered_per_class(optimized_is_awaitable)
