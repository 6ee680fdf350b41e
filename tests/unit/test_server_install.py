"""The test-server installer: installs once, under a lock, and fails with apt's output."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path

import pytest

from tests.servers import install


@pytest.fixture
def fake_apt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[list[str]]:
    """apt-get replaced by a recorder; root, apt-get present, a private lock and policy file."""
    calls: list[list[str]] = []
    monkeypatch.setattr(install, "LOCK_FILE", tmp_path / "install.lock")
    monkeypatch.setattr(install, "POLICY_RC", tmp_path / "policy-rc.d")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")

    def apt(args: Sequence[str]) -> str:
        assert (tmp_path / "policy-rc.d").exists(), "services must not start during installs"
        calls.append(list(args))
        (tmp_path / "installed").touch()
        return "ok\n"

    monkeypatch.setattr(install, "_apt", apt)
    return calls


def test_nothing_is_installed_when_found(fake_apt: list[list[str]], tmp_path: Path) -> None:
    assert install.ensure_installed("x", lambda: tmp_path, ["x"]) == tmp_path
    assert fake_apt == []


def test_missing_package_is_installed_once_across_threads(
    fake_apt: list[list[str]], tmp_path: Path
) -> None:
    marker = tmp_path / "installed"
    results: list[Path] = []

    def find() -> Path | None:
        return marker if marker.exists() else None

    threads = [
        threading.Thread(
            target=lambda: results.append(install.ensure_installed("x", find, ["pkg"]))
        )
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [marker] * 4
    assert [c[0] for c in fake_apt] == ["update", "install"]
    assert fake_apt[1][-1] == "pkg"
    assert not (tmp_path / "policy-rc.d").exists()  # put back as it was


def test_failures_carry_apt_output(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(install, "LOCK_FILE", tmp_path / "install.lock")
    monkeypatch.setattr(install, "POLICY_RC", tmp_path / "policy-rc.d")
    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr("shutil.which", lambda name: f"/usr/bin/{name}")

    def apt(args: Sequence[str]) -> str:
        raise install.InstallError("apt-get install failed (100):\nE: Unable to locate package pkg")

    monkeypatch.setattr(install, "_apt", apt)
    with pytest.raises(install.InstallError, match="Unable to locate package pkg"):
        install.ensure_installed("x", lambda: None, ["pkg"])


def test_installed_but_still_missing_is_an_error(fake_apt: list[list[str]]) -> None:
    with pytest.raises(install.InstallError, match="found no x"):
        install.ensure_installed("x", lambda: None, ["pkg"])


def test_without_root_it_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(install, "LOCK_FILE", tmp_path / "install.lock")
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    with pytest.raises(install.InstallError, match="install redis-server"):
        install.ensure_installed("Redis", lambda: None, ["redis-server"])
