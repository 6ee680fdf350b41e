"""Reading a gateway's response-cache counters from its ``/metrics``, for the tests."""

from __future__ import annotations

from tests.harness import Gateway

__all__ = ["cache_figures"]

_SERIES = ("hits", "misses", "stored", "evictions", "dropped", "entries")


async def cache_figures(gw: Gateway) -> dict[str, float]:
    """``hits``, ``misses``, ``stored``, ``evictions``, ``dropped``, ``entries`` as scraped."""
    async with gw.session.get(gw.base_url + "/metrics") as resp:
        assert resp.status == 200
        text = await resp.text()
    figures: dict[str, float] = {}
    for line in text.splitlines():
        for name in _SERIES:
            for suffix in ("_total", ""):
                if line.startswith(f"liandong_response_cache_{name}{suffix} "):
                    figures[name] = float(line.rsplit(" ", 1)[1])
    return figures
