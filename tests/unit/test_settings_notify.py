"""The issue-12 settings: DAILY_SUMMARY_AT (HH:MM IST or off) and ACCOUNT_LABEL."""

from __future__ import annotations

from datetime import time

import pytest

from bot.errors import ConfigError
from bot.settings import load_settings

TOKEN = "123456:ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghi"


def settings(**values: str):  # type: ignore[no-untyped-def]
    return load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="42", **values
    )


def test_the_summary_time_defaults_to_after_the_close_and_can_be_off() -> None:
    assert settings().daily_summary_time == time(15, 45)
    assert settings(daily_summary_at=" 16:05 ").daily_summary_time == time(16, 5)
    assert settings(daily_summary_at="OFF").daily_summary_time is None


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"daily_summary_at": "quarter to four"},
            "DAILY_SUMMARY_AT: expected a time of day in IST as HH:MM, e.g. 15:45, or off.",
        ),
        (
            {"account_label": "x" * 41},
            "ACCOUNT_LABEL: expected a short name of at most 40 characters, e.g. Family HUF.",
        ),
    ],
)
def test_bad_values_name_the_setting(values: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        settings(**values)
    assert str(caught.value) == expected
