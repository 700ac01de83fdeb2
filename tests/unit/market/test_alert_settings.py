"""ALERT_CHECK_SECONDS: five seconds by default, and a bad value is named with what it takes."""

from __future__ import annotations

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings

BASE = {"_env_file": None, "telegram_bot_token": "123456:ABC-def", "telegram_allowed_users": "1"}


def test_alerts_are_checked_every_five_seconds_by_default() -> None:
    assert load_settings(**BASE).alert_check_seconds == 5.0
    assert load_settings(**BASE, alert_check_seconds="2.5").alert_check_seconds == 2.5


@pytest.mark.parametrize("value", ["0.5", "3601", "often"])
def test_a_bad_interval_names_the_variable(value: str) -> None:
    with pytest.raises(ConfigError, match=r"^ALERT_CHECK_SECONDS: "):
        load_settings(**BASE, alert_check_seconds=value)
