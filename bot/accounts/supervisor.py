"""The session supervisor: the only door from the core to a broker session.

Since 1 April 2026 brokers accept place/modify/cancel only from a whitelisted static IP and only
with a session created from that same IP (Kotak's notice; kotak-neo.md §11). If the host's IP
moves, the old session stays alive but every order call fails with 100008 or 1037. So the
supervisor knows the egress IP (checked at start, on a timer and after any IP-related refusal),
records which IP each session came from, and:

- refuses order calls before they leave (fail closed) when the egress IP is not whitelisted;
  read-only calls keep working;
- re-creates the session when the IP is whitelisted but the session came from elsewhere;
- on 1037/100008 re-checks the IP at once: whitelisted → new session and one retry (these codes
  mean nothing was placed), otherwise block and explain, with no retry;
- logs in again on an expired session, daily before the market opens, and with exponential
  backoff after failures (reported once, not in a loop);
- paces every order call through one per-account rate limiter (10/s, SEBI's threshold).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from bot.accounts.egress import EgressChecker, EgressReading, IPAddress, parse_ip
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session_file import SavedSession, SessionFile
from bot.accounts.totp import TotpSource
from bot.clock import utcnow
from bot.errors import UserError
from bot.notify.events import (
    AdminEvent,
    EgressIPChanged,
    LoginFailing,
    NoWhitelist,
    OrdersBlocked,
    OrdersOpen,
    SessionCreated,
    SessionLapsed,
    StaticIPsChanged,
)
from brokers.base import Broker, ReportsClientIP, ReportsServerClock, ResumableSession
from brokers.errors import BrokerError, IPNotWhitelisted, SessionExpired, SessionIPMismatch
from brokers.models import (
    Funds,
    Holding,
    Instrument,
    ModifyRequest,
    Order,
    OrderRequest,
    Position,
    Quote,
    SessionInfo,
    Trade,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
IST = ZoneInfo("Asia/Kolkata")
MAX_SKEW_SECONDS = 15.0
MAX_BACKOFF = timedelta(minutes=15)
NO_WHITELIST_WARNING = (
    "No static IP is configured (STATIC_IP_PRIMARY). Brokers accept orders only from a "
    "whitelisted IP, so orders may be rejected; I let the broker decide."
)


@dataclass(frozen=True, slots=True)
class Whitelist:
    primary: IPAddress | None = None
    secondary: IPAddress | None = None

    @classmethod
    def of(cls, primary: str | None, secondary: str | None) -> Whitelist:
        return cls(
            parse_ip(primary) if primary else None, parse_ip(secondary) if secondary else None
        )

    @property
    def configured(self) -> bool:
        return self.primary is not None or self.secondary is not None

    def allows(self, ip: IPAddress | None) -> bool:
        return ip is not None and ip in (self.primary, self.secondary)

    def describe(self) -> str:
        parts = [f"{self.primary} (primary)"] if self.primary else []
        if self.secondary:
            parts.append(f"{self.secondary} (secondary)")
        return " and ".join(parts) if parts else "none configured"


@dataclass(frozen=True, slots=True)
class SessionStatus:
    """What `/session` and the doctor show, built field by field (no tokens)."""

    broker: str
    account: str | None
    created_at: datetime | None
    session_ip: str | None
    egress_ip: str | None
    egress_source: str
    egress_checked_at: datetime | None
    egress_error: str | None
    whitelist: str
    skew_seconds: float | None
    last_error: str | None
    next_relogin: datetime | None
    orders_open: bool
    blocked_reason: str | None
    warnings: tuple[str, ...]
    resumed: bool = False  # the session was read back from disk, not created by a login


async def _no_notice(_: AdminEvent) -> None:
    return None


class Supervisor:
    def __init__(
        self,
        broker: Broker,
        limiter: SlidingWindowLimiter,
        *,
        whitelist: Whitelist | None = None,
        egress: EgressChecker | None = None,
        totp: TotpSource | None = None,
        notify: Callable[[AdminEvent], Awaitable[None]] = _no_notice,
        session_file: SessionFile | None = None,
        check_every: float = 60.0,
        relogin_at: time = time(8, 30),
        warn_without_whitelist: bool = True,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.broker = broker
        self._limiter = limiter
        self.whitelist = whitelist or Whitelist()
        self._egress = egress
        self._totp = totp
        self._notify = notify
        self._session_file = session_file
        self._check_every = check_every
        self._relogin_at = relogin_at
        self._warn_without_whitelist = warn_without_whitelist  # the paper broker checks no IP
        self._now = now
        self._session: SessionInfo | None = None
        self._session_ip: IPAddress | None = None
        self._resumed = False
        self._reading: EgressReading | None = None  # the last one that found an address
        self._egress_error: str | None = None
        self._skew: float | None = None
        self._last_error: str | None = None
        self._failures = 0
        self._next_login: datetime | None = None
        self._blocked: str | None = None
        self._login_lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._notices: set[asyncio.Task[None]] = set()

    # -- lifecycle -----------------------------------------------------------------------------

    async def start(self) -> None:
        """Learn the IP, then resume or create a session. A failed login does not stop the bot:
        it is reported, read-only work continues where possible, and login is retried."""
        await self._remind_ip_change()
        await self.refresh_egress()
        with contextlib.suppress(BrokerError, UserError):
            await self._resume_or_login()
        self._update_gate()
        if not self.whitelist.configured and self._warn_without_whitelist:
            await self._notify(NoWhitelist(self.broker.name))
        self._task = asyncio.create_task(self._watch(), name="session-supervisor")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._egress is not None:
            await self._egress.close()
        await self.broker.close()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._check_every)
            try:
                await self.tick()
            except Exception:
                log.exception("session check failed")

    async def tick(self) -> None:
        """One timer round: IP check, then whatever session work it calls for."""
        await self.refresh_egress()
        ip = self.egress_ip
        wrong_ip = self._session is not None and self._session_ip != ip
        due = self._relogin_due()
        if self._session is None or due or (wrong_ip and self.whitelist.allows(ip)):
            reason = "daily re-login" if due else "the IP changed" if wrong_ip else "no session"
            with contextlib.suppress(BrokerError, UserError):
                await self._login(reason)
        self._update_gate()

    # -- egress IP ------------------------------------------------------------------------------

    @property
    def egress_ip(self) -> IPAddress | None:
        return self._reading.ip if self._reading else None

    async def refresh_egress(self) -> EgressReading | None:
        """Ask the IP services, and the broker when it can tell; the broker wins when they
        differ, because its view is the one that decides 100008/1037."""
        if self._egress is None:
            return self._reading
        reading = await self._egress.check()
        self._skew = self._broker_skew()
        if self._skew is None:
            self._skew = reading.skew_seconds
        broker_ip = await self._broker_ip()
        if broker_ip is not None and broker_ip != reading.ip:
            reading = EgressReading(broker_ip, "broker", reading.at, reading.skew_seconds)
        if reading.ip is None:
            self._egress_error = reading.error
            return self._reading
        previous = self.egress_ip
        self._reading, self._egress_error = reading, None
        if previous is not None and previous != reading.ip:
            await self._notify(EgressIPChanged(str(previous), str(reading.ip)))
        self._update_gate()
        return reading

    def _broker_skew(self) -> float | None:
        if isinstance(self.broker, ReportsServerClock):
            return self.broker.clock_skew_seconds
        return None

    async def _broker_ip(self) -> IPAddress | None:
        if self._session is None or not isinstance(self.broker, ReportsClientIP):
            return None
        try:
            return parse_ip(await self.broker.client_ip() or "")
        except BrokerError:
            return None

    # -- the gate -------------------------------------------------------------------------------

    def _ip_problem(self) -> str | None:
        if not self.whitelist.configured:
            return None
        ip = self.egress_ip
        if ip is None:
            return (
                "I could not find out this server's IP address "
                f"({self._egress_error or 'no answer'}), so I cannot tell whether the broker "
                "would accept orders from it."
            )
        if not self.whitelist.allows(ip):
            return (
                f"this server's IP address is {ip}, but the IPs whitelisted with your broker "
                f"are {self.whitelist.describe()}. Run the bot on a whitelisted host, or register "
                "this IP with your broker (a change is allowed once every 7 days) and update "
                "STATIC_IP_PRIMARY/STATIC_IP_SECONDARY"
            )
        return None

    def _update_gate(self) -> None:
        problem = self._ip_problem()
        if problem is None and self._session is None:
            problem = f"there is no broker session ({self._last_error or 'not logged in yet'})"
        if problem != self._blocked:
            previous, self._blocked = self._blocked, problem
            if problem:
                self._spawn_notice(OrdersBlocked(self.broker.name, problem))
            elif previous:
                self._spawn_notice(OrdersOpen(self.broker.name))

    def _spawn_notice(self, event: AdminEvent) -> None:
        """Gate changes happen inside sync bookkeeping; the notice goes out on its own task."""
        task = asyncio.get_running_loop().create_task(self._announce(event))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    def check_orders_open(self) -> None:
        """Raise the plain refusal when the IP gate is closed; called before a confirmation card
        is shown, so the user is not asked to confirm what cannot be sent."""
        problem = self._ip_problem()
        if problem is not None:
            raise UserError("orders_blocked", f"Orders are blocked: {problem}. Nothing was sent.")

    async def _open_for_orders(self) -> None:
        """Fail closed: refuse before anything leaves when the broker would refuse anyway."""
        self.check_orders_open()
        ip = self.egress_ip
        if self._session is not None and self.whitelist.configured and self._session_ip != ip:
            await self._login(f"the session was created from {self._session_ip}, not {ip}")
        if self._session is None:
            await self._login("no session")

    # -- sessions -------------------------------------------------------------------------------

    async def _resume_or_login(self) -> None:
        saved = await self._session_file.load() if self._session_file else None
        ip = str(self.egress_ip) if self.egress_ip else None
        if (
            saved is not None
            and isinstance(self.broker, ResumableSession)
            and saved.broker == self.broker.name
            and saved.ip == ip
            and saved.created_at.astimezone(IST).date() == self._now().astimezone(IST).date()
            and not self._relogin_due(saved.created_at)
        ):
            try:
                session = await self.broker.resume_session(saved.data)
                await self.broker.orders()  # proves the saved tokens still work
            except BrokerError:
                log.info("saved session is no longer valid; logging in")
            else:
                self._adopt(session, self.egress_ip, resumed=True)
                log.info("resumed the saved broker session from %s", saved.created_at)
                return
        await self._login("start-up")

    async def _login(self, reason: str) -> None:
        """Create a session (serialized: concurrent callers share one login). Failures back off
        exponentially and are announced once per streak."""
        async with self._login_lock:
            if self._next_login is not None and self._now() < self._next_login:
                raise UserError(
                    "no_session",
                    f"Logging in to the broker failed ({self._last_error}); I will try again at "
                    f"{self._next_login.astimezone(IST):%H:%M:%S} IST.",
                )
            ip = self.egress_ip
            log.info("logging in to %s (%s)", self.broker.name, reason)
            otp = await self._totp.fresh_code() if self._totp else None
            try:
                session = await self.broker.login(otp)
            except BrokerError as exc:
                self._failures += 1
                self._last_error = exc.message
                delay = min(timedelta(seconds=5 * 2 ** (self._failures - 1)), MAX_BACKOFF)
                self._next_login = self._now() + delay
                if self._failures == 1:
                    await self._notify(LoginFailing(self.broker.name, exc.message))
                self._session = None
                self._update_gate()
                raise
            recovered = self._failures > 0
            self._failures, self._next_login, self._last_error = 0, None, None
            self._adopt(session, ip)
            await self._save(session, ip)
            await self._notify(
                SessionCreated(self.broker.name, str(ip) if ip else None, reason, recovered)
            )

    def _adopt(self, session: SessionInfo, ip: IPAddress | None, *, resumed: bool = False) -> None:
        self._session, self._session_ip, self._resumed = session, ip, resumed
        self._update_gate()

    async def _save(self, session: SessionInfo, ip: IPAddress | None) -> None:
        if self._session_file is None or not isinstance(self.broker, ResumableSession):
            return
        data = self.broker.export_session()
        if data:
            saved = SavedSession(
                self.broker.name, session.account, session.created_at, str(ip) if ip else None, data
            )
            await self._session_file.save(saved)

    def _next_daily_relogin(self, created: datetime) -> datetime:
        local = created.astimezone(IST)
        at = datetime.combine(local.date(), self._relogin_at, tzinfo=IST)
        return at if at > local else at + timedelta(days=1)

    def _relogin_due(self, created: datetime | None = None) -> bool:
        created = created or (self._session.created_at if self._session else None)
        return created is not None and self._now() >= self._next_daily_relogin(created)

    async def _remind_ip_change(self) -> None:
        if self._session_file is None:
            return
        ips = [
            str(self.whitelist.primary or "") or None,
            str(self.whitelist.secondary or "") or None,
        ]
        previous = await self._session_file.swap_static_ips(ips)
        if previous is not None:
            await self._notify(StaticIPsChanged(tuple(previous), tuple(ips)))

    # -- calls ----------------------------------------------------------------------------------

    async def _call(self, fn: Callable[[], Awaitable[T]]) -> T:
        """A read: on an expired session log in again and retry once (nothing was executed)."""
        if self._session is None:
            await self._login("no session")
        try:
            return await fn()
        except SessionExpired:
            await self._notify(SessionLapsed(self.broker.name))
            self._session = None
            await self._login("session expired")
            return await fn()

    async def _order_call(self, fn: Callable[[], Awaitable[T]]) -> T:
        async def paced() -> T:
            await self._limiter.acquire()
            return await fn()

        await self._open_for_orders()
        try:
            return await self._call(paced)
        except (SessionIPMismatch, IPNotWhitelisted) as exc:
            code = exc.code or ("1037" if isinstance(exc, SessionIPMismatch) else "100008")
            await self.refresh_egress()
            ip = self.egress_ip
            if self.whitelist.configured and not self.whitelist.allows(ip):
                self._update_gate()
                raise UserError(
                    "ip_not_whitelisted",
                    f"The broker refused the order (code {code}) and {self._ip_problem()}. "
                    "Nothing was placed.",
                ) from None
            if not self.whitelist.configured and isinstance(exc, IPNotWhitelisted):
                raise UserError(
                    "ip_not_whitelisted",
                    f"The broker refused the order (code {code}): this server's IP "
                    f"({ip or 'unknown'}) is not whitelisted with it. Nothing was placed. "
                    "Register the IP with your broker and set STATIC_IP_PRIMARY.",
                ) from None
            # The IP is (or may be) whitelisted: these codes mean nothing was placed, so a new
            # session from this IP and a single retry cannot double the order.
            self._session = None
            await self._login(f"the broker answered {code}")
            return await paced()

    def status(self) -> SessionStatus:
        warnings = []
        if not self.whitelist.configured and self._warn_without_whitelist:
            warnings.append(NO_WHITELIST_WARNING)
        if self._skew is not None and abs(self._skew) > MAX_SKEW_SECONDS:
            warnings.append(
                f"This server's clock is off by {self._skew:+.0f} s; TOTP logins fail when it is "
                "more than a few seconds off. Enable NTP (timedatectl set-ntp true)."
            )
        ip = self.egress_ip
        if ip is not None and ip.version == 6:
            warnings.append("The egress IP is IPv6; Kotak currently supports IPv4 whitelisting.")
        reading = self._reading
        return SessionStatus(
            broker=self.broker.name,
            account=self._session.account if self._session else None,
            created_at=self._session.created_at if self._session else None,
            session_ip=str(self._session_ip) if self._session_ip else None,
            egress_ip=str(ip) if ip else None,
            egress_source=reading.source if reading else "",
            egress_checked_at=reading.at if reading else None,
            egress_error=self._egress_error,
            whitelist=self.whitelist.describe(),
            skew_seconds=self._skew,
            last_error=self._last_error,
            next_relogin=(
                self._next_login
                if self._session is None
                else self._next_daily_relogin(self._session.created_at)
            ),
            orders_open=self._blocked is None,
            blocked_reason=self._blocked,
            warnings=tuple(warnings),
            resumed=self._resumed and self._session is not None,
        )

    # -- order calls (gated, rate limited) -----------------------------------------------------

    async def place(self, request: OrderRequest) -> str:
        return await self._order_call(lambda: self.broker.place_order(request))

    async def modify(self, request: ModifyRequest) -> str:
        return await self._order_call(lambda: self.broker.modify_order(request))

    async def cancel(self, order_id: str) -> str:
        return await self._order_call(lambda: self.broker.cancel_order(order_id))

    # -- reads (not IP-checked by brokers) -----------------------------------------------------

    async def instruments(self) -> Sequence[Instrument]:
        return await self.broker.instruments()

    async def quotes(self, instruments: Sequence[Instrument]) -> dict[str, Quote]:
        return await self._call(lambda: self.broker.quotes(instruments))

    async def orders(self) -> list[Order]:
        return await self._call(self.broker.orders)

    async def trades(self) -> list[Trade]:
        return await self._call(self.broker.trades)

    async def positions(self) -> list[Position]:
        return await self._call(self.broker.positions)

    async def holdings(self) -> list[Holding]:
        return await self._call(self.broker.holdings)

    async def funds(self) -> Funds:
        return await self._call(self.broker.funds)

    async def _announce(self, event: AdminEvent) -> None:
        await self._notify(event)
