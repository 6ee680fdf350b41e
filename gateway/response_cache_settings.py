"""The response cache's settings: the ``[response_cache]`` table.

The cache serves an answer already built for the same request and scope from bytes, after
authentication and the case check (``gateway/response_cache/``). It only ever holds answers
built from cached facts, so it is off whenever the fact cache is (``[cache] enabled``).
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ResponseCacheSettings"]


class ResponseCacheSettings(BaseModel):
    """``enabled``, the memory bound in bytes, and the longest an answer is kept."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Answer bodies held, in bytes (a 50-debtor profile is about 150 KB).
    max_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # No answer outlives this, whatever its facts' TTLs (the court's own facts have none).
    max_ttl_s: float = Field(default=600.0, ge=0)
    # Serve hits at the door of the app, before routing (gateway/web/hit_path.py); off, they
    # take the normal path (the same checks and record, with the framework around them).
    fast_path: bool = True
