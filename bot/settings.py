"""All settings, from the environment or `.env` (pydantic-settings).

Names follow `../shared/design.md`. Validation errors are turned into `ConfigError` lines that name
the variable, the expected form and an example (never pydantic's wording, never a secret's value).

An empty value (`PAPER_SEED=` in `.env`, or an empty environment variable) means "not set": a
fresh copy of `.env.example` leaves most settings empty, and `docker run --env-file` passes those
as empty variables. Numbers may be written the way people write them: `10,00,000`, `1_000`,
`60s` for a `_SECONDS` setting, `100ms` for a `_MS` one, `₹5000` for rupees.

`bot.accounts` and `bot.orders` are imported inside the two functions that need them (the TOTP
seed and the protection grid): `bot.accounts.config` builds on this module, so importing those
packages here would make a cycle.

Files live in `DATA_DIR` (`./data`, `/data` in the Docker image): a relative `DATABASE_PATH` or
`PAPER_STATE_PATH` is taken inside it, so the image's volume is used whatever `.env` says.
"""

from __future__ import annotations

import ipaddress
import os
import re
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

from annotated_types import Ge, Gt, Le
from pydantic import (
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.orders.lpp import LppBands
    from bot.orders.protection import Band, ProtectionGrid


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
        if int(uid_text) in users:
            raise ValueError(
                f"user id {int(uid_text)} is listed twice; give each id once, with its role "
                "(e.g. 12345,67890:viewer)"
            )
        users[int(uid_text)] = role
    if not users:
        raise ValueError(_USERS_HELP)
    return users


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        env_ignore_empty=True,
    )

    telegram_bot_token: SecretStr
    telegram_base_url: str = "https://api.telegram.org/bot"
    # Required, unless ACCOUNTS_FILE is set (`_users_optional_with_accounts_file`): then it is the
    # users of each account that has no `users` table of its own.
    telegram_allowed_users: str | None

    # Several broker accounts (issue 14): a TOML file, relative to the working directory like
    # `.env` (it is configuration, not data, so not inside DATA_DIR). bot.accounts.config reads it.
    accounts_file: Path | None = None

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
    mstock_ws_url: str = "wss://ws.mstock.trade"

    protection_grid: str | None = None
    # The exchange's F&O limit price protection, one table per family ("UPPER:VALUE,...", the
    # UPPER edge in its band): limits outside it are refused before the card (rules.md §2.2).
    lpp_options: str | None = None
    lpp_index_futures: str | None = None
    lpp_stock_futures: str | None = None
    lpp_index_underlyings: str | None = None
    order_rate_limit: int = Field(default=10, ge=1)
    registered_algo: bool = False
    # Order-rate safety margin: the 10-per-second window is counted as 1 s + this (issue 10).
    order_rate_margin_ms: int = Field(default=100, ge=0, le=1000)
    ltp_max_age_seconds: int = Field(default=300, ge=1)

    # Folder for every file the bot keeps; the paths below are taken inside it when relative.
    data_dir: Path = Path("data")
    database_path: Path = Path("tradebot.db")
    confirm_ttl_seconds: int = Field(default=60, ge=5, le=3600)
    order_poll_seconds: float = Field(default=2.0, gt=0, le=60)
    log_level: str = "INFO"

    paper_state_path: Path = Path("paper.json")
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

    @model_validator(mode="before")
    @classmethod
    def _users_optional_with_accounts_file(cls, data: object) -> object:
        """With ACCOUNTS_FILE, TELEGRAM_ALLOWED_USERS may be left out (each account may list its
        own users); without it, it stays required, with the same "is not set" line as before."""
        if (
            isinstance(data, dict)
            and data.get("accounts_file")
            and "telegram_allowed_users" not in data
        ):
            return {**data, "telegram_allowed_users": None}
        return data

    @field_validator("telegram_allowed_users")
    @classmethod
    def _users(cls, value: str | None) -> str | None:
        if value is not None:
            parse_allowed_users(value)
        return value

    @field_validator("*", mode="before")
    @classmethod
    def _number(cls, value: object, info: ValidationInfo) -> object:
        if isinstance(value, str) and info.field_name in _numeric_fields():
            return _parse_number(info.field_name, value)
        return value

    @field_validator("broker")
    @classmethod
    def _broker(cls, value: str) -> str:
        return check_broker(value)

    @field_validator("broker_mpin")
    @classmethod
    def _mpin(cls, value: SecretStr | None) -> SecretStr | None:
        return check_mpin(value)

    @field_validator("broker_mobile")
    @classmethod
    def _mobile(cls, value: SecretStr | None) -> SecretStr | None:
        return check_mobile(value)

    @field_validator("static_ip_primary", "static_ip_secondary")
    @classmethod
    def _ip(cls, value: str | None) -> str | None:
        return check_ip(value)

    @field_validator("protection_grid")
    @classmethod
    def _grid(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        from bot.orders.protection import parse_grid  # here: see the module docstring

        parse_grid(value)
        return value

    @field_validator("lpp_options", "lpp_index_futures", "lpp_stock_futures")
    @classmethod
    def _lpp(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None or not value.strip():
            return None
        from bot.orders.lpp import parse_lpp  # here: see the module docstring

        parse_lpp((info.field_name or "").upper(), value)
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
        return check_totp_secret(value)

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
        if value.strip().lower() == "off":  # empty means the default list, so "off" is spelled
            return ""
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

    @model_validator(mode="after")
    def _in_data_dir(self) -> Settings:
        """Relative file paths are taken inside DATA_DIR, made absolute once, so a later
        change of working directory (or a second validation) cannot move them."""
        self.data_dir = self.data_dir.expanduser().absolute()
        self.database_path = self.data_dir / self.database_path.expanduser()
        self.paper_state_path = self.data_dir / self.paper_state_path.expanduser()
        if self.accounts_file is not None:
            self.accounts_file = self.accounts_file.expanduser().absolute()
        return self

    def warnings(self) -> list[str]:
        """Settings that are valid but almost certainly not what was meant: one sentence each,
        logged at start-up and shown by the doctor."""
        found = []
        if self.telegram_allowed_users is not None and not self.admins:
            found.append(
                "TELEGRAM_ALLOWED_USERS names no admin, so nobody gets session and IP alerts or "
                "may use /session; make one id an admin (a bare id, or id:admin)."
            )
        if (self.broker_client_code or "").strip():
            found.append(
                "BROKER_CLIENT_CODE is deprecated: put the mStock client code in BROKER_API_KEY "
                "(and the Type B API key in BROKER_API_SECRET), then remove BROKER_CLIENT_CODE."
            )
        for name in ("static_ip_primary", "static_ip_secondary"):
            value = getattr(self, name)
            if value is not None and _is_lan(value):
                found.append(
                    f"{name.upper()} is {value}, a private or loopback address: the broker sees "
                    "this host's public IP, never a LAN one, so orders will be refused; put the "
                    "public static IP here."
                )
        if self.accounts_file is not None:
            ignored = [name.upper() for name in _SINGLE_ACCOUNT_FIELDS if getattr(self, name)]
            if ignored:
                found.append(
                    f"ACCOUNTS_FILE is set, so {', '.join(ignored)} "
                    f"{'is' if len(ignored) == 1 else 'are'} not used: each account's broker, "
                    "factors and static IPs come from its table in the accounts file."
                )
        return found

    def path_problems(self) -> list[str]:
        """One line per folder or file the bot could not create or write, naming the setting."""
        problems = []
        data_dir = _cannot_write(self.data_dir, folder=True)
        if data_dir:
            problems.append(f"DATA_DIR: {data_dir}.")
        for name in ("database_path", "paper_state_path"):
            path: Path = getattr(self, name)
            if data_dir and path.parent == self.data_dir:
                continue  # DATA_DIR's line covers a file directly inside it
            if name == "paper_state_path" and self.broker != "paper":
                continue
            problem = _cannot_write(path, folder=False)
            if problem:
                problems.append(f"{name.upper()}: {problem}.")
        return problems

    @property
    def allowed_users(self) -> dict[int, Role]:
        """TELEGRAM_ALLOWED_USERS; none when it is left out (allowed with ACCOUNTS_FILE only)."""
        if self.telegram_allowed_users is None:
            return {}
        return parse_allowed_users(self.telegram_allowed_users)

    @property
    def grid(self) -> ProtectionGrid:
        from bot.orders.protection import DEFAULT_GRID, parse_grid  # here: see the module docstring

        return parse_grid(self.protection_grid) if self.protection_grid else DEFAULT_GRID

    @property
    def lpp(self) -> LppBands:
        """Each LPP setting left empty keeps its default (`DEFAULT_LPP`, rules.md §2.2)."""
        from bot.orders.lpp import (  # here: see the module docstring
            DEFAULT_LPP,
            LppBands,
            parse_lpp,
        )

        def table(name: str, text: str | None, default: tuple[Band, ...]) -> tuple[Band, ...]:
            return parse_lpp(name, text) if text else default

        roots = self.lpp_index_underlyings
        return LppBands(
            options=table("LPP_OPTIONS", self.lpp_options, DEFAULT_LPP.options),
            index_futures=table(
                "LPP_INDEX_FUTURES", self.lpp_index_futures, DEFAULT_LPP.index_futures
            ),
            stock_futures=table(
                "LPP_STOCK_FUTURES", self.lpp_stock_futures, DEFAULT_LPP.stock_futures
            ),
            index_underlyings=(
                frozenset(r.strip().upper() for r in roots.split(",") if r.strip())
                if roots and roots.strip()
                else DEFAULT_LPP.index_underlyings
            ),
        )

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

    # -- mStock (issue 13) -------------------------------------------------------------------

    # Freeze quantity per underlying, for slicing: mStock's master has none (rules.md §3.4).
    mstock_freeze_qty: str = (
        "NIFTY:1800,BANKNIFTY:600,FINNIFTY:1800,MIDCPNIFTY:2800,NIFTYNXT50:600,SENSEX:1000,"
        "BANKEX:900"
    )

    @field_validator("mstock_freeze_qty")
    @classmethod
    def _freeze(cls, value: str) -> str:
        parse_freeze_table(value)
        return value

    @property
    def freeze_table(self) -> dict[str, int]:
        return parse_freeze_table(self.mstock_freeze_qty)

    @model_validator(mode="after")
    def _client_code_alias(self) -> Settings:
        """BROKER_CLIENT_CODE is the old name of mStock's client code: it still fills
        BROKER_API_KEY when that is empty (`warnings` says it is deprecated)."""
        code = (self.broker_client_code or "").strip()
        if code and self.broker == "mstock" and self.broker_api_key is None:
            self.broker_api_key = SecretStr(code)
        return self

    # -- price alerts (issue 12) -------------------------------------------------------------

    # Seconds between rounds of (batched) quote calls that check price alerts.
    alert_check_seconds: float = Field(default=5.0, ge=1, le=3600)
    # Seconds a market order sent as a protected limit may stay unfilled before one push offers
    # to re-price or cancel it; 0 turns the push off.
    unfilled_alert_seconds: int = Field(default=60, ge=0, le=86400)
    # Exchange sessions and holidays (`bot.market.hours`): out of hours an order is offered as
    # an AMO or refused. Off: every order goes as a regular one (the e2e harness's default, so
    # tests run at any wall-clock time; a test of the hours turns it on with its own clock).
    market_hours: bool = True

    # -- notifications, the daily summary, start and stop (issue 12) --------------------------

    # When the daily summary goes out (IST, HH:MM, weekdays), or "off".
    daily_summary_at: str = "15:45"
    # The account's name in the start-up, stop and summary messages (default: the session's
    # account as the broker names it, else the broker's name).
    account_label: str = ""

    @field_validator("daily_summary_at")
    @classmethod
    def _summary_at(cls, value: str) -> str:
        value = value.strip()
        if value.lower() == "off":
            return "off"
        try:
            time.fromisoformat(value)
        except ValueError:
            raise ValueError("expected a time of day in IST as HH:MM, e.g. 15:45, or off") from None
        return value

    @field_validator("account_label")
    @classmethod
    def _label(cls, value: str) -> str:
        return check_label(value)

    @property
    def daily_summary_time(self) -> time | None:
        """None when the daily summary is off."""
        return None if self.daily_summary_at == "off" else time.fromisoformat(self.daily_summary_at)

    # -- daily limits (issue 15) ---------------------------------------------------------------

    # Per account, 0 or empty for no limit; an admin may change each from chat (/limits). The
    # day's loss is realised + unrealised P&L; hitting it or the order count halts new entries
    # (exits stay allowed) until an admin confirms /resume or the next trading day.
    daily_max_loss: int = Field(default=0, ge=0, examples=[5000])
    daily_max_orders: int = Field(default=0, ge=0, examples=[50])
    max_order_value: int = Field(default=0, ge=0, examples=[200000])


# -- one rule per kind of value, shared with the accounts file (bot.accounts.config) ----------

BROKERS = ("paper", "kotak", "mstock")


def check_broker(value: str) -> str:
    """The broker's name, lower case, or ValueError."""
    value = value.strip().lower()
    if value not in BROKERS:
        raise ValueError("expected paper, kotak or mstock, e.g. BROKER=paper")
    return value


def check_mpin(value: SecretStr | None) -> SecretStr | None:
    """Kotak's MPIN, stripped; empty is not set. The message never holds the value."""
    if value is None or not value.get_secret_value().strip():
        return None
    if not re.fullmatch(r"\d{4}|\d{6}", value.get_secret_value().strip()):
        raise ValueError("expected your 4- or 6-digit MPIN, digits only (e.g. 123456)")
    return SecretStr(value.get_secret_value().strip())


def check_mobile(value: SecretStr | None) -> SecretStr | None:
    """The registered mobile number; empty is not set. The message never holds the value."""
    if value is None or not value.get_secret_value().strip():
        return None
    # The forms the Kotak adapter turns into +91 and 10 digits (brokers/kotak/auth.py).
    digits = re.sub(r"[\s\-()]", "", value.get_secret_value())
    if not re.fullmatch(r"(?:\+91|91|0)?\d{10}", digits):
        raise ValueError(
            "expected the 10-digit mobile number registered with the broker, "
            "e.g. 9876543210 or +919876543210"
        )
    return value


def check_ip(value: str | None) -> str | None:
    """A whitelisted static IP in its canonical form; empty is not set."""
    if value is None or not value.strip():
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        raise ValueError(
            "expected the public IPv4 or IPv6 address you whitelisted, e.g. 203.0.113.7"
        ) from None


def check_totp_secret(value: SecretStr | None) -> SecretStr | None:
    """A usable base32 TOTP seed; empty is not set. The message never holds the seed."""
    if value is None or not value.get_secret_value().strip():
        return None
    from bot.accounts.totp import check_seed  # here: see the module docstring

    check_seed(value.get_secret_value())
    return value


def check_label(value: str) -> str:
    """An account's name as shown in chat, stripped."""
    if len(value.strip()) > 40:
        raise ValueError("expected a short name of at most 40 characters, e.g. Family HUF")
    return value.strip()


# The single account's variables, which an accounts file replaces.
_SINGLE_ACCOUNT_FIELDS = (
    "broker_api_key",
    "broker_api_secret",
    "broker_totp_secret",
    "broker_mpin",
    "broker_mobile",
    "broker_password",
    "static_ip_primary",
    "static_ip_secondary",
)


def load_settings(**overrides: object) -> Settings:
    """Build settings or raise `ConfigError` with one line per problem.

    pydantic's own messages echo the input value; we rebuild them from the field name and our
    validator text only, so a mistyped secret never lands in a log or a terminal scroll-back.
    """
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as exc:
        lines = []
        for err in exc.errors(include_input=False, include_url=False):
            field = str(err["loc"][0]) if err["loc"] else ""
            if not field:  # a check across several settings names them itself
                lines.append(str(err["msg"]).removeprefix("Value error, ") + ".")
            elif err["type"] == "missing":
                lines.append(f"{field.upper()} is not set; it is required.")
            elif err["type"] == "value_error":
                msg = str(err["msg"]).removeprefix("Value error, ")
                lines.append(f"{field.upper()}: {msg}.")
            else:  # pydantic's own wording (types, ranges): say the expected form instead
                lines.append(f"{field.upper()}: {_expected_form(field)}.")
        raise ConfigError("\n".join(lines)) from None
    problems = settings.path_problems()
    if problems:
        raise ConfigError("\n".join(problems))
    return settings


# -- numbers as people write them ------------------------------------------------------------

_RUPEE_PREFIXES = ("₹", "rs.", "rs", "inr")


def _numeric_fields() -> dict[str, type]:
    """Each int or float setting and its type (`int | None` counts as int)."""
    found: dict[str, type] = {}
    for name, field in Settings.model_fields.items():
        for kind in (int, float):
            if field.annotation is kind or field.annotation == kind | None:
                found[name] = kind
    return found


def _unit(name: str) -> str:
    """The unit a setting's name promises: written after the number (or, for rupees, before)."""
    if name.endswith("_seconds"):
        return "s"
    if name.endswith("_ms"):
        return "ms"
    if name in ("paper_capital", "daily_max_loss", "max_order_value"):
        return "₹"
    return ""


def _parse_number(name: str, text: str) -> int | float:
    """`10,00,000`, `1_000`, `60s` (a `_SECONDS` setting), `100ms`, `₹5000` → the number; any
    other unit or shape is refused with the expected form."""
    value = text.strip().lower()
    unit = _unit(name)
    if unit == "₹":
        for prefix in _RUPEE_PREFIXES:
            if value.startswith(prefix):
                value = value[len(prefix) :].lstrip()
                break
    elif unit and value.endswith(unit):
        value = value[: -len(unit)].rstrip()
    value = value.replace(",", "").replace("_", "")
    kind = _numeric_fields()[name]
    shape = r"[+-]?\d+" if kind is int else r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)"
    if not re.fullmatch(shape, value):
        raise ValueError(_expected_form(name))
    return int(value) if kind is int else float(value)


def _expected_form(name: str) -> str:
    """What a setting takes, with its range and an example, e.g. "expected a number of
    seconds from 1 to 3600, e.g. 60 or 60s"."""
    field = Settings.model_fields[name]
    if field.annotation is bool:
        return f"expected true or false, e.g. {str(field.default).lower()}"
    if field.annotation is Path:
        return f"expected a file or folder path, e.g. {field.default}"
    kind = _numeric_fields().get(name)
    if kind is None:
        return "expected a different value; see .env.example"
    unit = _unit(name)
    noun = "a whole number" if kind is int else "a number"
    noun += {"s": " of seconds", "ms": " of milliseconds", "₹": " of rupees"}.get(unit, "")
    low: float | None = None
    high: float | None = None
    above = False
    for rule in field.metadata:
        if isinstance(rule, Ge):
            low = float(rule.ge)  # type: ignore[arg-type]
        elif isinstance(rule, Gt):
            low, above = float(rule.gt), True  # type: ignore[arg-type]
        elif isinstance(rule, Le):
            high = float(rule.le)  # type: ignore[arg-type]
    if low is not None and high is not None and not above:
        noun += f" from {low:g} to {high:g}"
    elif low is not None:
        noun += f" above {low:g}" if above else f" of at least {low:g}"
        noun += f" and at most {high:g}" if high is not None else ""
    if field.examples:
        example = field.examples[0]
    else:
        example = field.default if field.default is not None else 7
    if unit == "₹":
        return f"expected {noun}, e.g. {example} or ₹{example:,}"
    tail = f" or {example:g}{unit}" if unit else ""
    return f"expected {noun}, e.g. {example:g}{tail}"


# -- places and addresses ---------------------------------------------------------------------

_LAN = tuple(
    ipaddress.ip_network(net)
    for net in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "fc00::/7")
)


