"""All settings, from the environment or `.env` (pydantic-settings).

Names follow `../shared/design.md`. Validation errors are turned into `ConfigError` lines that name
the variable and what is expected, and never echo a secret's value.
"""

from __future__ import annotations

import ipaddress
import re
from datetime import time
from enum import StrEnum
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.accounts.totp import check_seed
from bot.errors import ConfigError
from bot.orders.protection import DEFAULT_GRID, ProtectionGrid, parse_grid


class Role(StrEnum):
    """What a Telegram user may do. Ordered: each role includes the ones before it."""

    VIEWER = "viewer"
    TRADER = "trader"
    ADMIN = "admin"

    def allows(self, needed: Role) -> bool:
        order = [Role.VIEWER, Role.TRADER, Role.ADMIN]
        return order.index(self) >= order.index(needed)


_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]+$")
_USERS_HELP = (
    "expected comma-separated Telegram user ids, each optionally id:role "
    "with role viewer, trader or admin (e.g. 12345,67890:viewer)"
)


def parse_allowed_users(raw: str) -> dict[int, Role]:
    """`"111,222:viewer"` → {111: ADMIN, 222: VIEWER}. A bare id is an admin (the owner)."""
    users: dict[int, Role] = {}
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        uid_text, _, role_text = item.partition(":")
        if not uid_text.strip().isdigit():
            raise ValueError(f"{_USERS_HELP}; {uid_text.strip()!r} is not a user id")
        try:
            role = Role(role_text.strip().lower()) if role_text else Role.ADMIN
        except ValueError:
            raise ValueError(f"{_USERS_HELP}; {role_text.strip()!r} is not a role") from None
        users[int(uid_text)] = role
    if not users:
        raise ValueError(_USERS_HELP)
    return users


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    telegram_bot_token: SecretStr
    telegram_base_url: str = "https://api.telegram.org/bot"
    telegram_allowed_users: str

    broker: str = "paper"
    broker_api_key: SecretStr | None = None
    broker_api_secret: SecretStr | None = None
    broker_totp_secret: SecretStr | None = None
    broker_mpin: SecretStr | None = None
    broker_mobile: SecretStr | None = None
    broker_password: SecretStr | None = None
    broker_client_code: str | None = None

    static_ip_primary: str | None = None
    static_ip_secondary: str | None = None
    ip_check_urls: str = (
        "https://api.ipify.org,https://checkip.amazonaws.com,https://ifconfig.me/ip"
    )
    session_check_seconds: float = Field(default=60.0, ge=1, le=3600)
    session_relogin_time: str = "08:30"
    kotak_login_url: str = "https://mis.kotaksecurities.com"
    mstock_base_url: str = "https://api.mstock.trade"

    protection_grid: str | None = None
    order_rate_limit: int = Field(default=10, ge=1)
    registered_algo: bool = False
    # Order-rate safety margin: the 10-per-second window is counted as 1 s + this (issue 10).
    order_rate_margin_ms: int = Field(default=100, ge=0, le=1000)
    ltp_max_age_seconds: int = Field(default=300, ge=1)

    database_path: Path = Path("data/tradebot.db")
    confirm_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    order_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    log_level: str = "INFO"

    paper_state_path: Path = Path("data/paper.json")
    paper_capital: int = Field(default=1_000_000, gt=0)
    paper_tick_seconds: float = Field(default=1.0, ge=0, le=60)  # 0 freezes prices
    paper_seed: int | None = None

    # An order whose place had no usable answer is reported "not found yet" only after this
    # many order-book looks spanning at least this many seconds (then watched until day end).
    unknown_order_looks: int = Field(default=3, ge=2, le=100)
    unknown_order_window_seconds: int = Field(default=180, ge=60, le=3600)

    @field_validator("telegram_bot_token")
    @classmethod
    def _token_shape(cls, value: SecretStr) -> SecretStr:
        if not _TOKEN_RE.match(value.get_secret_value()):
            raise ValueError("expected the token from @BotFather, shaped like 123456:ABC-def")
        return value

    @field_validator("telegram_allowed_users")
    @classmethod
    def _users(cls, value: str) -> str:
        parse_allowed_users(value)
        return value

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        value = value.strip().lower()
        if value not in ("paper", "kotak", "mstock"):
            raise ValueError("expected one of paper, kotak, mstock")
        return value

    @field_validator("static_ip_primary", "static_ip_secondary")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError("expected an IPv4 or IPv6 address such as 203.0.113.7") from None

    @field_validator("protection_grid")
    @classmethod
    def _grid(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parse_grid(value)
        return value

    @model_validator(mode="after")
    def _rate(self) -> Settings:
        if self.order_rate_limit > 10 and not self.registered_algo:
            raise ValueError(
                "ORDER_RATE_LIMIT: at most 10 orders per second unless REGISTERED_ALGO=true "
                "(SEBI's threshold for unregistered retail algos)"
            )
        return self

    @field_validator("broker_totp_secret")
    @classmethod
    def _totp(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        check_seed(value.get_secret_value())
        return value

    @field_validator("session_relogin_time")
    @classmethod
    def _relogin_time(cls, value: str) -> str:
        try:
            time.fromisoformat(value.strip())
        except ValueError:
            raise ValueError("expected a time of day in IST as HH:MM, e.g. 08:30") from None
        return value.strip()

    @field_validator("ip_check_urls")
    @classmethod
    def _urls(cls, value: str) -> str:
        for url in (u.strip() for u in value.split(",") if u.strip()):
            if not url.startswith(("http://", "https://")):
                raise ValueError(f"expected comma-separated http(s) URLs; {url!r} is not one")
        return value

    @field_validator("log_level")
    @classmethod
    def _level(cls, value: str) -> str:
        value = value.strip().upper()
        if value not in ("DEBUG", "INFO", "WARNING", "ERROR"):
            raise ValueError("expected DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def allowed_users(self) -> dict[int, Role]:
        return parse_allowed_users(self.telegram_allowed_users)

    @property
    def grid(self) -> ProtectionGrid:
        return parse_grid(self.protection_grid) if self.protection_grid else DEFAULT_GRID

    @property
    def relogin_time(self) -> time:
        return time.fromisoformat(self.session_relogin_time)

    @property
    def admins(self) -> list[int]:
        return [uid for uid, role in self.allowed_users.items() if role is Role.ADMIN]

    @property
    def ip_check_url_list(self) -> list[str]:
        return [u.strip() for u in self.ip_check_urls.split(",") if u.strip()]

    # -- chats served and the instrument master (issue 10) ----------------------------------

    # Group or channel chats the bot may serve (ids, comma-separated); private chats always.
    telegram_allowed_chats: str = ""
    # Seconds between checks for a new instrument master (Kotak publishes one per day).
    instruments_check_seconds: float = Field(default=60.0, ge=1, le=3600)

    @field_validator("telegram_allowed_chats")
    @classmethod
    def _chats(cls, value: str) -> str:
        parse_chat_ids(value)
        return value

    @property
    def allowed_chats(self) -> frozenset[int]:
        return parse_chat_ids(self.telegram_allowed_chats)

    # -- price alerts (issue 12) -------------------------------------------------------------

    # Seconds between rounds of (batched) quote calls that check price alerts.
    alert_check_seconds: float = Field(default=5.0, ge=1, le=3600)


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise `ConfigError` with one line per problem.

    pydantic's own messages echo the input value; we rebuild them from the field name and our
    validator text only, so a mistyped secret never lands in a log or a terminal scroll-back.
    """
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False, include_url=False):
            name = str(err["loc"][0]).upper() if err["loc"] else ""
            if not name:  # a check across several settings names them itself
                lines.append(str(err["msg"]).removeprefix("Value error, ") + ".")
            elif err["type"] == "missing":
                lines.append(f"{name} is not set; it is required.")
            else:
                msg = str(err["msg"]).removeprefix("Value error, ")
                lines.append(f"{name}: {msg}.")
        raise ConfigError("\n".join(lines)) from None


def parse_chat_ids(raw: str) -> frozenset[int]:
    """`"-1001234567890, -4242"` → the two ids. Group ids are negative; an empty value is none."""
    ids = set()
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        try:
            ids.add(int(item))
        except ValueError:
            raise ValueError(
                f"expected comma-separated Telegram chat ids such as -1001234567890; {item!r} is "
                "not one"
            ) from None
    return frozenset(ids)
