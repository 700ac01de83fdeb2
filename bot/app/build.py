"""Building the account's parts from the settings: the broker adapter, the account around it, and
the list of secrets the log filter redacts. Shared by the bot (`run`) and the doctor, so both
check the same broker through the same gate."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from decimal import Decimal

from bot.accounts import (
    KOTAK_NEEDS,
    MSTOCK_NEEDS,
    Account,
    AccountConfig,
    EgressChecker,
    SessionFile,
    SlidingWindowLimiter,
    TotpClock,
    TotpSource,
    Whitelist,
    paper_state_path,
    single_account,
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
    account: AccountConfig | None = None,
) -> Account:
    """The account (the single account of the settings unless `account` names one of the
    accounts file): whitelist, IP checks, TOTP, saved session, limiter. `totp_clock` replaces
    the wall clock for TOTP steps (tests pass one that need not wait 30 s between logins)."""
    config = account or single_account(settings)
    limiter = SlidingWindowLimiter(
        max_calls=settings.order_rate_limit,
        period=1.0,
        margin=settings.order_rate_margin_ms / 1000,
        allow_above_ten=settings.registered_algo,
    )
    urls = settings.ip_check_url_list
    seed = config.totp_secret
    return Account(
        broker,
        limiter,
        whitelist=Whitelist.of(config.static_ip_primary, config.static_ip_secondary),
        egress=EgressChecker(urls) if urls else None,
        totp=_totp(seed.get_secret_value(), totp_clock) if seed else None,
        notify=notify,
        # Named after the account: the single account's is named after its broker, as before.
        session_file=SessionFile(settings.database_path.parent, config.name),
        check_every=settings.session_check_seconds,
        relogin_at=settings.relogin_time,
        warn_without_whitelist=config.broker != "paper",
    )


def _totp(seed: str, clock: TotpClock | None) -> TotpSource:
    if clock is None:
        return TotpSource(seed)
    return TotpSource(seed, clock=clock, sleep=clock.sleep)


def build_broker(
    settings: Settings, account: AccountConfig | None = None, hours: MarketHours | None = None
) -> Broker:
    """The adapter of the account (the settings' single account unless given). Imported
    lazily: a paper set-up never loads the others. Accounts of one broker share its
    instrument cache folder, so its master is downloaded and held once. `hours` tells the
    paper account when to send the AMOs it holds (None: at once)."""
    config = account or single_account(settings)
    if config.broker == "paper":
        from brokers.paper import PaperBroker

        return PaperBroker(
            paper_state_path(settings, config),
            capital=Decimal(settings.paper_capital),
            tick_seconds=settings.paper_tick_seconds,
            seed=settings.paper_seed,
            is_open=hours.is_open if hours is not None else None,
        )
    single = account is None or settings.accounts_file is None
    if config.broker == "kotak":
        from brokers.kotak import KotakBroker, KotakConfig

        values = _required(config, KOTAK_NEEDS, single)
        return KotakBroker(
            KotakConfig(
                mobile=values["mobile"],
                ucc=values["api_key"],
                access_token=values["api_secret"],
                mpin=values["mpin"],
                cache_dir=settings.database_path.parent / "kotak-master",
                login_url=settings.kotak_login_url,
            )
        )
    if config.broker == "mstock":
        from brokers.mstock import MStockBroker, MStockConfig

        values = _required(config, MSTOCK_NEEDS, single)
        return MStockBroker(
            MStockConfig(
                client_code=values["api_key"],
                api_key=values["api_secret"],
                password=values["password"],
                cache_dir=settings.database_path.parent / "mstock-master",
                base_url=settings.mstock_base_url,
                ws_url=settings.mstock_ws_url,
                freeze_qty=settings.freeze_table,
            )
        )
    raise ConfigError(f"BROKER: {config.broker} is not available; use paper, kotak or mstock.")


def _required(
    config: AccountConfig, needed: tuple[tuple[str, str], ...], single: bool
) -> dict[str, str]:
    """The broker's secrets by the accounts file's key (the settings' name minus `broker_`),
    or one ConfigError line per missing one, naming the variable (the single account) or the
    account and key (the accounts file checks these already when it is read)."""
    values: dict[str, str] = {}
    missing = []
    for key, what in needed:
        value = getattr(config, key)
        if value is None or not value.get_secret_value().strip():
            if single:
                missing.append(
                    f"BROKER_{key.upper()} is not set; BROKER={config.broker} needs {what}."
                )
            else:
                missing.append(f"account {config.name!r}: {key} is not set; it needs {what}.")
        else:
            values[key] = value.get_secret_value().strip()
    if missing:
        raise ConfigError("\n".join(missing))
    return values
