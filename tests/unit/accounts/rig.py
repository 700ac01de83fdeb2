"""An account against the Kotak simulator and a fake IP echo service, over loopback.

The simulator decides 100008/1037 from the same simulated egress IP the echo service reports, so
moving `echo.ip` and `sim.egress_ip` together is the host moving between addresses. Order calls
time out after half a second and the simulator holds a hung reply for one, so an unanswered
place is quick.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import httpx
import pyotp

from bot.accounts import (
    Account,
    EgressChecker,
    SessionFile,
    SlidingWindowLimiter,
    TotpSource,
    Whitelist,
)
from bot.notify import AdminEvent
from brokers.kotak import KotakBroker, KotakTimeouts
from brokers.models import OrderRequest, OrderType, Product, Side
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator, kotak_config
from tests.fakes.totp_clock import SkipAheadClock

PRIMARY, SECONDARY, ELSEWHERE = "203.0.113.10", "203.0.113.11", "198.51.100.99"
SEED = pyotp.random_base32()
# A re-login does not wait 30 real seconds for the next TOTP step, yet every code is still
# checked against the right step.
CLOCK = SkipAheadClock()
HANG_SECONDS = 1.0  # the simulator's hung reply; order calls give up after 0.5 s
TIMEOUTS = KotakTimeouts(orders=httpx.Timeout(0.5, connect=2.0))


@dataclass
class Rig:
    sim: KotakSimulator
    echo: FakeIPEcho
    account: Account
    notices: list[AdminEvent]
    tmp: Path
    codes: list[str] = field(default_factory=list)

    def move_to(self, ip: str) -> None:
        self.sim.egress_ip = ip
        self.echo.ip = ip

    def logins(self) -> int:
        return len(self.sim.calls_of("login"))

    def places(self) -> int:
        return len(self.sim.calls_of("place"))

    async def order(self, tag: str = "TBTEST", key: str = "NSE:SBIN", qty: int = 1) -> OrderRequest:
        inst = await self.account.broker.resolve(key)  # type: ignore[attr-defined]
        price = Decimal("800") if key == "NSE:SBIN" else Decimal("10")
        return OrderRequest(inst, Side.BUY, qty, OrderType.LIMIT, price, Product.CNC, tag=tag)


def make_account(
    sim: KotakSimulator, echo: FakeIPEcho, tmp: Path, notices: list[AdminEvent]
) -> Account:
    async def note(event: AdminEvent) -> None:
        notices.append(event)

    return Account(
        KotakBroker(kotak_config(sim, tmp / "master", timeouts=TIMEOUTS)),
        SlidingWindowLimiter(10, 1.0),
        whitelist=Whitelist.of(PRIMARY, SECONDARY),
        egress=EgressChecker([echo.url]),
        totp=TotpSource(SEED, clock=CLOCK, sleep=CLOCK.sleep),
        notify=note,
        session_file=SessionFile(tmp, "kotak"),
        check_every=3600,
    )
