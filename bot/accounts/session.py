"""The broker session: create it (TOTP login), resume it from disk, renew it daily, back off.

One login at a time, single-flight: callers that notice a missing or expired session while a
login is under way wait for that login and share its outcome, its failure included, instead of
queueing for logins of their own (each would wait for a fresh TOTP step, because brokers refuse a
replayed code, and each would replace the session an order in flight is using). A caller that was
refused with a session that has since been replaced uses the new one (`renew`). Failed logins
back off exponentially (5 s doubling, at most 15 minutes) and are announced once per streak, not
in a loop. Each session remembers the egress IP it was created from, because a broker refuses
order calls from a session created elsewhere (kotak-neo.md §11). Sessions lapse overnight, so a
new one is made daily before the market opens (RELOGIN_TIME, 08:30 IST by default).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.accounts.egress import IPAddress
from bot.accounts.gate import Gate
from bot.accounts.session_file import SavedSession, SessionFile
from bot.accounts.totp import TotpSource
from bot.errors import UserError
from bot.notify.events import (
    AdminEvent,
    LoginFailing,
    SessionCreated,
    SessionLapsed,
    StaticIPsChanged,
)
from brokers.base import Broker, ResumableSession
from brokers.errors import BrokerError
from brokers.models import SessionInfo

log = logging.getLogger(__name__)
IST = ZoneInfo("Asia/Kolkata")
MAX_BACKOFF = timedelta(minutes=15)


class Session:
    """The account's broker session; implements the gate's `SessionState`."""

    def __init__(
        self,
        broker: Broker,
        gate: Gate,
        *,
        totp: TotpSource | None,
        notify: Callable[[AdminEvent], Awaitable[None]],
        session_file: SessionFile | None,
        relogin_at: time,
        now: Callable[[], datetime],
    ) -> None:
        self._broker = broker
        self._gate = gate
        self._totp = totp
        self._notify = notify
        self._session_file = session_file
        self._relogin_at = relogin_at
        self._now = now
        self._session: SessionInfo | None = None
        self._ip: IPAddress | None = None
        self._resumed = False
        self._last_error: str | None = None
        self._failures = 0
        self._next_login: datetime | None = None
        self._login_task: asyncio.Task[None] | None = None

    @property
    def info(self) -> SessionInfo | None:
        return self._session

    @property
    def ip(self) -> IPAddress | None:
        """The egress IP the current session was created from."""
        return self._ip

    @property
    def resumed(self) -> bool:
        """The session was read back from disk, not created by a login."""
        return self._resumed and self._session is not None

    @property
    def last_error(self) -> str | None:
        return self._last_error

    @property
    def next_relogin(self) -> datetime | None:
        """With a session, its daily renewal; without one, when the backoff allows a login."""
        if self._session is None:
            return self._next_login
        daily = self._next_daily_relogin(self._session.created_at)
        ends = self._session.expires_at
        return min(daily, ends) if ends is not None else daily

    # -- start-up ------------------------------------------------------------------------------

    async def remind_ip_change(self) -> None:
        """Tell the admins when STATIC_IP_* differ from the last start (one change per 7 days)."""
        if self._session_file is None:
            return
        whitelist = self._gate.whitelist
        ips = [str(whitelist.primary or "") or None, str(whitelist.secondary or "") or None]
        previous = await self._session_file.swap_static_ips(ips)
        if previous is not None:
            await self._notify(StaticIPsChanged(tuple(previous), tuple(ips)))

    async def resume_or_login(self) -> None:
        """Adopt today's saved session when it came from this IP and still works; else log in."""
        saved = await self._session_file.load() if self._session_file else None
        egress = self._gate.egress_ip
        ip = str(egress) if egress else None
        if (
            saved is not None
            and isinstance(self._broker, ResumableSession)
            and saved.broker == self._broker.name
            and saved.ip == ip
            and saved.created_at.astimezone(IST).date() == self._now().astimezone(IST).date()
            and not self.relogin_due(saved.created_at)
        ):
            try:
                session = await self._broker.resume_session(saved.data)
                await self._broker.orders()  # proves the saved tokens still work
            except BrokerError:
                log.info("saved session is no longer valid; logging in")
            else:
                self._adopt(session, egress, resumed=True)
                log.info("resumed the saved broker session from %s", saved.created_at)
                return
        await self.login("start-up")

    # -- renewal -------------------------------------------------------------------------------

    async def maintain(self) -> None:
        """The timer's session work: log in when there is no session, when the daily re-login
        is due, or when the host moved to another whitelisted IP. A failed login is already
        reported and backed off by `login`, so it does not stop the timer."""
        ip = self._gate.egress_ip
        wrong_ip = self._session is not None and self._ip != ip
        due = self.relogin_due()
        if self._session is None or due or (wrong_ip and self._gate.whitelist.allows(ip)):
            reason = "daily re-login" if due else "the IP changed" if wrong_ip else "no session"
            with contextlib.suppress(BrokerError, UserError):
                await self.login(reason)

    async def renew(
        self, refused: SessionInfo | None, reason: str, *, lapsed: bool = False
    ) -> None:
        """Replace `refused`, the session a call was just refused with, by a new one; once,
        however many callers were refused with it. When another caller has already replaced it,
        the new session is used as it is. `lapsed`: the broker said it expired (announced once).
        The gate is not told when the session is dropped: the login that follows settles it."""
        current = self._session
        if current is not None and current is not refused:
            return
        if current is not None:
            self._session = None
            if lapsed:
                await self._notify(SessionLapsed(self._broker.name))
        await self.login(reason)

    async def login(self, reason: str) -> None:
        """Create a session, single-flight: a caller that arrives while a login is under way
        waits for it and shares its outcome (a failure too) rather than starting another.
        Failures back off exponentially and are announced once per streak. A caller cancelled
        while it waits does not cancel the login the others are waiting for."""
        task = self._login_task
        if task is None or task.done():
            task = asyncio.get_running_loop().create_task(
                self._login(reason), name=f"login-{self._broker.name}"
            )
            task.add_done_callback(_retrieved)
            self._login_task = task
        await asyncio.shield(task)

    async def close(self) -> None:
        """Stop a login still under way (the account is stopping)."""
        task = self._login_task
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, BrokerError, UserError):
                await task

    async def _login(self, reason: str) -> None:
        if self._next_login is not None and self._now() < self._next_login:
            raise UserError(
                "no_session",
                f"Logging in to the broker failed ({self._last_error}); I will try again at "
                f"{self._next_login.astimezone(IST):%H:%M:%S} IST.",
            )
        ip = self._gate.egress_ip
        log.info("logging in to %s (%s)", self._broker.name, reason)
        otp = await self._totp.fresh_code() if self._totp else None
        try:
            session = await self._broker.login(otp)
        except BrokerError as exc:
            self._failures += 1
            self._last_error = exc.message
            delay = min(timedelta(seconds=5 * 2 ** (self._failures - 1)), MAX_BACKOFF)
            self._next_login = self._now() + delay
            if self._failures == 1:
                await self._notify(LoginFailing(self._broker.name, exc.message))
            self._session = None
            self._gate.update(self)
            raise
        recovered = self._failures > 0
        self._failures, self._next_login, self._last_error = 0, None, None
        self._adopt(session, ip)
        await self._save(session, ip)
        await self._notify(
            SessionCreated(self._broker.name, str(ip) if ip else None, reason, recovered)
        )

    def relogin_due(self, created: datetime | None = None) -> bool:
        """Has the daily re-login time passed since `created` (default: the current session),
        or has the current session reached the end its broker gave it (`expires_at`: mStock's
        JWT lasts until midnight at most)?"""
        if created is None and self._session is not None:
            ends = self._session.expires_at
            if ends is not None and self._now() >= ends:
                return True
        created = created or (self._session.created_at if self._session else None)
        return created is not None and self._now() >= self._next_daily_relogin(created)

    def _next_daily_relogin(self, created: datetime) -> datetime:
        local = created.astimezone(IST)
        at = datetime.combine(local.date(), self._relogin_at, tzinfo=IST)
        return at if at > local else at + timedelta(days=1)

    def _adopt(self, session: SessionInfo, ip: IPAddress | None, *, resumed: bool = False) -> None:
        self._session, self._ip, self._resumed = session, ip, resumed
        self._gate.update(self)

    async def _save(self, session: SessionInfo, ip: IPAddress | None) -> None:
        if self._session_file is None or not isinstance(self._broker, ResumableSession):
            return
        data = self._broker.export_session()
        if data:
            where = str(ip) if ip else None
            saved = SavedSession(
                self._broker.name, session.account, session.created_at, where, data
            )
            await self._session_file.save(saved)


def _retrieved(task: asyncio.Task[None]) -> None:
    """Mark a login's failure as seen even when every caller waiting for it was cancelled."""
    if not task.cancelled():
        task.exception()
