"""The call policy: which broker calls may be retried, and how.

- A read on an expired session logs in again and is retried once: nothing was executed.
- An order call (place, modify, cancel) passes the gate first (fail closed: nothing leaves when
  the broker would refuse it), makes a new session when the current one came from another IP,
  and is paced by the account's one rate limiter (10 per second, rules.md §1.2).
- An IP refusal re-checks the egress IP at once. On a non-whitelisted IP it explains and does not
  retry. Otherwise it makes a new session from this IP and retries once: an IP refusal means
  nothing was placed, so that retry cannot double an order. No other failure of an order call is
  retried (a timeout is an unknown outcome, for the tracker to reconcile).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from bot.accounts.gate import Gate
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session import Session
from bot.errors import UserError
from brokers.errors import IPNotWhitelisted, SessionExpired, SessionIPMismatch

T = TypeVar("T")


def _why(exc: IPNotWhitelisted | SessionIPMismatch) -> str:
    if isinstance(exc, SessionIPMismatch):
        return "the session was created from another IP address"
    return "this server's IP address is not whitelisted"


def ip_refusal(exc: IPNotWhitelisted | SessionIPMismatch) -> str:
    """'The broker refused the order because …', worded from the error's class, with the
    broker's own code when it gave one (for a support ticket). No full stop: callers go on."""
    code = f" (broker code {exc.code})" if exc.code else ""
    return f"The broker refused the order because {_why(exc)}{code}"


class CallPolicy:
    def __init__(self, gate: Gate, session: Session, limiter: SlidingWindowLimiter) -> None:
        self._gate = gate
        self._session = session
        self._limiter = limiter

    async def read(self, fn: Callable[[], Awaitable[T]]) -> T:
        """A read: on an expired session log in again and retry once (nothing was executed)."""
        if self._session.info is None:
            await self._session.login("no session")
        try:
            return await fn()
        except SessionExpired:
            await self._session.lapsed()
            await self._session.login("session expired")
            return await fn()

    async def order(self, fn: Callable[[], Awaitable[T]]) -> T:
        """An order call: gated, from a session of this IP, rate limited, retried only after an
        IP refusal on a whitelisted IP."""

        async def paced() -> T:
            await self._limiter.acquire()
            return await fn()

        await self._open_for_orders()
        try:
            return await self.read(paced)
        except (SessionIPMismatch, IPNotWhitelisted) as exc:
            await self._gate.refresh(self._session)
            ip = self._gate.egress_ip
            whitelist = self._gate.whitelist
            if whitelist.configured and not whitelist.allows(ip):
                self._gate.update(self._session)
                raise UserError(
                    "ip_not_whitelisted",
                    f"{ip_refusal(exc)}, and {self._gate.ip_problem()}. Nothing was placed.",
                ) from None
            if not whitelist.configured and isinstance(exc, IPNotWhitelisted):
                raise UserError(
                    "ip_not_whitelisted",
                    f"{ip_refusal(exc)}; this server's IP address is {ip or 'unknown'}. Nothing "
                    "was placed. Register the IP with your broker and set STATIC_IP_PRIMARY.",
                ) from None
            # The IP is (or may be) whitelisted: nothing was placed, so a new session from this
            # IP and a single retry cannot double the order.
            self._session.forget()
            await self._session.login(f"the broker refused an order: {_why(exc)}")
            return await paced()

    async def _open_for_orders(self) -> None:
        """Fail closed: refuse before anything leaves when the broker would refuse anyway."""
        self._gate.check_orders_open()
        ip = self._gate.egress_ip
        session = self._session
        if session.info is not None and self._gate.whitelist.configured and session.ip != ip:
            await session.login(f"the session was created from {session.ip}, not {ip}")
        if session.info is None:
            await session.login("no session")
