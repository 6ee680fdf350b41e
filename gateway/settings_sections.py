"""The settings tables of the domain: ``[assistance]``, ``[watch]`` and ``[agencies.<name>]``.

Parts of ``gateway.settings.Settings``, which loads and checks them; kept apart so that each
module stays one screen of concepts.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from connectors.http import HttpSettings

__all__ = [
    "DEFAULT_AGENCIES",
    "AgencySettings",
    "AssistanceSettings",
    "SectionModel",
    "TreeHeadSettings",
    "WatchSettings",
    "default_agencies",
]

DEFAULT_AGENCIES: dict[str, dict[str, Any]] = {
    "public_security": {
        "base_url": "http://127.0.0.1:8101",
        "options": {"client_id": "court-3203", "secret": "liandong-demo-ps-secret"},
    },
    "civil_affairs": {"base_url": "http://127.0.0.1:8102", "max_concurrency": 4},
    "land_registry": {"base_url": "http://127.0.0.1:8103"},
    "market_regulation": {"base_url": "http://127.0.0.1:8104"},
}


class SectionModel(BaseModel):
    """A settings table: unknown keys are refused, naming the key."""

    model_config = ConfigDict(extra="forbid")


def _default_deadlines() -> dict[str, float]:
    # How long an agency has to carry out an order before it is overdue (联而不动).
    return {"public_security": 86400.0, "land_registry": 3 * 86400.0, "market_regulation": 86400.0}


class AssistanceSettings(SectionModel):
    """Assistance requests: the lifecycle worker that submits, polls and tracks deadlines."""

    worker_enabled: bool = True
    poll_interval_s: float = Field(default=1.0, gt=0)  # how often the store is scanned
    ticket_poll_s: float = Field(default=2.0, gt=0)  # between polls of an agency's ticket
    lease_s: float = Field(default=30.0, gt=0)  # a claimed request is another's after this
    max_attempts: int = Field(default=10, ge=1)  # sends whose outcome stayed unknown
    retry_base_s: float = Field(default=1.0, ge=0)
    retry_max_s: float = Field(default=300.0, ge=0)
    batch: int = Field(default=20, gt=0)  # requests taken per scan
    deadline_s: dict[str, float] = Field(default_factory=_default_deadlines)
    lapse_notice_days: int = Field(default=30, ge=1)  # warn of a control lapsing this soon
    queue_check_s: float = Field(default=3600.0, gt=0)  # between looks at a queued seizure


class WatchSettings(SectionModel):
    """Asset watches: the scheduler that re-queries watched debtors' assets when due.

    Each pass sends at most ``budget_per_agency`` upstream requests (batches) to each
    agency; watches not reached stay due for the next pass, ``pass_interval_s`` later.
    """

    scheduler_enabled: bool = True  # run passes inside the gateway (else: cron + run-due)
    pass_interval_s: float = Field(default=60.0, gt=0)
    budget_per_agency: int = Field(default=20, ge=1)
    jitter: float = Field(default=0.1, ge=0, lt=1)  # next_due = interval * (1 +- jitter)
    lease_s: float = Field(default=600.0, gt=0)  # a claimed watch is free again after this
    # A court system's receiver of AssetDiscovered events; each POST carries
    # X-Liandong-Signature: sha256=<HMAC-SHA256 of the body under webhook_secret>.
    webhook_url: str | None = Field(default=None, repr=False)
    webhook_secret: SecretStr | None = Field(default=None, min_length=16)
    webhook_attempts: int = Field(default=3, ge=1, le=10)
    webhook_backoff_s: float = Field(default=0.5, ge=0)

    @model_validator(mode="after")
    def _webhook_needs_secret(self) -> WatchSettings:
        if self.webhook_url and self.webhook_secret is None:
            raise ValueError("webhook_url needs webhook_secret")
        return self


class AgencySettings(SectionModel):
    """One agency: which connector serves it, where it lives, and its transport limits."""

    connector: str | None = None  # entry-point name; Settings fills in the agency's key
    enabled: bool = True
    base_url: str
    connect_timeout: float = Field(default=2.0, gt=0)
    read_timeout: float = Field(default=5.0, gt=0)
    total_timeout: float = Field(default=8.0, gt=0)
    max_concurrency: int = Field(default=8, gt=0)
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0)
    # Resilience (connectors/retry.py, connectors/breaker.py): reads, and writes carrying an
    # idempotency key, are retried up to max_retries times after jittered exponential
    # back-off (or the agency's Retry-After, up to retry_after_max_s without a deadline);
    # breaker_threshold consecutive failures open the circuit for breaker_cooldown_s.
    max_retries: int = Field(default=2, ge=0, le=10)
    backoff_base_s: float = Field(default=0.1, ge=0)
    backoff_max_s: float = Field(default=2.0, ge=0)
    retry_after_max_s: float = Field(default=10.0, ge=0)
    breaker_threshold: int = Field(default=5, ge=1)
    breaker_cooldown_s: float = Field(default=30.0, ge=0)
    # Options hold connector credentials: kept out of repr, hence out of logs.
    options: dict[str, Any] = Field(default_factory=dict, repr=False)

    def http(self) -> HttpSettings:
        """The transport settings ``connectors.http`` takes."""
        return HttpSettings(
            base_url=self.base_url,
            connect_timeout=self.connect_timeout,
            read_timeout=self.read_timeout,
            total_timeout=self.total_timeout,
            max_concurrency=self.max_concurrency,
            max_body_bytes=self.max_body_bytes,
            max_retries=self.max_retries,
            backoff_base_s=self.backoff_base_s,
            backoff_max_s=self.backoff_max_s,
            retry_after_max_s=self.retry_after_max_s,
            breaker_threshold=self.breaker_threshold,
            breaker_cooldown_s=self.breaker_cooldown_s,
        )


class TreeHeadSettings(SectionModel):
    """Signed tree heads (docs/architecture.md, "Signed tree heads"): how often each chain's
    head is signed, with which key, and which witness keeps them.

    ``witness`` is a folder (one file per head) or an ``http(s)://`` URL taking a POST per
    head; empty: ``data_dir/tree-heads``. Paths left unset are filled in under ``data_dir``.
    """

    enabled: bool = True
    key_file: Path | None = None  # Ed25519 key, mode 0600: data_dir/tree-head-key
    trusted_keys_dir: Path | None = None  # *.pub of earlier keys: data_dir/tree-head-keys
    witness: str = ""
    outbox_dir: Path | None = None  # heads not yet delivered: data_dir/tree-heads-outbox
    every_records: int = Field(default=1000, ge=1)  # sign once this many records were added
    every_s: float = Field(default=60.0, gt=0)  # ... or this long after the last head
    poll_s: float = Field(default=1.0, gt=0)  # how often the chains' sizes are read
    retry_max_s: float = Field(default=30.0, gt=0)  # longest wait between delivery attempts
    timeout_s: float = Field(default=5.0, gt=0)  # one delivery to an HTTP witness

    @model_validator(mode="after")
    def _witness_is_folder_or_http(self) -> TreeHeadSettings:
        if "://" in self.witness and not self.witness.startswith(("http://", "https://")):
            raise ValueError("witness is a folder or an http(s):// URL")
        return self


def default_agencies() -> dict[str, AgencySettings]:
    """The demo's four agencies on their usual ports (each a fresh copy)."""
    return {name: AgencySettings.model_validate(v) for name, v in DEFAULT_AGENCIES.items()}
