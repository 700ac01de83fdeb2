"""One conversation, three brokers: a user switching BROKER between paper, kotak and mstock
sees the same bot. The words checked are the bot's own; only the broker underneath differs
(each steered through its own controls: the paper market, the Kotak and mStock simulators)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from brokers.models import InstrumentKind
from brokers.paper import PaperBroker
from brokers.paper.instruments import has_traded
from tests.e2e.harness import ADMIN, BotHarness
from tests.e2e.test_kotak import SEED as KOTAK_SEED
from tests.e2e.test_kotak import kotak_settings
from tests.e2e.test_mstock import PRIMARY, mstock_settings
from tests.e2e.test_mstock import SEED as MSTOCK_SEED
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator
from tests.fakes.mstock_sim import MStockSimulator
from tests.fakes.totp_clock import SkipAheadClock


@dataclass
class Venue:
    """What the conversation needs from one broker: its settings and the market's controls."""

    settings: dict[str, Any]
    order_ids: Callable[[], Awaitable[list[str]]]
    fill: Callable[[str], Awaitable[None]]
    untraded: str  # an option with no LTP
    lot: int


async def _paper(stack: AsyncExitStack, tmp: Path, clock: SkipAheadClock) -> Venue:
    broker = PaperBroker(tmp / "paper.json", capital=Decimal(1_000_000), tick_seconds=0, seed=7)
    options = [i for i in await broker.instruments() if i.kind is InstrumentKind.CALL]
    untraded = next(i for i in options if not has_traded(i))

    async def order_ids() -> list[str]:
        return [o.order_id for o in await broker.orders()]

    async def fill(order_id: str) -> None:
        order = next(o for o in await broker.orders() if o.order_id == order_id)
        broker.set_price(order.key, order.price)

    return Venue({"instance": broker}, order_ids, fill, untraded.key, untraded.lot_size)


async def _kotak(stack: AsyncExitStack, tmp: Path, clock: SkipAheadClock) -> Venue:
    sim = await stack.enter_async_context(KotakSimulator(expected_totp=clock.verifies(KOTAK_SEED)))
    echo = await stack.enter_async_context(FakeIPEcho(PRIMARY))
    sim.egress_ip = PRIMARY

    async def order_ids() -> list[str]:
        return list(sim.orders)

    async def fill(order_id: str) -> None:
        sim.fill(order_id)

    return Venue(kotak_settings(sim, echo), order_ids, fill, sim.untraded_key, 65)


async def _mstock(stack: AsyncExitStack, tmp: Path, clock: SkipAheadClock) -> Venue:
    sim = await stack.enter_async_context(
        MStockSimulator(expected_totp=clock.verifies(MSTOCK_SEED))
    )
    echo = await stack.enter_async_context(FakeIPEcho(PRIMARY))
    sim.egress_ip = PRIMARY

    async def order_ids() -> list[str]:
        return list(sim.orders)

    async def fill(order_id: str) -> None:
        sim.fill(order_id)

    return Venue(mstock_settings(sim, echo), order_ids, fill, sim.untraded_key, 65)


VENUES = {"paper": _paper, "kotak": _kotak, "mstock": _mstock}


@pytest.fixture(params=list(VENUES))
async def venue(
    request: pytest.FixtureRequest, tmp_path: Path, totp_clock: SkipAheadClock
) -> AsyncIterator[Venue]:
    async with AsyncExitStack() as stack:
        yield await VENUES[request.param](stack, tmp_path, totp_clock)


async def test_the_same_conversation_on_every_broker(
    tmp_path: Path, venue: Venue, totp_clock: SkipAheadClock
) -> None:
    async with BotHarness(tmp_path, totp_clock=totp_clock, **venue.settings) as h:
        quote = await h.say(ADMIN, "/quote NSE:SBIN")
        assert "NSE:SBIN 812.35" in quote.plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 10")
        assert "market → limit 816.45 = LTP 812.35 + 0.5%, rounded up to tick 0.05" in card.plain
        placed = await h.confirm(ADMIN, card)
        [order_id] = await venue.order_ids()
        assert order_id in placed.plain

        await venue.fill(order_id)
        fill = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Filled" in m.text), None),
            what="a fill notification",
        )
        assert order_id in fill.plain
        assert "NSE:SBIN" in (await h.say(ADMIN, "/positions")).plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 5 @750")
        await h.confirm(ADMIN, card)
        resting = next(no for no in await venue.order_ids() if no != order_id)
        card = await h.say(ADMIN, f"/cancel {resting}")
        await h.confirm(ADMIN, card, "Cancel sent")
        await h.telegram.wait_for(
            lambda t: any("Cancelled" in m.text for m in t.messages(ADMIN)),
            what="a cancellation notification",
        )

        refused = await h.say(ADMIN, f"/buy {venue.untraded} {venue.lot}")
        assert f"{venue.untraded} has no last traded price" in refused.plain
        assert len(await venue.order_ids()) == 2
