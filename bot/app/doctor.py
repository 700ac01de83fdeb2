"""`tradebot doctor` (or `python -m bot doctor`): the start-up checks, from the command line.

For setting up the static-IP server: it runs what the bot relies on, without Telegram polling,
and prints one line per check (green ✔, red ✘, yellow ! for a warning that does not fail):
settings, the Telegram token, whether each allowed user has opened the bot, the egress IP
against the whitelist, clock skew, the broker login, a read-only broker call and the
order-permission verdict, which is the bot's own (the account's gate), so the doctor and the
running bot never disagree about whether orders go out. The exit status is 1 when
something would stop orders, 2 for a configuration error, 0 otherwise.

Nothing printed carries a secret: every line is scrubbed with the configured secret values
(python-telegram-bot puts the token into some error texts).
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from enum import Enum

import telegram
from telegram.error import BadRequest, InvalidToken, NetworkError, TelegramError

from bot.accounts import (
    IST,
    Account,
    AccountConfig,
    SessionStatus,
    account_secrets,
    load_accounts,
    users_of,
)
from bot.app.build import build_account, build_broker, secret_values
from bot.app.reach import host_of, telegram_unreachable
from bot.clock import utcnow
from bot.errors import ConfigError, UserError
from bot.logs import REDACTED, setup_logging
from bot.market.hours import MarketHours
from bot.notify.events import AdminEvent
from bot.settings import Role, Settings, load_settings
from brokers.base import Broker
from brokers.errors import BrokerError
from handlers.render.numbers import rupees
from handlers.render.session import ip_registration_hint

WARN_SKEW_SECONDS = 5.0
FAIL_SKEW_SECONDS = 15.0

EXIT_OK, EXIT_ORDERS_STOPPED, EXIT_CONFIG = 0, 1, 2


class Mark(Enum):
    OK = ("✔", "\x1b[32m")
    FAIL = ("✘", "\x1b[31m")
    WARN = ("!", "\x1b[33m")


class Report:
    """Prints check lines (scrubbed, coloured on a TTY) and remembers which checks failed."""

    def __init__(
        self, out: Callable[[str], None], secrets: Iterable[str], color: bool | None
    ) -> None:
        self._out = out
        self._secrets = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        if color is None:
            color = sys.stdout.isatty() and not os.environ.get("NO_COLOR")
        self._color = color
        self.failed: list[str] = []
        # Names the account the checks are about, when the bot serves several.
        self.prefix = ""

    def scrub(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def line(self, mark: Mark, check: str, detail: str) -> None:
        check = self.prefix + check
        if mark is Mark.FAIL:
            self.failed.append(check)
        symbol, ansi = mark.value
        text = self.scrub(f"{symbol} {check}: {' '.join(detail.split())}")
        self._out(f"{ansi}{text}\x1b[0m" if self._color else text)

    def ok(self, check: str, detail: str) -> None:
        self.line(Mark.OK, check, detail)

    def fail(self, check: str, detail: str) -> None:
        self.line(Mark.FAIL, check, detail)

    def warn(self, check: str, detail: str) -> None:
        self.line(Mark.WARN, check, detail)


def report_config_error(
    error: ConfigError, *, out: Callable[[str], None] = print, color: bool | None = None
) -> int:
    """A configuration error: the settings check is red, one line per problem; exit 2."""
    report = Report(out, (), color)
    for problem in str(error).splitlines() or ["invalid configuration"]:
        if problem.strip():
            report.fail("settings", problem)
    return EXIT_CONFIG


async def run_doctor(
    settings: Settings,
    *,
    out: Callable[[str], None] = print,
    broker: Broker | None = None,
    brokers: Mapping[str, Broker] | None = None,
    color: bool | None = None,
    now: Callable[[], datetime] = utcnow,
) -> int:
    """Run every check in order, for every account, and return the exit status (see the
    module docstring). Each account's broker is built from its settings unless given (`broker`
    for the first account, `brokers` by name); `color` defaults to "stdout is a TTY and
    NO_COLOR is not set"; `now` is the date the holiday calendar must cover."""
    report = Report(out, secret_values(settings), color)
    given = dict(brokers or {})
    try:
        configs = load_accounts(settings)
        if broker is not None:
            given.setdefault(configs[0].name, broker)
        built = [(c, given.get(c.name) or build_broker(settings, c)) for c in configs]
    except ConfigError as exc:
        return report_config_error(exc, out=out, color=color)
    report = Report(out, secret_values(settings) + account_secrets(configs), color)
    report.ok("settings", _describe_settings(settings, configs))
    for warning in settings.warnings():
        report.warn("warning", warning)
    _check_calendar(settings, report, now())

    await _check_telegram(settings, users_of(configs), report)

    async def no_notices(_: AdminEvent) -> None:
        """The doctor prints its own lines; the bot's Telegram notices are not for a terminal."""

    for config, one in built:
        report.prefix = f"{config.name}: " if len(built) > 1 else ""
        paper = config.broker == "paper"
        account = build_account(settings, one, no_notices, account=config)
        try:
            await account.refresh_egress()
            _check_egress(account, report, paper=paper)
            _check_skew(account.status(), report)
            await _check_login(account, report)
            await _check_funds(account, report)
            _verdict(account, report, paper=paper)
        finally:
            await account.stop()
    return EXIT_ORDERS_STOPPED if report.failed else EXIT_OK


