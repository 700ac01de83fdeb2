"""The Kotak adapter's contract driver: it steers `tests/fakes/kotak_sim.py` over loopback.

The codes and texts in `arm` are the simulator's copies of Kotak's own (ref §8, §11): they are
what the adapter must hand through to the core as `code` and `message`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from types import MappingProxyType

from brokers.kotak import KotakBroker
from brokers.models import SessionInfo
from tests.contract.driver import Expect, Failure
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator

NOT_WHITELISTED_IP = "198.51.100.7"  # TEST-NET-2: never in the simulator's whitelist


def _stamp(day: date) -> str:
    return f"{day:%d}{day:%b}{day:%y}".upper()


class KotakDriver:
    """`BrokerDriver` for `KotakBroker` against a running `KotakSimulator`."""

    name = "kotak"
    equity = "NSE:SBIN"
    # The simulator's limits: CollateralValue + RmsPayInAmt - RmsPayOutAmt + Collateral (ref §6.3).
    opening_available = Decimal("106500.00")
    unsupported: Mapping[Failure, str] = MappingProxyType({})

    def __init__(self, sim: KotakSimulator, broker: KotakBroker) -> None:
        self.sim = sim
        self.broker = broker
        self.account = sim.ucc
        self.option = f"NFO:NIFTY{_stamp(sim.expiries['month1'])}24000CE"
        self.untraded_option = sim.untraded_key  # quoted with ltp "0" (ref §7.1)

    async def login(self) -> SessionInfo:
        return await self.broker.login(SIM_TOTP)

    async def fill(self, order_id: str) -> None:
        self.sim.fill(order_id)

    async def holding(self) -> tuple[str, int]:
        """The simulator's account starts with 10 SBIN in its holdings (ref §6.2 sample)."""
        [row] = self.sim.holdings
        return f"NSE:{row['symbol']}", int(row["quantity"])

    async def arm(self, failure: Failure) -> Expect:
        sim = self.sim
        if failure is Failure.THROTTLED:
            sim.fail_next("place", "throttle")  # HTTP 429, Retry-After: 3, gateway fault body
            return Expect(code="429", retry_after=3.0)
        if failure is Failure.PLACE_TIMEOUT:
            sim.fail_next("place", "timeout")  # the order is created, the reply hangs
            return Expect()
        if failure is Failure.IP_NOT_WHITELISTED:
            assert NOT_WHITELISTED_IP not in sim.whitelisted_ips
            sim.egress_ip = NOT_WHITELISTED_IP
            return Expect(code="100008", message="unauthorized")
        if failure is Failure.SESSION_IP_MISMATCH:
            sim.egress_ip = next(ip for ip in sorted(sim.whitelisted_ips) if ip != sim.egress_ip)
            return Expect(code="1037", message="session ip doesnt match with reqest ip")
        if failure is Failure.SESSION_EXPIRED:
            sim.expire_sessions()
            return Expect(code="403")  # reports answer HTTP 403 "Invalid session" (ref §8)
        assert failure is Failure.REJECTED
        return Expect(code="1009", message="please provide valid lotwise quantity")
