"""``liandong audit tree | prove | consistency | check-proof``: a chain's Merkle tree.

Each writer's chain has its own tree; ``--chain`` names it (it may be left out while the log
holds one chain). ``tree`` prints a tree head to publish (``{"chain", "size", "root"}``);
``prove SEQ`` the proof that record SEQ is under a head; ``consistency OLD`` the proof that
the chain only grew since the head of OLD records; ``check-proof FILE`` checks such a
proof without the log, and with ``--root`` (and ``--old-root``) that its roots are the
published ones. See ``gateway/audit/tree.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import orjson

__all__ = ["add_tree_commands"]

EXIT_FAILED = 1
EXIT_USAGE = 2


def _hex64(value: str) -> str:
    if len(value) != 64 or any(c not in "0123456789abcdefABCDEF" for c in value):
        raise argparse.ArgumentTypeError("a root is 64 hex digits")
    return value.lower()


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError("must be a positive whole number")
    return int(value)


async def pick_chain(engine: Any, given: str | None) -> str:
    """``given``, else the log's only chain; ``TreeError`` when that is ambiguous."""
    from gateway.audit.tree import TreeError
    from gateway.audit.verify import read_heads

    chains = sorted(await read_heads(engine))
    if given is not None:
        return given
    if len(chains) != 1:
        raise TreeError(f"name a chain with --chain (the log holds: {', '.join(chains) or 'none'})")
    return chains[0]


def _run(args: argparse.Namespace, make: Callable[[Any, str], Awaitable[dict[str, Any]]]) -> int:
    from gateway.audit.store import open_audit_engine
    from gateway.audit.tree import TreeError
    from gateway.cli.settings_args import audit_url, load_config

    url = audit_url(load_config(args))
    if url is None:
        return EXIT_USAGE

    async def go() -> dict[str, Any]:
        engine = open_audit_engine(url)
        try:
            return await make(engine, await pick_chain(engine, args.chain))
        finally:
            await engine.dispose()

    try:
        doc = asyncio.run(go())
    except TreeError as err:
        print(f"liandong: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(orjson.dumps(doc, option=orjson.OPT_INDENT_2).decode())
    return 0


def _cmd_tree(args: argparse.Namespace) -> int:
    from gateway.audit.tree import tree_head

    return _run(args, lambda engine, chain: tree_head(engine, chain, args.size))


def _cmd_prove(args: argparse.Namespace) -> int:
    from gateway.audit.tree import inclusion

    return _run(args, lambda engine, chain: inclusion(engine, chain, args.seq, args.size))


def _cmd_consistency(args: argparse.Namespace) -> int:
    from gateway.audit.tree import consistency

    return _run(args, lambda engine, chain: consistency(engine, chain, args.old_size, args.size))


def _cmd_check_proof(args: argparse.Namespace) -> int:
    from gateway.audit.tree import check_proof

    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        doc = orjson.loads(raw)
    except orjson.JSONDecodeError:
        print("liandong: the proof is not JSON", file=sys.stderr)
        return EXIT_USAGE
    if not isinstance(doc, dict) or not check_proof(doc):
        print("proof INVALID", file=sys.stderr)
        return EXIT_FAILED
    wrong = [
        name
        for name, given in (("root", args.root), ("old_root", args.old_root))
        if given is not None and doc.get(name) != given
    ]
    if wrong:
        print(f"proof valid, but its {' and '.join(wrong)} is not the one given", file=sys.stderr)
        return EXIT_FAILED
    print(f"proof OK ({doc['kind']}, tree of {doc['size']} records)")
    return 0


def add_tree_commands(audit_sub: Any) -> None:
    """Register the tree commands on ``liandong audit``'s subparsers."""
    tree = audit_sub.add_parser("tree", help="a tree head to publish: size and Merkle root")
    tree.add_argument("--config", help="TOML settings file")
    tree.add_argument("--chain", help="the writer's chain (default: the only one)")
    tree.add_argument("--size", type=_positive, help="records in the tree (default: all)")
    tree.set_defaults(func=_cmd_tree)

    prove = audit_sub.add_parser("prove", help="proof that one record is under a tree head")
    prove.add_argument("seq", type=_positive, help="the record's seq")
    prove.add_argument("--config", help="TOML settings file")
    prove.add_argument("--chain", help="the writer's chain (default: the only one)")
    prove.add_argument("--size", type=_positive, help="records in the tree (default: all)")
    prove.set_defaults(func=_cmd_prove)

    grew = audit_sub.add_parser(
        "consistency", help="proof that the log only grew since an earlier tree head"
    )
    grew.add_argument("old_size", type=_positive, help="records in the earlier tree")
    grew.add_argument("--config", help="TOML settings file")
    grew.add_argument("--chain", help="the writer's chain (default: the only one)")
    grew.add_argument("--size", type=_positive, help="records in the later tree (default: all)")
    grew.set_defaults(func=_cmd_consistency)

    check = audit_sub.add_parser("check-proof", help="check a proof, without the log")
    check.add_argument("file", help="the proof (JSON), or - for standard input")
    check.add_argument("--root", type=_hex64, help="the published root it must end in")
    check.add_argument("--old-root", type=_hex64, help="consistency: the earlier root")
    check.set_defaults(func=_cmd_check_proof)
