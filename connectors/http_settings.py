"""``HttpSettings``: the transport and resilience settings of one agency's HTTP access."""

from __future__ import annotations

from dataclasses import dataclass

from connectors.breaker import BreakerSettings
from connectors.retry import RetryPolicy

__all__ = ["HttpSettings"]


@dataclass(frozen=True, slots=True)
class HttpSettings:
    """Transport and resilience settings for one agency."""

    base_url: str
    connect_timeout: float = 2.0
    read_timeout: float = 5.0
    total_timeout: float = 8.0
    max_concurrency: int = 8
    max_body_bytes: int = 8 * 1024 * 1024
    max_retries: int = 2
    backoff_base_s: float = 0.1
    backoff_max_s: float = 2.0
    retry_after_max_s: float = 10.0
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 30.0

    def retry_policy(self) -> RetryPolicy:
        """The retry part of these settings."""
        return RetryPolicy(
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
            retry_after_max_s=self.retry_after_max_s,
        )

    def breaker_settings(self) -> BreakerSettings:
        """The circuit-breaker part of these settings."""
        return BreakerSettings(threshold=self.breaker_threshold, cooldown_s=self.breaker_cooldown_s)
