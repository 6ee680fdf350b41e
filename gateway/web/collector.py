"""The garbage collector of a serving process: start-up objects frozen, a roomier young generation.

Measured through the ASGI app in one process (``python -m bench.inprocess --cold``, audit on,
32 requests in flight), CPython's default thresholds (700, 10, 10) spent ~0.1 ms of a cold
look-up's ~1.2 ms in the collector: every request in flight holds a few thousand container
objects (its field results, loader futures, agency replies), so a young generation of 700
promoted most of them, and the older generations were walked again and again while they
were still alive. With 20,000 most have died before the young generation is collected; the
collector's share of a cold look-up fell to under a third, of a 50-debtor batch to under half.
Cyclic garbage waits at most that many allocations longer: a few megabytes, not a leak.
"""

from __future__ import annotations

import gc

__all__ = ["SERVING_THRESHOLDS", "settle_collector"]

# (young, middle, old): the young generation is collected after this many net allocations
# of container objects; the middle after that many young collections; the old after that
# many middle ones (and, in CPython, only once a quarter of its objects are new).
SERVING_THRESHOLDS = (20_000, 20, 50)


def settle_collector() -> None:
    """Once start-up is done: collect, freeze what is left, and set the serving thresholds.

    Frozen objects (the schema, the modules, the settings, the store's engine) are never
    walked again; objects made later are collected as before, only less often.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(*SERVING_THRESHOLDS)