def _check_calendar(settings: Settings, report: Report, now: datetime) -> None:
    """The exchange holiday calendar covers this year (and, in December, the next)."""
    if not settings.market_hours:
        report.ok("market hours", "off (MARKET_HOURS=off): orders go as regular ones at any time")
        return
    hours = MarketHours()
    warning = hours.coverage_warning(now)
    years = ", ".join(str(y) for y in hours.years) or "none"
    if warning is None:
        report.ok("market hours", f"holiday calendar for {years}")
    else:
        report.warn("market hours", warning)


def _describe_settings(settings: Settings, configs: Sequence[AccountConfig]) -> str:
    users = users_of(configs)
    admins = sum(1 for role in users.values() if role is Role.ADMIN)
    brokers = (
        f"BROKER={settings.broker}"
        if settings.accounts_file is None
        else f"{len(configs)} account{'s' if len(configs) != 1 else ''} in ACCOUNTS_FILE: "
        + ", ".join(f"{c.name} ({c.broker})" for c in configs)
    )
    return (
        f"valid ({brokers}, {len(users)} allowed Telegram user"
        f"{'s' if len(users) != 1 else ''} of which {admins} admin"
        f"{'s' if admins != 1 else ''}, database {settings.database_path})"
    )


async def _check_telegram(settings: Settings, users: Mapping[int, Role], report: Report) -> None:
    check = "Telegram token"
    bot = telegram.Bot(
        settings.telegram_bot_token.get_secret_value(), base_url=settings.telegram_base_url
    )
    try:
        async with bot:
            me = await bot.get_me()
            report.ok(check, f"works for @{me.username} ({me.first_name})")
            await _check_users(bot, users, report)
            return
    except InvalidToken:
        report.fail(check, "Telegram refused TELEGRAM_BOT_TOKEN; check the token with @BotFather")
    except NetworkError as exc:
        report.fail(check, telegram_unreachable(settings.telegram_base_url, exc))
    except TelegramError as exc:
        report.fail(check, f"Telegram answered with an error ({exc})")
    report.warn("Telegram users", "not checked: the token does not work")


async def _check_users(bot: telegram.Bot, users: Mapping[int, Role], report: Report) -> None:
    """A bot cannot message anyone who never opened it and pressed Start: Telegram answers
    "chat not found". Such a user misses every push (fills, session alerts), so say who."""
    check = "Telegram users"
    unopened, unknown = [], []
    for user_id, role in users.items():
        try:
            await bot.get_chat(user_id)
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                unopened.append(f"{user_id} ({role.value})")
            else:
                unknown.append(f"{user_id} ({exc.message})")
        except TelegramError as exc:
            unknown.append(f"{user_id} ({exc.message})")
    if unopened:
        report.warn(
            check,
            f"{', '.join(unopened)} never opened the bot: each must open it in Telegram and "
            "press Start once, or the bot cannot message them",
        )
    if unknown:
        report.warn(check, f"could not check {', '.join(unknown)}")
    if not unopened and not unknown:
        count = f"all {len(users)}" if len(users) != 1 else "the one"
        report.ok(check, f"{count} allowed user{'s' if len(users) != 1 else ''} opened the bot")


