from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from connectors.http import HttpSettings
from gateway.settings import AGENCY_NAMES, Settings, SettingsError, load_settings


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in list(os.environ):
        if var.upper().startswith("LIANDONG_"):
            monkeypatch.delenv(var)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "liandong.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults() -> None:
    s = load_settings()
    assert s.profile == "dev"
    assert (s.host, s.port) == ("127.0.0.1", 8000)
    assert s.database_url == "sqlite+aiosqlite:///.liandong/liandong.db"
    assert s.auth.secret_file == Path(".liandong/jwt-secret")
    assert s.auth.algorithms == ["HS256"]
    assert s.cache.ttl_s["assets"] == 600
    assert s.cache.ttl_s["exit_bans"] == 300
    assert s.limits.max_ids == 500
    assert tuple(s.agencies) == AGENCY_NAMES
    ports = [s.agencies[name].base_url for name in AGENCY_NAMES]
    assert ports == [f"http://127.0.0.1:{p}" for p in (8101, 8102, 8103, 8104)]
    assert s.agencies["civil_affairs"].max_concurrency == 4
    assert s.agencies["land_registry"].max_concurrency == 8
    assert s.agencies["public_security"].options["client_id"] == "court-3203"
    assert all(s.agencies[name].connector == name for name in AGENCY_NAMES)


def test_database_url_follows_data_dir(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path)
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path}/liandong.db"
    assert s.auth.secret_file == tmp_path / "jwt-secret"
    explicit = load_settings(data_dir=tmp_path, database_url="postgresql+asyncpg://db/x")
    assert explicit.database_url == "postgresql+asyncpg://db/x"


def test_file_then_env_then_overrides(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = write(
        tmp_path,
        """
        port = 9000
        host = "0.0.0.0"
        [auth]
        issuer = "from-file"
        audience = "aud-file"
        [cache.ttl_s]
        assets = 5
        [agencies.land_registry]
        base_url = "http://land:1"
        [agencies.extra]
        connector = "land_registry"
        base_url = "http://extra:2"
        """,
    )
    monkeypatch.setenv("LIANDONG_AUTH__ISSUER", "from-env")
    monkeypatch.setenv("LIANDONG_PORT", "9100")
    monkeypatch.setenv("LIANDONG_AGENCIES__PUBLIC_SECURITY__OPTIONS__SECRET", "env-secret")
    s = load_settings(config, port=9200)
    assert s.port == 9200  # override beats env beats file
    assert s.host == "0.0.0.0"
    assert s.auth.issuer == "from-env"
    assert s.auth.audience == "aud-file"  # a nested env var changes one key only
    assert s.cache.ttl_s["assets"] == 5
    assert s.cache.ttl_s["identity"] == 3600  # other facets keep their defaults
    assert s.agencies["land_registry"].base_url == "http://land:1"
    assert s.agencies["market_regulation"].base_url == "http://127.0.0.1:8104"
    assert s.agencies["extra"].connector == "land_registry"
    ps = s.agencies["public_security"].options
    assert ps == {"client_id": "court-3203", "secret": "env-secret"}


def test_config_file_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANDONG_CONFIG", str(write(tmp_path, 'profile = "prod"\n')))
    assert load_settings().profile == "prod"


@pytest.mark.parametrize(
    ("toml", "key"),
    [
        ("prot = 1\n", "prot"),
        ("[auth]\nisuer = 'x'\n", "auth.isuer"),
        ("[agencies.land_registry]\nbase_ulr = 'x'\n", "agencies.land_registry.base_ulr"),
        ("[limits]\nmax_depth = 'deep'\n", "limits.max_depth"),
        ("[auth]\nalgorithms = ['none']\n", "auth.algorithms.0"),
        ("[auth]\nsecret = 'short'\n", "auth.secret"),
        ("[agencies.new_agency]\nenabled = true\n", "agencies.new_agency.base_url"),
    ],
)
def test_bad_file_keys_are_named(tmp_path: Path, toml: str, key: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings(write(tmp_path, toml))
    assert key in info.value.keys
    assert key in str(info.value)


def test_bad_env_keys_are_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LIANDONG_PORTT", "1")
    with pytest.raises(SettingsError, match="LIANDONG_PORTT"):
        load_settings()
    monkeypatch.delenv("LIANDONG_PORTT")
    monkeypatch.setenv("LIANDONG_AUTH__ISUER", "x")
    with pytest.raises(SettingsError, match=r"auth\.isuer"):
        load_settings()
    monkeypatch.delenv("LIANDONG_AUTH__ISUER")
    monkeypatch.setenv("LIANDONG_PORT", "eighty")
    with pytest.raises(SettingsError) as info:
        load_settings()
    assert info.value.keys == ["port"]
    assert "eighty" not in str(info.value)  # values may be secrets: never echoed


def test_missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="not found"):
        load_settings(tmp_path / "nope.toml")
    with pytest.raises(SettingsError, match="TOML"):
        load_settings(write(tmp_path, "port = = 1"))


def test_secrets_are_masked_in_repr() -> None:
    secret = "hunter2-" * 4
    s = load_settings(auth={"secret": secret}, database_url="postgresql://u:pw@h/db")
    text = repr(s) + str(s)
    assert secret not in text
    assert "liandong-demo-ps-secret" not in text
    assert "pw@" not in text
    assert s.auth.secret is not None
    assert s.auth.secret.get_secret_value() == secret


def test_agency_http_settings() -> None:
    agency = load_settings(agencies={"civil_affairs": {"read_timeout": 1.5}}).agencies
    http = agency["civil_affairs"].http()
    assert http == HttpSettings(
        base_url="http://127.0.0.1:8102",
        connect_timeout=2.0,
        read_timeout=1.5,
        total_timeout=8.0,
        max_concurrency=4,
        max_body_bytes=8 * 1024 * 1024,
    )


def test_jwt_secret_configured(tmp_path: Path) -> None:
    s = load_settings(data_dir=tmp_path, auth={"secret": "k" * 32})
    assert s.jwt_secret() == b"k" * 32
    assert not (tmp_path / "jwt-secret").exists()


def test_jwt_secret_generated_once(tmp_path: Path) -> None:
    data_dir = tmp_path / "state"
    s = load_settings(data_dir=data_dir)
    first = s.jwt_secret()
    path = data_dir / "jwt-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) == 64  # 32 random bytes, hex encoded
    assert s.jwt_secret() == first
    assert Settings(data_dir=data_dir).jwt_secret() == first  # another process, same secret
    assert [p.name for p in data_dir.iterdir()] == ["jwt-secret"]  # no temp files left


def test_jwt_secret_read_from_file(tmp_path: Path) -> None:
    path = tmp_path / "my-secret"
    path.write_bytes(b"from-file\n")
    s = load_settings(auth={"secret_file": path})
    assert s.jwt_secret() == b"from-file"
    path.write_bytes(b"\n")
    with pytest.raises(SettingsError, match="empty"):
        s.jwt_secret()
