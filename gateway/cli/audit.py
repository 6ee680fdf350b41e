"""``liandong audit verify`` and ``liandong audit export``.

``verify`` walks the whole log and prints how many records it checked and the head (seq and
hash, worth noting somewhere else: ``--anchor SEQ:HASH`` checks it later; a published tree
head, ``--tree SIZE:ROOT``, covers every record up to SIZE); it exits 1 naming the first
broken record. ``export`` writes the records of one case or one debtor as JSON
lines, oldest first, each with its hashes so that the excerpt can be checked against the log.
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


def _anchor(value: str) -> tuple[int, str]:
    seq, sep, digest = value.partition(":")
    if not sep or not seq.isdigit() or len(digest) != 64:
        raise argparse.ArgumentTypeError("an anchor is SEQ:HASH (64 hex digits)")
    return int(seq), digest.lower()


def _tree(value: str) -> tuple[int, str]:
    size, sep, root = value.partition(":")
    if not sep or not size.isdigit() or int(size) < 1 or len(root) != 64:
        raise argparse.ArgumentTypeError("a tree head is SIZE:ROOT (64 hex digits)")
    return int(size), root.lower()


def _when(value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {value}") from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


async def _verify(
    url: str, anchors: list[tuple[int, str]], heads: list[tuple[int, str]], signed: Any = None
) -> int:
    from gateway.audit.store import open_audit_engine
    from gateway.audit.tree import TreeError, tree_head
    from gateway.audit.verify import verify_log

    engine = open_audit_engine(url)
    differs: list[str] = []
    try:
        report = await verify_log(engine, anchors=anchors)
        for size, root in heads if report.broken is None else []:
            try:
                found = await tree_head(engine, size)
            except TreeError as err:
                differs.append(f"tree head {size}: {err}")
                continue
            if found["root"] != root:
                differs.append(f"the first {size} records are not the published tree head's")
    finally:
        await engine.dispose()
    if report.broken is None and signed is not None:
        differs.extend(await signed())
    if differs:
        for what in differs:
            print(f"audit log BROKEN: {what}", file=sys.stderr)
        return EXIT_BROKEN
    if report.broken is not None:
        print(
            f"audit log BROKEN at record {report.broken.seq}: {report.broken.reason} "
            f"({report.checked} records checked before it)",
            file=sys.stderr,
        )
        return EXIT_BROKEN
    print(
        f"audit log OK: {report.checked} records checked; "
        f"head seq {report.head_seq} hash {report.head_hash}"
    )
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
            line = {**record.body(), "prev_hash": record.prev_hash, "hash": record.hash}
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

    verify = audit_sub.add_parser("verify", help="check the hash chain; name the first break")
    verify.add_argument("--config", help="TOML settings file")
    verify.add_argument(
        "--anchor",
        type=_anchor,
        action="append",
        help="SEQ:HASH noted from an earlier verify; that record must still have that hash",
    )
    verify.add_argument(
        "--tree",
        type=_tree,
        action="append",
        help="SIZE:ROOT, a tree head published earlier (`audit tree`): the log's first SIZE "
        "records must still hash to it",
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
