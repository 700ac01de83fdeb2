"""Settings: defaults, the allowlist grammar, and config errors that name the variable."""

from __future__ import annotations

import subprocess
import sys

import pytest

from bot.errors import ConfigError
from bot.settings import Role, load_settings, parse_allowed_users

TOKEN = "123456:ABC-def_GHI"


def test_minimal_settings_default_to_paper() -> None:
    s = load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="42")
    assert s.broker == "paper"
    assert s.allowed_users == {42: Role.ADMIN}
    assert s.confirm_ttl_seconds == 60
    assert s.telegram_base_url == "https://api.telegram.org/bot"


def test_allowed_users_roles() -> None:
    assert parse_allowed_users(" 1, 2:viewer ,3:TRADER,4:admin") == {
        1: Role.ADMIN,
        2: Role.VIEWER,
        3: Role.TRADER,
        4: Role.ADMIN,
    }
    assert Role.ADMIN.allows(Role.TRADER) and not Role.VIEWER.allows(Role.TRADER)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"telegram_allowed_users": "abc"}, "TELEGRAM_ALLOWED_USERS: expected comma-separated"),
        ({"telegram_allowed_users": "1:boss"}, "'boss' is not a role"),
        ({"telegram_allowed_users": ""}, "TELEGRAM_ALLOWED_USERS: expected"),
        ({"broker": "zerodha"}, "BROKER: expected one of paper, kotak, mstock."),
        ({"confirm_ttl_seconds": "1"}, "CONFIRM_TTL_SECONDS:"),
        ({"static_ip_primary": "300.1.1.1"}, "STATIC_IP_PRIMARY: expected an IPv4 or IPv6"),
        ({"log_level": "LOUD"}, "LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR."),
    ],
)
def test_bad_values_name_the_variable(overrides: dict[str, str], expected: str) -> None:
    values = {"telegram_bot_token": TOKEN, "telegram_allowed_users": "1", **overrides}
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **values)
    assert expected in str(err.value)


def test_a_bad_token_is_reported_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None, telegram_bot_token="not a token s3cr3t", telegram_allowed_users="1"
        )
    assert "TELEGRAM_BOT_TOKEN" in str(err.value)
    assert "s3cr3t" not in str(err.value)


def test_missing_settings_stop_start_up_with_one_line_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_ALLOWED_USERS": "1:root"}
    result = subprocess.run(
        [sys.executable, "-m", "bot"], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "TELEGRAM_BOT_TOKEN is not set; it is required." in result.stderr
    assert "TELEGRAM_ALLOWED_USERS: expected comma-separated" in result.stderr


def test_env_example_documents_every_setting() -> None:
    import re
    from pathlib import Path

    from bot.settings import Settings

    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = set(re.findall(r"^([A-Z_]+)=", example, re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} == documented
