"""The signed-head part of ``liandong audit verify``, and ``liandong audit heads``.

``verify`` checks the log against every signed head the witness holds (``--witness DIR|URL``,
default ``heads.witness``): a bad signature, a tail cut or a rewrite below a head is a
broken log (exit 1), named by chain and size. ``audit heads`` prints the newest head of each
chain the witness holds, as JSON lines.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from gateway.cli.settings_args import load_config

__all__ = ["add_heads_command", "signed_heads_check"]

NONE = "none"


def signed_heads_check(
    settings: Any, witness: str | None
) -> Callable[[], Awaitable[list[str]]] | None:
    """What ``verify`` runs after the chain walk: problem lines, empty when all heads hold.
    None when there is nothing to check against (``--witness none``, or heads disabled)."""
    where = witness or (settings.heads.witness if settings.heads.enabled else NONE)
    if where == NONE:
        return None

    async def run() -> list[str]:
        from gateway.audit.heads_setup import (
            check_against_witness,
            overdue_without_witness,
            witness_exists,
        )
        from gateway.audit.signed_head import HeadFormatError
        from gateway.audit.witnesses import WitnessUnavailable
        from gateway.settings import SettingsError

        if not witness_exists(where):
            key = settings.heads.key_file
            if key is not None and key.exists():
                # The key is made at start-up, before any head: a folder not there yet is
                # a loss only once some chain is old enough to have had a head delivered.
                overdue = await overdue_without_witness(settings, where)
                if overdue:
                    return [f"no signed tree heads at {where}: folder missing", *overdue]
            print(f"liandong: no signed tree heads at {where} (none checked)", file=sys.stderr)
            return []
        try:
            report = await check_against_witness(settings, where)
        except (WitnessUnavailable, HeadFormatError, SettingsError) as err:
            return [f"signed tree heads could not be read: {err}"]
        if report.ok:
            print(f"signed tree heads OK: {report.checked} checked against {where}")
        return [str(problem) for problem in report.problems]

    return run


async def _newest(settings: Any, where: str) -> int:
    from gateway.audit.witnesses import newest_per_chain, open_witness

    reader = open_witness(where, timeout_s=settings.heads.timeout_s)
    try:
        heads = await reader.heads()
    finally:
        await reader.aclose()
    for head in sorted(newest_per_chain(heads).values(), key=lambda h: h.chain):
        sys.stdout.buffer.write(orjson.dumps(head.to_json(), option=orjson.OPT_SORT_KEYS) + b"\n")
    return 0


def _cmd_heads(args: argparse.Namespace) -> int:
    settings = load_config(args)
    return asyncio.run(_newest(settings, args.witness or settings.heads.witness))


def add_heads_command(audit_sub: Any) -> None:
    """Register ``audit heads`` on the ``audit`` subparsers."""
    heads = audit_sub.add_parser("heads", help="the newest signed tree head of each chain")
    heads.add_argument("--config", help="TOML settings file")
    heads.add_argument("--witness", help="DIR or URL (default: heads.witness)")
    heads.set_defaults(func=_cmd_heads)
