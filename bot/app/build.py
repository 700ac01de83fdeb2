"""Building the account's parts from the settings: the broker adapter, the account around it, and
the list of secrets the log filter redacts. Shared by the bot (`run`) and the doctor, so both
check the same broker through the same gate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.accounts import (
    Account,
    EgressChecker,
    SessionFile,
    SlidingWindowLimiter,
    TotpClock,
    TotpSource,
    Whitelist,
)
from bot.errors import ConfigError
from bot.market.hours import MarketHours
from bot.notify.events import AdminEvent
from bot.settings import Settings
from brokers.base import Broker

__all__ = ["build_account", "build_broker", "secret_values"]


def secret_values(settings: Settings) -> list[str]:
    """Every configured secret, for the log redaction filter."""
    fields = (
        settings.telegram_bot_token,
        settings.broker_api_key,
        settings.broker_api_secret,
        settings.broker_totp_secret,
        settings.broker_mpin,
        settings.broker_password,
        settings.broker_mobile,
    )
    return [f.get_secret_value() for f in fields if f is not None]


def build_account(
    settings: Settings,
    broker: Broker,
    notify: Callable[[AdminEvent], Awaitable[None]],
    *,
    totp_clock: TotpClock | None = None,
) -> Account:
    """The account: whitelist, IP checks, TOTP, saved session, limiter. `totp_clock` replaces
    the wall clock for TOTP steps (tests pass one that need not wait 30 s between logins)."""
    limiter = SlidingWindowLimiter(
        max_calls=settings.order_rate_limit,
        period=1.0,
        margin=settings.order_rate_margin_ms / 1000,
        allow_above_ten=settings.registered_algo,
    )
    urls = settings.ip_check_url_list
    seed = settings.broker_totp_secret
    return Account(
        broker,
        limiter,
        whitelist=Whitelist.of(settings.static_ip_primary, settings.static_ip_secondary),
        egress=EgressChecker(urls) if urls else None,
        totp=_totp(seed.get_secret_value(), totp_clock) if seed else None,
        notify=notify,
        session_file=SessionFile(settings.database_path.parent, broker.name),
        check_every=settings.session_check_seconds,
        relogin_at=settings.relogin_time,
        warn_without_whitelist=settings.broker != "paper",
    )


def _totp(seed: str, clock: TotpClock | None) -> TotpSource:
    if clock is None:
        return TotpSource(seed)
    return TotpSource(seed, clock=clock, sleep=clock.sleep)


def build_broker(settings: Settings, hours: MarketHours | None = None) -> Broker:
    """The adapter named by BROKER. Imported lazily: a paper set-up never loads the others.
    `hours` tells the paper account when to send the AMOs it holds (None: at once)."""
    if settings.broker == "paper":
        from brokers.paper import PaperBroker

        return PaperBroker(
            settings.paper_state_path,
            capital=Decimal(settings.paper_capital),
            tick_seconds=settings.paper_tick_seconds,
            seed=settings.paper_seed,
            is_open=hours.is_open if hours is not None else None,
        )
    if settings.broker == "kotak":
        from brokers.kotak import KotakBroker, KotakConfig

        values = _required(settings, KOTAK_NEEDS)
        return KotakBroker(
            KotakConfig(
                mobile=values["broker_mobile"],
                ucc=values["broker_api_key"],
                access_token=values["broker_api_secret"],
                mpin=values["broker_mpin"],
                cache_dir=settings.database_path.parent / "kotak-master",
                login_url=settings.kotak_login_url,
            )
        )
    if settings.broker == "mstock":
        from brokers.mstock import MStockBroker, MStockConfig

        values = _required(settings, MSTOCK_NEEDS)
        return MStockBroker(
            MStockConfig(
                client_code=values["broker_api_key"],
                api_key=values["broker_api_secret"],
                password=values["broker_password"],
                cache_dir=settings.database_path.parent / "mstock-master",
                base_url=settings.mstock_base_url,
                freeze_qty=settings.freeze_table,
            )
        )
    raise ConfigError(f"BROKER: {settings.broker} is not available; use paper, kotak or mstock.")


# Which setting carries which Kotak credential (the names follow OpenAlgo's .env).
KOTAK_NEEDS = (
    ("broker_mobile", "the registered mobile number"),
    ("broker_api_key", "the UCC (client code)"),
    ("broker_api_secret", "the access token from the Neo API dashboard"),
    ("broker_mpin", "the MPIN"),
    ("broker_totp_secret", "the base32 TOTP secret"),
)

# mStock's factors, as OpenAlgo's mStock set-up page names them (BROKER_API_KEY = client code).
MSTOCK_NEEDS = (
    ("broker_api_key", "the mStock client code (login id)"),
    ("broker_api_secret", "the Type B API key from Trading APIs"),
    ("broker_password", "the trading password"),
    ("broker_totp_secret", "the base32 TOTP secret from Generate TOTP"),
)


def _required(settings: Settings, needed: tuple[tuple[str, str], ...]) -> dict[str, str]:
    """The broker's secrets, or one ConfigError line per missing one."""
    values: dict[str, str] = {}
    missing = []
    for name, what in needed:
        value = getattr(settings, name)
        if value is None or not value.get_secret_value().strip():
            missing.append(f"{name.upper()} is not set; BROKER={settings.broker} needs {what}.")
        else:
            values[name] = value.get_secret_value().strip()
    if missing:
        raise ConfigError("\n".join(missing))
    return values
