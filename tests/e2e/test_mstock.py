"""The whole bot with BROKER=mstock: the mStock simulator, a fake IP echo and the fake Telegram
server, all on loopback. Only base URLs differ from production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyotp
import pytest

from tests.e2e.harness import ADMIN, BotHarness
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.mstock_sim import MStockSimulator
from tests.fakes.totp_clock import SkipAheadClock

PRIMARY, SECONDARY, ELSEWHERE = "203.0.113.10", "203.0.113.11", "198.51.100.99"
SEED = pyotp.random_base32()


def mstock_settings(sim: MStockSimulator, echo: FakeIPEcho, **extra: Any) -> dict[str, Any]:
    return {
        "broker": "mstock",
        "mstock_base_url": sim.url,
        "mstock_ws_url": sim.ws_url,
        "broker_api_key": sim.client_code,
        "broker_api_secret": sim.api_key,
        "broker_password": sim.password,
        "broker_totp_secret": SEED,
        "static_ip_primary": PRIMARY,
        "static_ip_secondary": SECONDARY,
        "ip_check_urls": echo.url,
        **extra,
    }


@pytest.fixture
async def mparts(
    totp_clock: SkipAheadClock,
) -> AsyncIterator[tuple[MStockSimulator, FakeIPEcho]]:
    async with (
        MStockSimulator(expected_totp=totp_clock.verifies(SEED)) as sim,
        FakeIPEcho(PRIMARY) as echo,
    ):
        sim.egress_ip = PRIMARY
        yield sim, echo


async def test_mstock_conversation(
    tmp_path: Path, mparts: tuple[MStockSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    sim, echo = mparts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **mstock_settings(sim, echo)) as h:
        assert len(sim.calls_of("login")) == 1 and len(sim.calls_of("verifytotp")) == 1
        quote = await h.say(ADMIN, "/quote NSE:SBIN")
        assert "NSE:SBIN 812.35" in quote.plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 10")
        assert "market → limit 816.45 = LTP 812.35 + 0.5%, rounded up to tick 0.05" in card.plain
        placed = await h.confirm(ADMIN, card)
        [call] = sim.calls_of("place")
        sent = call.json
        assert {k: sent[k] for k in ("ordertype", "price", "quantity", "transactiontype")} == {
            "ordertype": "LIMIT",
            "price": "816.45",
            "quantity": "10",
            "transactiontype": "BUY",
        }
        assert (sent["tradingsymbol"], sent["exchange"], sent["producttype"]) == (
            "SBIN-EQ",
            "NSE",
            "DELIVERY",
        )
        assert sent["ordertag"].startswith("TB")
        assert call.headers["x-mirae-version"] == "1"
        assert call.headers["authorization"].startswith("Bearer ")
        [order_id] = sim.orders
        assert order_id in placed.plain

        sim.fill(order_id)
        fill = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Filled" in m.text), None),
            what="a fill notification",
        )
        assert order_id in fill.plain
        positions = await h.say(ADMIN, "/positions")
        assert "NSE:SBIN" in positions.plain

        card = await h.say(ADMIN, "/buy NSE:SBIN 5 @750")
        await h.confirm(ADMIN, card)
        resting = next(no for no in sim.orders if no != order_id)
        card = await h.say(ADMIN, f"/cancel {resting}")
        await h.confirm(ADMIN, card, "Cancel sent")
        assert len(sim.calls_of("cancel")) == 1
        await h.telegram.wait_for(
            lambda t: any("Cancelled" in m.text for m in t.messages(ADMIN)),
            what="a cancellation notification",
        )
        assert sim.orders[resting].status == "Cancelled"

        refused = await h.say(ADMIN, f"/buy {sim.untraded_key} 65")
        assert f"{sim.untraded_key} has no last traded price" in refused.plain
        assert len(sim.calls_of("place")) == 2


async def test_the_ip_refusal_names_the_ips_and_the_key_never_regenerate(
    tmp_path: Path, mparts: tuple[MStockSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    """mStock refuses an order from an unregistered IP with IA403, the code of an expired key
    too: the bot must explain the IP (this host's and the whitelisted ones), not the key."""
    sim, echo = mparts
    settings = mstock_settings(sim, echo, session_check_seconds=3600)
    async with BotHarness(tmp_path, totp_clock=totp_clock, **settings) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 1 @800")
        sim.egress_ip = echo.ip = ELSEWHERE  # the host moved between the card and the tap
        h.telegram.tap(ADMIN, card.message_id, h.confirm_button(card), chat_id=card.chat_id)
        refused = await h.telegram.wait_for_edit(
            ADMIN, card.message_id, lambda t: ELSEWHERE in t, timeout=10
        )
        assert PRIMARY in refused.plain and SECONDARY in refused.plain
        assert "regenerat" not in refused.plain.lower()
        assert "api key" not in refused.plain.lower()
        assert sim.orders == {} and len(sim.calls_of("place")) == 1
        session = await h.say(ADMIN, "/session")
        assert "Trading APIs → API Settings" in session.plain
        assert f"key {sim.api_key[:4]}…" in session.plain
        assert sim.api_key not in session.plain


async def test_an_expired_session_is_recovered_without_sending_twice(
    tmp_path: Path, mparts: tuple[MStockSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    """The place went in, then mStock answered IA401: the bot logs in again, finds the order
    by its tag (through order details: the book has no tag) and adopts it, sending nothing."""
    sim, echo = mparts
    async with BotHarness(tmp_path, totp_clock=totp_clock, **mstock_settings(sim, echo)) as h:
        card = await h.say(ADMIN, "/buy NSE:SBIN 2 @800")
        sim.fail_next("place", "expired_after")
        placed = await h.confirm(ADMIN, card)
        [order_id] = sim.orders
        assert order_id in placed.plain
        assert len(sim.calls_of("place")) == 1
        assert len(sim.calls_of("verifytotp")) == 2
        assert sim.orders[order_id].price == Decimal("800")


async def test_a_fill_arrives_through_the_ticker_feed(
    tmp_path: Path, mparts: tuple[MStockSimulator, FakeIPEcho], totp_clock: SkipAheadClock
) -> None:
    """With the book polled only once a minute, the fill still reaches the chat at once: it
    came over the ticker websocket (ref §7), through the tracker that polls the book."""
    sim, echo = mparts
    settings = mstock_settings(sim, echo, order_poll_seconds=60)
    async with BotHarness(tmp_path, totp_clock=totp_clock, **settings) as h:
        status = await h.say(ADMIN, "/status")
        assert "Order feed: streaming" in status.plain, status.plain
        await h.telegram.wait_for(
            lambda t: any(login.outcome == "acked" for login in sim.feed_logins) or None,
            what="the ticker login acked",
        )
        [upgrade] = sim.calls_of("ticker")
        assert upgrade.query["API_KEY"] == sim.api_key
        card = await h.say(ADMIN, "/buy NSE:SBIN 5 @800")
        await h.confirm(ADMIN, card)
        [order_id] = sim.orders
        [place] = sim.calls_of("place")
        await h.telegram.wait_for(  # the tracker looks at the book once after a place
            lambda t: any(c.at > place.at for c in sim.calls_of("orders")) or None,
            what="the look at the book after the place",
        )
        polls = len(sim.calls_of("orders"))
        sim.fill(order_id)
        fill = await h.telegram.wait_for(
            lambda t: next((m for m in t.messages(ADMIN) if "Filled" in m.text), None),
            what="a fill notification",
            timeout=10,
        )
        assert order_id in fill.plain
        assert len(sim.calls_of("orders")) == polls  # no book read brought the fill
