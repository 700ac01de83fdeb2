"""`KotakBroker.pace_order_writes` (`brokers.base.PacesOrderWrites`): the account's rate slot is
awaited at the last moment before an order request is written, after any connect, and for
order calls only, so the time counted is the time the request leaves."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import httpx
import pytest

from brokers.base import PacesOrderWrites
from brokers.kotak import KotakBroker, KotakTimeouts
from brokers.models import Instrument, InstrumentKind, OrderRequest, OrderType, Product, Side
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator

SBIN = Instrument(
    "NSE", "SBIN", "SBI", InstrumentKind.EQUITY, Decimal("0.05"), broker_ref="nse_cm|3045|SBIN-EQ"
)


@pytest.fixture
def kotak_timeouts() -> KotakTimeouts:
    """Order calls give up after 0.5 s without an answer: a pace that waits longer must not
    count against that budget (nothing has been sent while it waits)."""
    return KotakTimeouts(orders=httpx.Timeout(0.5, connect=2.0))


def order(tag: str) -> OrderRequest:
    return OrderRequest(SBIN, Side.BUY, 1, OrderType.LIMIT, Decimal("800"), Product.CNC, tag)


async def test_the_pace_runs_once_per_order_request_before_it_arrives(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    assert isinstance(broker, PacesOrderWrites)
    arrived_before: list[int] = []

    async def pace() -> None:
        arrived_before.append(len([c for c in sim.calls if c.kind in ("place", "cancel")]))

    broker.pace_order_writes(pace)
    await broker.login(SIM_TOTP)
    order_id = await broker.place_order(order("PACE1"))
    await broker.orders()
    await broker.funds()
    await broker.cancel_order(order_id)
    assert arrived_before == [0, 1]  # not for the login or the reads


async def test_nothing_is_written_while_the_pace_waits(
    sim: KotakSimulator, broker: KotakBroker
) -> None:
    go = asyncio.Event()

    async def pace() -> None:
        await go.wait()

    broker.pace_order_writes(pace)
    await broker.login(SIM_TOTP)
    await broker.orders()  # a warm connection is in the pool: the place needs no connect
    placing = asyncio.create_task(broker.place_order(order("PACE2")))
    await asyncio.sleep(0.8)  # longer than the 0.5 s order timeout
    assert sim.calls_of("place") == [] and not placing.done()
    go.set()
    assert await placing in sim.orders
