"""``liandong audit verify`` and ``liandong audit export``.

``verify`` walks every chain of the log and the witness records between them, and prints
how many records it checked and each chain's head (seq and hash, worth noting somewhere
else: ``--anchor [CHAIN:]SEQ:HASH`` checks it later; a published tree head, ``--tree
[CHAIN:]SIZE:ROOT``, covers every record of the chain up to SIZE; the chain may be left out
while the log holds one); it exits 1 naming the chain and record of every break.
``export`` writes the records of one case or one debtor as JSON lines, all chains merged
by time, each with its chain and hashes so that the excerpt can be checked against the log.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any

import orjson

from gateway.cli.settings_args import audit_url, load_config

__all__ = ["add_audit_commands"]

EXIT_BROKEN = 1
EXIT_USAGE = 2


Pinned = tuple[str | None, int, str]  # chain (None: the only one), seq or size, hash or root


def _pinned(value: str, what: str) -> Pinned:
    rest, sep, digest = value.rpartition(":")
    chain, _, number = rest.rpartition(":")
    if not sep or not number.isdigit() or int(number) < 1 or len(digest) != 64:
        raise argparse.ArgumentTypeError(f"{what} (64 hex digits)")
    return chain or None, int(number), digest.lower()


def _anchor(value: str) -> Pinned:
    return _pinned(value, "an anchor is [CHAIN:]SEQ:HASH")


def _tree(value: str) -> Pinned:
    return _pinned(value, "a tree head is [CHAIN:]SIZE:ROOT")


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


async def _verify(url: str, anchors: list[Pinned], heads: list[Pinned], signed: Any = None) -> int:
    from gateway.audit.store import open_audit_engine
    from gateway.audit.tree import TreeError, tree_head
    from gateway.audit.verify import verify_log
    from gateway.cli.audit_tree import pick_chain

    engine = open_audit_engine(url)
    differs: list[str] = []
    try:
        try:
            pinned = [(await pick_chain(engine, c), n, d) for c, n, d in anchors]
            trees = [(await pick_chain(engine, c), n, d) for c, n, d in heads]
        except TreeError as err:
            print(f"liandong: {err}", file=sys.stderr)
            return EXIT_USAGE
        report = await verify_log(engine, anchors=pinned)
        for chain, size, root in trees if report.ok else []:
            try:
                found = await tree_head(engine, chain, size)
            except TreeError as err:
                differs.append(f"tree head {chain}:{size}: {err}")
                continue
            if found["root"] != root:
                differs.append(
                    f"chain {chain}: the first {size} records are not the published tree head's"
                )
    finally:
        await engine.dispose()
    if signed is not None:
        # Checked on a broken log too: which signed heads a cut or rewrite contradicts
        # belongs in the same report as the chain walk's breaks.
        differs.extend(await signed())
    if not report.ok:
        for broken in report.breaks:
            print(f"audit log BROKEN at {broken}", file=sys.stderr)
    for what in differs:
        print(f"audit log BROKEN: {what}", file=sys.stderr)
    if not report.ok:
        print(f"({report.checked} records checked)", file=sys.stderr)
    if differs or not report.ok:
        return EXIT_BROKEN
    print(f"audit log OK: {report.checked} records checked in {len(report.chains)} chains")
    for state in report.chains:
        print(f"chain {state.chain}: head seq {state.size} hash {state.head_hash}")
    return 0


def _cmd_verify(args: argparse.Namespace) -> int:
    settings = load_config(args)
    url = audit_url(settings)
    if url is None:
        return EXIT_USAGE
    from gateway.cli.audit_heads import signed_heads_check

    signed = signed_heads_check(settings, args.witness)
    return asyncio.run(_verify(url, list(args.anchor or []), list(args.tree or []), signed))


async def _export(url: str, key: bytes, where: Any) -> int:
    from gateway.audit.query import AuditSearch
    from gateway.audit.store import open_audit_engine

    engine = open_audit_engine(url)
    count = 0
    out = sys.stdout.buffer
    try:
        async for record in AuditSearch(engine, key).stream(where):
            line = {
                **record.body(),
                "chain": record.chain,
                "prev_hash": record.prev_hash,
                "hash": record.hash,
            }
            out.write(orjson.dumps(line, option=orjson.OPT_SORT_KEYS) + b"\n")
            count += 1
    finally:
        await engine.dispose()
        out.flush()
    print(f"{count} records exported", file=sys.stderr)
    return 0


def _cmd_export(args: argparse.Namespace) -> int:
    from gateway import validation
    from gateway.audit.query import AuditFilter
    from gateway.errors import InvalidInput

    settings = load_config(args)
    url = audit_url(settings)
    if url is None:
        return EXIT_USAGE
    key_file = settings.audit.key_file
    if settings.audit.key is None and (key_file is None or not key_file.exists()):
        # A fresh key would match nothing, silently: say so instead.
        print(f"liandong: audit key not found at {key_file}", file=sys.stderr)
        return EXIT_USAGE
    try:
        where = AuditFilter(
            case_number=validation.case_number(args.case, "--case") if args.case else None,
            debtor_id=validation.debtor_id(args.debtor, "--debtor")[0] if args.debtor else None,
            since=args.since,
            until=args.until,
        )
    except InvalidInput as err:
        print(f"liandong: {err.message}", file=sys.stderr)
        return EXIT_USAGE
    return asyncio.run(_export(url, settings.audit_key(), where))


def add_audit_commands(sub: Any) -> None:
    """Register ``audit verify``, ``audit export`` and the tree commands
    (``gateway/cli/audit_tree.py``) on the top-level subparsers."""
    audit = sub.add_parser("audit", help="check and export the audit log")
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)

    verify = audit_sub.add_parser(
        "verify", help="check every chain and their witnesses; name each break"
    )
    verify.add_argument("--config", help="TOML settings file")
    verify.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        help="[CHAIN:]SEQ:HASH noted from an earlier verify; that record must still have that hash",
    )
    verify.add_argument(
        "--tree",
        type=_tree,
        action="append",
        help="[CHAIN:]SIZE:ROOT, a tree head published earlier (`audit tree`): the chain's "
        "first SIZE records must still hash to it",
    )
    verify.add_argument(
        "--witness",
        help="DIR or URL holding signed tree heads to check the log against "
        "(default: heads.witness; 'none' skips the check)",
    )
    verify.set_defaults(func=_cmd_verify)

    export = audit_sub.add_parser("export", help="records of one case or debtor, as JSON lines")
    export.add_argument("--config", help="TOML settings file")
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--case", help="case number (案号)")
    which.add_argument("--debtor", help="debtor id (resident id or credit code)")
    export.add_argument("--since", type=_when, help="ISO 8601 time, inclusive")
    export.add_argument("--until", type=_when, help="ISO 8601 time, exclusive")
    export.set_defaults(func=_cmd_export)

    from gateway.cli.audit_tree import add_tree_commands

    add_tree_commands(audit_sub)

    from gateway.cli.audit_heads import add_heads_command

    add_heads_command(audit_sub)
