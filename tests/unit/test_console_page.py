"""Where ``/console`` is served, and what its page carries: demo users only in the demo."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.console.console_page import STATIC_DIR, console_html
from gateway.settings import Settings, SettingsError, load_settings
from gateway.web.console_route import DEMO_USERS, demo_users

SECRET = "console-test-secret-0123456789abcdef"
TEMPLATE = (STATIC_DIR / "index.html").read_text(encoding="utf-8")


def _settings(tmp_path: Path, **overrides: Any) -> Settings:
    return load_settings(data_dir=tmp_path, auth={"secret": SECRET}, **overrides)


def _config(page: str) -> dict[str, object]:
    found = re.search(r'<script type="application/json" id="console-config">(.*?)</script>', page)
    assert found is not None
    loaded: dict[str, object] = json.loads(found.group(1))
    return loaded


def test_demo_users_only_with_a_demo_court_and_never_in_prod(tmp_path: Path) -> None:
    plain = _settings(tmp_path)
    assert _config(console_html(TEMPLATE, demo_users(plain, SECRET.encode())))["demoUsers"] == []
    with pytest.raises(SettingsError, match=r"console\.demo_court"):
        _settings(tmp_path, profile="prod", console={"demo_court": "某法院"})


def test_each_demo_user_gets_a_token_of_its_role_for_the_demo_court(tmp_path: Path) -> None:
    settings = _settings(tmp_path, console={"demo_court": "江苏省徐州市泉山区人民法院"})
    users = _config(console_html(TEMPLATE, demo_users(settings, SECRET.encode())))["demoUsers"]
    assert isinstance(users, list)
    assert [u["role"] for u in users] == list(DEMO_USERS)
    for user in users:
        claims = jwt.decode(
            user["token"], SECRET, algorithms=["HS256"], audience=settings.auth.audience
        )
        subject, roles, _ = DEMO_USERS[user["role"]]
        assert (claims["sub"], claims["roles"]) == (subject, list(roles))
        assert claims["court"] == "江苏省徐州市泉山区人民法院"


@given(court=st.text(min_size=1, max_size=40))
def test_no_court_name_can_close_the_config_script(court: str) -> None:
    settings = load_settings(
        data_dir=Path("unused"), auth={"secret": SECRET}, console={"demo_court": court}
    )
    page = console_html(TEMPLATE, demo_users(settings, SECRET.encode()))
    config = _config(page)
    users = config["demoUsers"]
    assert isinstance(users, list) and len(users) == len(DEMO_USERS)
    assert page.count("</script>") == TEMPLATE.count("</script>")


@given(st.integers(min_value=1, max_value=100))
def test_the_page_carries_the_page_size_of_its_lists(size: int) -> None:
    assert _config(console_html(TEMPLATE, [], size))["pageSize"] == size


@pytest.mark.parametrize("size", [0, 101])
def test_a_page_size_outside_the_apis_range_is_refused(tmp_path: Path, size: int) -> None:
    with pytest.raises(SettingsError, match=r"console\.page_size"):
        _settings(tmp_path, console={"page_size": size})
