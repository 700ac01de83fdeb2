"""The IP gate: which address this host's traffic leaves from, and whether orders may go out.

Since 1 April 2026 brokers accept place/modify/cancel only from a whitelisted static IP and only
with a session created from that same IP (Kotak's notice; kotak-neo.md §11). Reads are not
checked. So the gate keeps the last good egress reading (IP services, overridden by the broker's
own view when it has one), and closes for orders, before anything leaves, when that IP is unknown
or not whitelisted: the broker would refuse anyway, and a refusal is better said in plain words
than learnt from a rejection. Each change of verdict is announced once to the admins.

A reading has a maximum age (`max_age`, the account's three check intervals): when the IP
services have not answered for longer, the host may have moved meanwhile, so the IP counts as
unknown and orders are blocked with that reason instead of trusting an old answer for ever.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from bot.accounts.egress import EgressChecker, EgressReading, IPAddress, parse_ip
from bot.clock import utcnow
from bot.errors import UserError
from bot.notify.events import AdminEvent, EgressIPChanged, OrdersBlocked, OrdersOpen
from brokers.base import Broker, ReportsClientIP, ReportsServerClock
from brokers.errors import BrokerError
from brokers.models import SessionInfo


@dataclass(frozen=True, slots=True)
class Whitelist:
    """The static IPs registered with the broker (STATIC_IP_PRIMARY/SECONDARY)."""

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


class SessionState(Protocol):
    """What the gate's verdict needs to know about the session (`Session` is one): whether
    there is one, and if not, why. Passed in rather than held, so the gate does not depend on
    the session module."""

    @property
    def info(self) -> SessionInfo | None: ...

    @property
    def last_error(self) -> str | None: ...


class Gate:
    def __init__(
        self,
        broker: Broker,
        whitelist: Whitelist,
        egress: EgressChecker | None,
        notify: Callable[[AdminEvent], Awaitable[None]],
        *,
        max_age: timedelta = timedelta(minutes=3),
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.whitelist = whitelist
        self._broker = broker
        self._egress = egress
        self._notify = notify
        self._max_age = max_age
        self._now = now
        self._reading: EgressReading | None = None  # the last one that found an address
        self._read_at: datetime | None = None  # when it was taken, on our clock
        self._egress_error: str | None = None
        self._skew: float | None = None
        self._blocked: str | None = None
        self._notices: set[asyncio.Task[None]] = set()

    @property
    def egress_ip(self) -> IPAddress | None:
        """The egress IP, or None when it is unknown: never found, or last found more than
        `max_age` ago."""
        if self._reading is None or self._stale_for() is not None:
            return None
        return self._reading.ip

    def _stale_for(self) -> timedelta | None:
        """How old the last good reading is, when it is older than `max_age`."""
        if self._read_at is None:
            return None
        age = self._now() - self._read_at
        return age if age > self._max_age else None

    @property
    def reading(self) -> EgressReading | None:
        """The last reading that found an address (an unanswered check keeps the previous,
        however old: `egress_ip` is what decides)."""
        return self._reading

    @property
    def egress_error(self) -> str | None:
        """Why the latest check found no address; None once one answers."""
        return self._egress_error

    @property
    def skew_seconds(self) -> float | None:
        return self._skew

    @property
    def blocked(self) -> str | None:
        """Why orders are closed, as last announced; None when they are open."""
        return self._blocked

    async def close(self) -> None:
        if self._egress is not None:
            await self._egress.close()

    # -- the egress reading ----------------------------------------------------------------

    async def refresh(self, session: SessionState) -> EgressReading | None:
        """Ask the IP services, and the broker when it can tell; the broker wins when they
        differ, because its view is the one that decides whether it refuses an order."""
        if self._egress is None:
            return self._reading
        reading = await self._egress.check()
        self._skew = self._broker_skew()
        if self._skew is None:
            self._skew = reading.skew_seconds
        broker_ip = await self._broker_ip(session)
        if broker_ip is not None and broker_ip != reading.ip:
            reading = EgressReading(broker_ip, "broker", reading.at, reading.skew_seconds)
        if reading.ip is None:
            self._egress_error = reading.error
            self.update(session)  # the last good reading may just have grown too old
            return self._reading
        previous = self._reading.ip if self._reading else None
        self._reading, self._read_at, self._egress_error = reading, self._now(), None
        if previous is not None and previous != reading.ip:
            await self._notify(EgressIPChanged(str(previous), str(reading.ip)))
        self.update(session)
        return reading

    def _broker_skew(self) -> float | None:
        if isinstance(self._broker, ReportsServerClock):
            return self._broker.clock_skew_seconds
        return None

    async def _broker_ip(self, session: SessionState) -> IPAddress | None:
        if session.info is None or not isinstance(self._broker, ReportsClientIP):
            return None
        try:
            return parse_ip(await self._broker.client_ip() or "")
        except BrokerError:
            return None

    # -- the verdict ----------------------------------------------------------------------

    def ip_problem(self) -> str | None:
        """Why the broker would refuse an order from this host, or None. Without a whitelist
        configured the broker decides (the gate stays open)."""
        if not self.whitelist.configured:
            return None
        ip = self.egress_ip
        stale = self._stale_for()
        if stale is not None:
            return (
                f"the IP check services have not answered for {_minutes(stale)} "
                f"({self._egress_error or 'no answer'}), so I no longer know this server's IP "
                "address and cannot tell whether the broker would accept orders from it"
            )
        if ip is None:
            return (
                "I could not find out this server's IP address "
                f"({self._egress_error or 'no answer'}), so I cannot tell whether the broker "
                "would accept orders from it"
            )
        if not self.whitelist.allows(ip):
            return (
                f"this server's IP address is {ip}, but the IPs whitelisted with your broker "
                f"are {self.whitelist.describe()}. Run the bot on a whitelisted host, or register "
                "this IP with your broker (a change is allowed once every 7 days) and update "
                "STATIC_IP_PRIMARY/STATIC_IP_SECONDARY"
            )
        return None

    def check_orders_open(self) -> None:
        """Raise the plain refusal when the IP gate is closed; called before a confirmation card
        is shown, so the user is not asked to confirm what cannot be sent."""
        problem = self.ip_problem()
        if problem is not None:
            raise UserError("orders_blocked", f"Orders are blocked: {problem}. Nothing was sent.")

    def update(self, session: SessionState) -> None:
        """Recompute the verdict (IP first, then the session) and announce a change once."""
        problem = self.ip_problem()
        if problem is None and session.info is None:
            problem = f"there is no broker session ({session.last_error or 'not logged in yet'})"
        if problem != self._blocked:
            previous, self._blocked = self._blocked, problem
            if problem:
                self._spawn_notice(OrdersBlocked(self._broker.name, problem))
            elif previous:
                self._spawn_notice(OrdersOpen(self._broker.name))

    def _spawn_notice(self, event: AdminEvent) -> None:
        """The verdict changes inside sync bookkeeping; the notice goes out on its own task."""
        task = asyncio.get_running_loop().create_task(self._announce(event))
        self._notices.add(task)
        task.add_done_callback(self._notices.discard)

    async def settle(self) -> None:
        """Wait until every verdict change announced so far has been told: the wiring holds
        the start-up transitions back for one start-up message, so none may arrive late."""
        await asyncio.gather(*self._notices)

    async def _announce(self, event: AdminEvent) -> None:
        await self._notify(event)


def _minutes(age: timedelta) -> str:
    seconds = int(age.total_seconds())
    return f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
