"""Checking the log against a witness's signed heads, for ``audit verify`` and for
``auditVerification``.

A ``HeadVerifier`` holds what the check needs besides the log: the witness to read heads
from, where the trusted public keys are, and how young a chain may be without a head. The
gateway registers one per audit database while its head publisher runs (``register``), so
``auditVerification``'s walk (``gateway.audit.verify_runs``) checks the same heads as
``liandong audit verify --witness``; with heads off nothing is registered and only the
chains are walked.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine

from gateway.audit.chain_source import SqlChainSource
from gateway.audit.head_check import HeadReport, check_heads
from gateway.audit.head_coverage import unsigned_chains
from gateway.audit.head_keys import trusted_keys
from gateway.audit.witnesses import Witness

__all__ = ["HeadVerifier", "register", "registered"]


@dataclass(frozen=True, slots=True)
class HeadVerifier:
    """The signed-head check of one witness; see the module docstring."""

    witness: Witness
    where: str  # the witness as configured (a folder or URL), for the report
    key_file: Path | None
    trusted_dir: Path | None
    grace_s: float  # a chain younger than this may not have a head yet

    async def check(self, engine: AsyncEngine) -> HeadReport:
        """Every head's signature and root against the log in ``engine``, and each chain
        with records that the witness holds no head of."""
        keys = await asyncio.to_thread(trusted_keys, self.key_file, self.trusted_dir)
        found = await self.witness.heads()
        report = await check_heads(SqlChainSource(engine), found, keys)
        unsigned = await unsigned_chains(
            engine, found, where=self.where, now=datetime.now(UTC), grace_s=self.grace_s
        )
        return HeadReport(report.checked, (*report.problems, *unsigned))


# By audit database URL: the gateway's reader has an engine of its own, not the publisher's.
_REGISTERED: dict[str, HeadVerifier] = {}


def _key(url: str) -> str:
    return make_url(url).render_as_string(hide_password=False)


def register(url: str, verifier: HeadVerifier | None) -> None:
    """Use ``verifier`` for the log at ``url`` from now on (None: no longer)."""
    if verifier is None:
        _REGISTERED.pop(_key(url), None)
    else:
        _REGISTERED[_key(url)] = verifier


def registered(engine: AsyncEngine) -> HeadVerifier | None:
    """The verifier registered for the log ``engine`` reads, if any."""
    return _REGISTERED.get(engine.url.render_as_string(hide_password=False))
