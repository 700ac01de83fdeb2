"""BROKER=mstock builds the mStock adapter from the four factors OpenAlgo's set-up page names,
and a missing one stops start-up with one line naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app.build import build_broker
from bot.errors import ConfigError
from bot.settings import load_settings
from brokers.mstock import MStockBroker

TOKEN = "123456:ABC-def"
SEED = "JBSWY3DPEHPK3PXP"


def test_each_missing_factor_is_named_on_its_own_line(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        data_dir=str(tmp_path),
        broker="mstock",
        broker_api_key="MA123456",
    )
    with pytest.raises(ConfigError) as caught:
        build_broker(settings)
    assert str(caught.value).splitlines() == [
        "BROKER_API_SECRET is not set; BROKER=mstock needs the Type B API key from Trading APIs.",
        "BROKER_PASSWORD is not set; BROKER=mstock needs the trading password.",
        "BROKER_TOTP_SECRET is not set; BROKER=mstock needs the base32 TOTP secret from "
        "Generate TOTP.",
    ]


async def test_the_four_factors_build_the_adapter_on_mstock_base_url(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        data_dir=str(tmp_path),
        broker="mstock",
        broker_api_key="MA123456",
        broker_api_secret="mskey-abcdef",
        broker_password="pw",
        broker_totp_secret=SEED,
        mstock_base_url="http://127.0.0.1:9",
    )
    broker = build_broker(settings)
    assert isinstance(broker, MStockBroker)
    assert broker.api_key_prefix == "mske"
    assert "mskey-abcdef" not in repr(broker) and "pw" not in repr(broker)
    await broker.close()


def test_broker_client_code_is_a_deprecated_alias(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        data_dir=str(tmp_path),
        broker="mstock",
        broker_client_code="MA777",
    )
    assert settings.broker_api_key is not None
    assert settings.broker_api_key.get_secret_value() == "MA777"
    assert any("BROKER_CLIENT_CODE is deprecated" in w for w in settings.warnings())


def test_freeze_table_default_and_override(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1", data_dir=str(tmp_path)
    )
    assert settings.freeze_table["NIFTY"] == 1800
    custom = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        data_dir=str(tmp_path),
        mstock_freeze_qty="nifty:1755",
    )
    assert custom.freeze_table == {"NIFTY": 1755}
