"""The Relay ``Node`` interface: what a client's normalised cache keys its records by.

Every node's ``id`` is opaque and stable, and names no person: a debtor's is its handle
(``dh1.``), a case's and an asset's are sealed by the same codec (``nd1.``, see
``gateway/debtor_handle.py``), an assistance request's is the request's own id (a random
UUID). ``node(id:)`` (``schema/node_query.py``) takes any of them back, under the same
checks as the look-up that first showed it. A spouse (``Marriage.spouse``) is the one debtor
whose id is not taken back: not a party to the case, so no look-up of theirs is lawful
(``FORBIDDEN``, rule ``DEBTOR_IS_PARTY``); they are read through the party only.
"""

from __future__ import annotations

import strawberry

__all__ = ["Node"]


@strawberry.interface(
    description="An object with an opaque, stable id that `node(id:)` takes back (Relay)."
)
class Node:
    # A resolver, not an attribute: each type computes its id (sealing it needs the
    # request's codec), and a dataclass attribute here would be a constructor argument.
    @strawberry.field(
        description="Opaque and stable; never a personal number. Pass it to `node(id:)`."
    )
    def id(self) -> strawberry.ID:
        raise NotImplementedError(type(self).__name__)
