"""``liandong mocks witness``: the witness mock for signed tree heads, on 127.0.0.1.

It trusts the public keys given with ``--trust`` (a ``.pub`` file, or a folder whose
``*.pub`` files it reads, again whenever a head names a key it does not know yet): point
it at the gateway's ``tree-head-key.pub`` or its data dir, and set ``heads.witness`` to the
URL it prints.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from pathlib import Path
from typing import Any

__all__ = ["add_witness_command", "demo_witness"]


async def _serve(port: int, trust: list[Path]) -> None:
    from mocks.witness import create_app, start_witness

    files = [p.read_bytes() for p in trust if p.is_file()]
    folders = [p for p in trust if p.is_dir()]
    app = create_app(files, trusted_dir=folders[0] if folders else None)
    running = await start_witness(app, port=port)
    print(f"witness {running.url}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await running.aclose()


def _cmd_witness(args: argparse.Namespace) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.port, [Path(p) for p in args.trust]))
    return 0


async def demo_witness(settings: Any) -> tuple[Any, Any]:
    """For ``liandong demo``: a witness trusting the demo's key, and the settings sending
    heads to it (unless the settings name a witness URL of their own)."""
    from gateway.audit.head_keys import load_or_create_key, public_key_file
    from mocks.witness import create_app, start_witness

    heads = settings.heads
    if not heads.enabled or heads.witness.startswith(("http://", "https://")):
        return None, settings
    await asyncio.to_thread(load_or_create_key, heads.key_file)
    pem = await asyncio.to_thread(public_key_file(heads.key_file).read_bytes)
    running = await start_witness(create_app([pem], trusted_dir=heads.trusted_keys_dir))
    changed = heads.model_copy(update={"witness": running.url})
    return running, settings.model_copy(update={"heads": changed})


def add_witness_command(mocks_sub: Any) -> None:
    """Register ``mocks witness`` on the ``mocks`` subparsers."""
    witness = mocks_sub.add_parser(
        "witness",
        help="serve the signed tree head witness on 127.0.0.1",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    witness.add_argument("--port", type=int, default=8105, help="0: an ephemeral port")
    witness.add_argument(
        "--trust",
        action="append",
        default=[],
        help="a public key file (.pub) or a folder of them; may be repeated",
    )
    witness.set_defaults(func=_cmd_witness)
