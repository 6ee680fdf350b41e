"""``python -m bench.mockserver``: the four mock agencies in one process, for the bench.

Like ``liandong mocks serve`` on ephemeral ports, but with the civil affairs token bucket
set from the command line: the batch scenario measures against the documented limit, the
throughput scenarios give it room so that they measure the gateway, not the bucket.
Prints one ``name url`` line per agency, then ``ready``; serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import signal

from mocks.civil_affairs import CivilAffairsSettings
from mocks.runner import start_mocks
from mocks.world import World

__all__ = ["main"]


async def _serve(people: int, seed: int, rate: float, burst: int) -> None:
    world = World(seed=seed, people=people)
    running = await start_mocks(
        world, civil_affairs_settings=CivilAffairsSettings(rate=rate, burst=burst)
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        for name, url in running.urls.items():
            print(name, url, flush=True)
        print("ready", flush=True)
        await stop.wait()
    finally:
        await running.aclose()


def main() -> None:
    """Parse the command line and serve until told to stop."""
    parser = argparse.ArgumentParser(prog="python -m bench.mockserver", description=__doc__)
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--ca-rate", type=float, default=200.0, help="civil affairs tokens/s")
    parser.add_argument("--ca-burst", type=int, default=50, help="civil affairs bucket size")
    args = parser.parse_args()
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.people, args.seed, args.ca_rate, args.ca_burst))


if __name__ == "__main__":
    main()
