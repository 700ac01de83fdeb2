"""The mStock adapter's contract driver: it steers `tests/fakes/mstock_sim.py` over loopback.

The codes and texts in `arm` are the simulator's copies of mStock's own (ref §3, §9): what the
adapter must hand through to the core as `code` and `message`.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType

from brokers.models import SessionInfo
from brokers.mstock import MStockBroker
from tests.contract.driver import Expect, Failure
from tests.fakes.mstock_sim import IP_REFUSAL, LOT_REFUSAL, SIM_TOTP, MStockSimulator

NOT_REGISTERED_IP = "198.51.100.7"  # TEST-NET-2: never registered on the simulator's key

_UNSUPPORTED = MappingProxyType(
    {
        Failure.SESSION_IP_MISMATCH: "mStock documents no binding of a session to the IP it was "
        "created from and no code for it (mstock-typeb.md §9); its one IP refusal is IA403",
    }
)


class MStockDriver:
    """`BrokerDriver` for `MStockBroker` against a running `MStockSimulator`."""

    name = "mstock"
    equity = "NSE:SBIN"
    opening_available = Decimal("100000.00")  # the simulator's AVAILABLE_BALANCE (ref §5.4)
    unsupported: Mapping[Failure, str] = _UNSUPPORTED

    def __init__(self, sim: MStockSimulator, broker: MStockBroker) -> None:
        self.sim = sim
        self.broker = broker
        self.account = sim.client_code
        self.option = next(
            k for k, i in sim.instruments.items() if k.endswith("24000CE") and i.lot > 1
        )
        self.untraded_option = sim.untraded_key  # quoted with ltp 0 (ref §6.1)

    async def login(self) -> SessionInfo:
        return await self.broker.login(SIM_TOTP)

    async def fill(self, order_id: str) -> None:
        self.sim.fill(order_id)

    async def holding(self) -> tuple[str, int]:
        """The simulator's account holds 10 SBIN (ref §5.3 shape, found by `symboltoken`)."""
        [row] = self.sim.holdings
        return "NSE:SBIN", int(row["quantity"])

    async def arm(self, failure: Failure) -> Expect:
        sim = self.sim
        if failure is Failure.THROTTLED:
            sim.fail_next("place", "throttle")  # HTTP 429, Retry-After: 2 (no documented body)
            return Expect(code="429", retry_after=2.0)
        if failure is Failure.PLACE_TIMEOUT:
            sim.fail_next("place", "timeout")  # the order is made, the reply hangs
            return Expect()
        if failure is Failure.IP_NOT_WHITELISTED:
            sim.egress_ip = NOT_REGISTERED_IP
            return Expect(code="IA403", message=IP_REFUSAL)
        if failure is Failure.SESSION_EXPIRED:
            sim.expire_sessions()
            return Expect(code="IA401", message="Invalid request. Please try again.")
        assert failure is Failure.REJECTED
        lot = sim.instruments[self.option].lot
        return Expect(code="400", message=f"{LOT_REFUSAL} {lot}")