def _is_lan(address: str) -> bool:
    """Loopback, link-local, RFC 1918, carrier-grade NAT or IPv6 unique-local: an address a
    broker never sees as the origin of a request."""
    ip = ipaddress.ip_address(address)
    return ip.is_loopback or ip.is_link_local or any(ip in net for net in _LAN)


def _cannot_write(path: Path, *, folder: bool) -> str | None:
    """Why the bot could not create or write `path` (a folder, or a file in its parent
    folder), or None. Looks only: nothing is created here."""
    if folder and path.exists() and not path.is_dir():
        return f"{path} is a file, not a folder"
    if not folder and path.is_dir():
        return f"{path} is a folder; expected a file path"
    probe = path if folder else path.parent
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        return f"cannot create {path}: {probe} is a file, not a folder"
    if not os.access(probe, os.W_OK | os.X_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"cannot create or write {path}: no permission in {probe}; choose a folder you own"
    return None


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


def parse_freeze_table(raw: str) -> dict[str, int]:
    """`"NIFTY:1800,BANKNIFTY:600"` -> {"NIFTY": 1800, "BANKNIFTY": 600}; empty is none."""
    table: dict[str, int] = {}
    for part in raw.split(","):
        item = part.strip()
        if not item:
            continue
        name, _, qty = item.partition(":")
        digits = qty.strip().replace("_", "")
        if not name.strip() or not digits.isdigit() or int(digits) <= 0:
            raise ValueError(
                "expected comma-separated UNDERLYING:UNITS pairs, e.g. NIFTY:1800,BANKNIFTY:600; "
                f"{item!r} is not one"
            )
        table[name.strip().upper()] = int(digits)
    return table
