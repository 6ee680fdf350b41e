"""The audit settings: defaults under the data dir, the key file, the benchmark-only switch."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from gateway.settings import load_settings


def test_defaults_live_beside_the_store(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.audit.enabled
    assert s.audit.database_url == f"sqlite+aiosqlite:///{tmp_path / 'audit.db'}"
    assert s.audit.key_file == tmp_path / "audit-key"
    assert "database_url" not in repr(s.audit)


def test_the_key_is_made_once_and_kept_private(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    key = s.audit_key()
    assert len(key) == 64 and int(key, 16) >= 0
    assert s.audit_key() == key
    assert stat.S_IMODE((tmp_path / "audit-key").stat().st_mode) == 0o600
    assert s.jwt_secret() != key, "the audit key is not the token secret"


def test_a_configured_key_wins(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, audit={"key": "a" * 32})
    assert s.audit_key() == b"a" * 32
    assert not (tmp_path / "audit-key").exists()
    assert "a" * 32 not in repr(s)


def test_switching_off_through_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIANDONG_AUDIT__ENABLED", "false")
    assert not load_settings(data_dir=tmp_path).audit.enabled


def test_unknown_audit_keys_are_named(tmp_path: Path) -> None:
    with pytest.raises(Exception, match=r"audit\.max_bacth"):
        load_settings(data_dir=tmp_path, audit={"max_bacth": 3})
