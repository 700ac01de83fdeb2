"""The daily-limit settings (issue 15): empty or 0 is no limit, rupees as people write them, and
a bad value is refused with a line naming the variable and the expected form."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.accounts import load_accounts
from bot.app.rooms import daily_limits
from bot.errors import ConfigError
from bot.orders.limits import DailyLimits
from bot.settings import load_settings

TOKEN = "123456:ABC-def_GHI"


def test_empty_or_zero_is_no_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_MAX_LOSS", "")  # a fresh copy of .env.example leaves it empty
    monkeypatch.setenv("DAILY_MAX_ORDERS", "0")
    settings = load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1")
    assert daily_limits(settings) == DailyLimits()


def test_rupees_may_be_written_as_people_write_them(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DAILY_MAX_LOSS", "₹5,000")
    monkeypatch.setenv("DAILY_MAX_ORDERS", "50")
    monkeypatch.setenv("MAX_ORDER_VALUE", "2,00,000")
    settings = load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1")
    limits = daily_limits(settings)
    assert (limits.max_loss, limits.max_orders, limits.max_order_value) == (5000, 50, 200_000)


@pytest.mark.parametrize(
    ("name", "value", "line"),
    [
        (
            "DAILY_MAX_LOSS",
            "lots",
            "DAILY_MAX_LOSS: expected a whole number of rupees of at least 0, e.g. 5000 or ₹5,000.",
        ),
        (
            "DAILY_MAX_ORDERS",
            "-1",
            "DAILY_MAX_ORDERS: expected a whole number of at least 0, e.g. 50.",
        ),
        (
            "MAX_ORDER_VALUE",
            "1e5",
            "MAX_ORDER_VALUE: expected a whole number of rupees of at least 0, e.g. 200000 or "
            "₹200,000.",
        ),
    ],
)
def test_a_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, line: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as caught:
        load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1")
    assert str(caught.value) == line


def test_an_account_of_the_file_may_set_its_own_limits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAILY_MAX_LOSS", "5000")
    path = tmp_path / "accounts.toml"
    path.write_text(
        '[accounts.me]\nbroker = "paper"\n'
        '[accounts.mom]\nbroker = "paper"\ndaily_max_loss = 1000\ndaily_max_orders = 0\n'
    )
    path.chmod(0o600)
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        data_dir=tmp_path,
        accounts_file=path,
    )
    me, mom = load_accounts(settings, {})
    assert daily_limits(settings, me).max_loss == 5000  # the setting's
    assert daily_limits(settings, mom).max_loss == 1000  # its own
    assert daily_limits(settings, mom).max_orders is None
    path.write_text('[accounts.mom]\nbroker = "paper"\nmax_order_value = "lots"\n')
    with pytest.raises(ConfigError, match='account "mom", max_order_value: expected a whole'):
        load_accounts(settings, {})