def _check_egress(account: Account, report: Report, *, paper: bool) -> None:
    """Fails exactly when the bot's gate would block orders for the IP (its own rule and
    words). On paper the IP is information only: the paper broker checks none (the gate
    still applies a whitelist that is configured, and the verdict line says so)."""
    check = "egress IP"
    status = account.status()
    hint = ip_registration_hint(status)
    if hint is not None:
        report.ok("IP registration", hint)
    problem = account.ip_problem()
    if problem is not None:
        if paper:
            report.warn(check, f"{problem}; the paper broker itself checks no IP")
        else:
            report.fail(check, problem)
        return
    if status.egress_ip is None:
        why = status.egress_error or "IP_CHECK_URLS is empty"
        if paper:
            report.ok(check, f"unknown ({why}); the paper broker checks no IP")
        else:
            report.warn(
                check,
                f"unknown ({why}) and no static IP is configured (STATIC_IP_PRIMARY), so the "
                "broker decides whether it accepts orders from this host",
            )
        return
    source = "the broker" if status.egress_source == "broker" else host_of(status.egress_source)
    seen = f"{status.egress_ip} (answered by {source})"
    whitelist = account.whitelist
    if not whitelist.configured:
        if paper:
            report.ok(check, f"{seen}; the paper broker checks no IP")
        else:
            report.warn(
                check,
                f"{seen}; no static IP is configured (STATIC_IP_PRIMARY), so orders may be "
                "rejected by the broker unless this IP is whitelisted with it",
            )
        return
    ipv6 = [w for w in status.warnings if "IPv6" in w]
    if ipv6:
        report.warn(check, f"{seen}, whitelisted; {ipv6[0]}")
    else:
        which = "primary" if account.egress_ip == whitelist.primary else "secondary"
        report.ok(check, f"{seen}, whitelisted as the {which} static IP")


def _check_skew(status: SessionStatus, report: Report) -> None:
    check = "clock skew"
    skew = status.skew_seconds
    if skew is None:
        report.warn(check, "unknown (the IP check service sent no usable Date header)")
        return
    way = "behind" if skew > 0 else "ahead of"  # skew is the service's clock minus ours
    detail = f"this server's clock is {abs(skew):.1f} s {way} the IP check service's"
    if abs(skew) > FAIL_SKEW_SECONDS:
        report.fail(
            check,
            f"{detail}; TOTP logins fail when the clock is this far off. Enable NTP "
            "(timedatectl set-ntp true)",
        )
    elif abs(skew) > WARN_SKEW_SECONDS:
        report.warn(check, f"{detail}; TOTP logins may fail. Enable NTP (timedatectl set-ntp true)")
    else:
        report.ok(check, detail)


async def _check_login(account: Account, report: Report) -> None:
    check = "broker login"
    try:
        await account.start()
    except Exception as exc:  # noqa: BLE001 - a diagnostic must report, not crash
        report.fail(check, f"{account.broker.name}: unexpected {type(exc).__name__}: {exc}")
        return
    status = account.status()
    if status.created_at is None:
        reason = status.last_error or "not logged in"
        report.fail(check, f"no {status.broker} session: {reason}")
        return
    created = status.created_at.astimezone(IST).strftime("%H:%M:%S IST")
    where = f" from {status.session_ip}" if status.session_ip else ""
    if not status.resumed:
        report.ok(check, f"{status.broker} session created at {created}{where}")
    else:
        report.ok(
            check,
            f"{status.broker}: resumed today's saved session (created at {created}{where}); "
            "the credentials were not re-checked",
        )


async def _check_funds(account: Account, report: Report) -> None:
    check = "read-only call"
    if account.status().created_at is None:
        report.fail(check, "not tried: there is no broker session")
        return
    try:
        funds = await account.funds()
    except BrokerError as exc:
        report.fail(check, f"funds: {exc.message}")
    except UserError as exc:
        report.fail(check, f"funds: {exc.text}")
    except Exception as exc:  # noqa: BLE001 - a diagnostic must report, not crash
        report.fail(check, f"funds: unexpected {type(exc).__name__}: {exc}")
    else:
        report.ok(
            check,
            f"funds: available {rupees(funds.available)}, used margin {rupees(funds.used_margin)}",
        )


def _verdict(account: Account, report: Report, *, paper: bool) -> None:
    """The bot's own verdict (the account's gate, as /session shows it), not a second one:
    a check that failed above stops orders only when it stops them in the bot too."""
    check = "order permission"
    status = account.status()
    if not status.orders_open:
        report.fail(check, f"orders blocked: {status.blocked_reason}")
    elif paper:
        report.ok(check, "orders are open (the paper broker fills them itself)")
    elif not account.whitelist.configured:
        report.warn(
            check,
            "the bot would send orders, but with no static IP configured the broker decides "
            "whether to accept them from this host",
        )
    else:
        report.ok(check, "orders would be accepted from this host")


def main() -> int:
    """The console entry (`python -m bot doctor`): load settings, run, return the exit code."""
    try:
        settings = load_settings()
    except ConfigError as exc:
        return report_config_error(exc)
    setup_logging("ERROR", secret_values(settings))
    try:
        return asyncio.run(run_doctor(settings))
    except KeyboardInterrupt:
        return 130
