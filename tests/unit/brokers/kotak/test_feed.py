"""The Kotak order feed (`/realtime`, ref §9.1) against the simulator over real loopback.

What is asserted comes from ref §9.1: a credential-less upgrade, the `cn` handshake whose encoding
is disputed (raw first, the other form on a drop or silence, the acked form remembered), order
frames in the book's vocabulary mapped like `orders()`, reconnects, and secrets kept out of logs.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from brokers.base import StreamsOrders
from brokers.kotak import KotakBroker
from brokers.kotak.auth import TradeSession
from brokers.kotak.feed import feed_url, handshake_frame
from brokers.models import (
    ModifyRequest,
    OrderStatus,
    OrderType,
    Product,
    Side,
)
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, parse_feed_handshake
from tests.unit.brokers.feeds import Stream, place, until

TOTP = SIM_TOTP


@pytest.fixture
async def sim() -> AsyncIterator[KotakSimulator]:
    async with KotakSimulator(expected_totp=TOTP, stock_count=20) as s:
        yield s


@pytest.fixture
async def stream(broker: KotakBroker) -> AsyncIterator[Stream]:
    s = Stream(broker)
    s.start()
    yield s
    await s.stop()


def acked(sim: KotakSimulator) -> int:
    return sum(1 for h in sim.feed_handshakes if h.outcome == "acked")


# --------------------------------------------------------------------------- pure helpers


def _session(base_url: str, rt_url: str = "") -> TradeSession:
    return TradeSession(
        token="tkn",
        sid="sid",
        base_url=base_url,
        data_center="E21",
        ucc="U1",
        created_at=datetime.now(UTC),
        rt_url=rt_url,
    )


def test_feed_url_follows_rt_url_then_base_url() -> None:
    assert feed_url(_session("https://e21.kotaksecurities.com")) == (
        "wss://e21.kotaksecurities.com/realtime"
    )
    assert feed_url(_session("http://127.0.0.1:8123/some/path?q=1")) == (
        "ws://127.0.0.1:8123/realtime"
    )
    rt = _session("https://e21.kotaksecurities.com", rt_url="wss://e41.kotaksecurities.com/rt")
    assert feed_url(rt) == "wss://e41.kotaksecurities.com/rt"
    assert feed_url(replace(rt, rt_url="https://e43.kotaksecurities.com/realtime")) == (
        "wss://e43.kotaksecurities.com/realtime"
    )


def test_handshake_frames_in_both_encodings() -> None:
    raw = handshake_frame("raw", "tok.en-1", "sid-2")
    assert raw == "{type:cn,Authorization:tok.en-1,Sid:sid-2,src:WEB}"  # SDK 3.0.9 bytes
    assert json.loads(handshake_frame("json", "tok.en-1", "sid-2")) == {
        "type": "cn",
        "Authorization": "tok.en-1",
        "Sid": "sid-2",
        "src": "WEB",
    }
    assert parse_feed_handshake(raw) == (
        "raw",
        {"type": "cn", "Authorization": "tok.en-1", "Sid": "sid-2", "src": "WEB"},
    )


def test_kotak_broker_streams_orders(broker: KotakBroker) -> None:
    assert isinstance(broker, StreamsOrders)


# --------------------------------------------------------------------------- over loopback


async def test_lifecycle_updates_arrive_mapped_like_the_book(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked")
    upgrade = sim.calls_of("realtime")[0]
    assert not {"authorization", "auth", "sid"} & set(upgrade.headers)  # ref §9.1: no credentials
    assert upgrade.query == {}
    assert [h.form for h in sim.feed_handshakes] == ["raw"]  # SDK form first

    order_id = await place(broker, qty=10, tag="life1")
    opened = await stream.next_for(order_id, OrderStatus.OPEN)
    assert (opened.key, opened.quantity, opened.tag) == ("NSE:SBIN", 10, "life1")
    assert opened.price == Decimal("812.00")

    sbin = await broker.resolve("NSE:SBIN")
    change = ModifyRequest(
        order_id=order_id,
        instrument=sbin,
        side=Side.BUY,
        quantity=10,
        order_type=OrderType.LIMIT,
        price=Decimal("811.50"),
        product=Product.CNC,
    )
    await broker.modify_order(change)
    modified = await stream.next_for(order_id, OrderStatus.OPEN)
    assert modified.price == Decimal("811.50")

    sim.fill(order_id, 4, price="811.50")
    partial = await stream.next_for(order_id, OrderStatus.PARTIALLY_FILLED)
    assert partial.filled_quantity == 4
    sim.fill(order_id, price="811.40")
    done = await stream.next_for(order_id, OrderStatus.COMPLETE)
    assert done.filled_quantity == 10
    assert done.average_price == Decimal("811.44")
    assert done == (await broker.order(order_id))  # same mapping as the book

    bad = await place(broker, qty=5, tag="rej1")
    sim.reject(bad, "RMS:Margin Exceeds,Required:4060.00, Available:0.00")
    rejected = await stream.next_for(bad, OrderStatus.REJECTED)
    assert rejected.message == "RMS:Margin Exceeds,Required:4060.00, Available:0.00"

    gone = await place(broker, qty=5, tag="cxl1")
    await broker.cancel_order(gone)
    assert (await stream.next_for(gone, OrderStatus.CANCELLED)).tag == "cxl1"


async def test_json_only_server_gets_json_and_it_is_remembered(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    sim.feed_accepts = "json"
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked")
    assert [(h.form, h.outcome) for h in sim.feed_handshakes] == [
        ("raw", "refused"),
        ("json", "acked"),
    ]
    sim.drop_feeds()
    await until(lambda: acked(sim) == 2, "feed acked again")
    # The reconnect leads with the acked form: no raw attempt in between.
    assert [(h.form, h.outcome) for h in sim.feed_handshakes[2:]] == [("json", "acked")]
    order_id = await place(broker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id


async def test_raw_only_server_is_acked_at_once(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    sim.feed_accepts = "raw"
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked")
    assert [(h.form, h.outcome) for h in sim.feed_handshakes] == [("raw", "acked")]


async def test_silence_counts_as_failure_and_both_forms_are_tried(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    sim.feed_silent = True
    await broker.login(TOTP)
    await until(lambda: len(sim.feed_handshakes) >= 2, "two silent handshakes")
    assert [(h.form, h.outcome) for h in sim.feed_handshakes[:2]] == [
        ("raw", "silent"),
        ("json", "silent"),
    ]
    await until(lambda: sim.open_feeds <= 1, "silent sockets closed by the client")
    sim.feed_silent = False
    await until(lambda: acked(sim) == 1, "feed acked once the server answers")
    order_id = await place(broker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id
    assert sim.open_feeds == 1


async def test_drop_reconnects_and_keeps_delivering(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked")
    first = await place(broker, tag="before")
    await stream.next_for(first, OrderStatus.OPEN)
    sim.drop_feeds()
    await until(lambda: acked(sim) == 2, "feed acked after the drop")
    assert sim.feed_connections == 2
    sim.fill(first)
    assert (await stream.next_for(first, OrderStatus.COMPLETE)).filled_quantity == 10
    second = await place(broker, tag="after")
    assert (await stream.next_for(second, OrderStatus.OPEN)).tag == "after"


async def test_waits_for_a_session_and_follows_a_relogin(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    await asyncio.sleep(0.2)
    assert stream.task is not None and not stream.task.done()  # no session: waiting, not crashed
    assert sim.feed_connections == 0
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked after login")
    first_sid = (broker.export_session() or {})["sid"]
    assert sim.feed_handshakes[0].sid == first_sid

    await broker.login(TOTP)  # the supervisor re-logs in: new token and sid
    new_sid = (broker.export_session() or {})["sid"]
    assert new_sid != first_sid
    await until(lambda: acked(sim) == 2, "feed reconnected with the new session")
    assert sim.feed_handshakes[-1].sid == new_sid
    await until(lambda: sim.open_feeds == 1, "old connection closed")
    order_id = await place(broker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id


async def test_stale_tokens_are_refused_until_a_new_session_appears(
    sim: KotakSimulator, broker: KotakBroker, stream: Stream
) -> None:
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 1, "feed acked")
    sim.expire_sessions()
    sim.drop_feeds()
    await until(
        lambda: sum(h.outcome == "refused" for h in sim.feed_handshakes) >= 2,
        "expired tokens refused in both forms",
    )
    await broker.login(TOTP)
    await until(lambda: acked(sim) == 2, "acked with the new session")
    order_id = await place(broker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id


async def test_odd_frames_are_skipped_and_a_failing_consumer_does_not_stop_the_feed(
    sim: KotakSimulator, broker: KotakBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream = Stream(broker, fail_first=True)
    seen = stream.seen
    stream.start()
    try:
        await broker.login(TOTP)
        await until(lambda: acked(sim) == 1, "feed acked")
        sim.push_feed("not json at all")
        sim.push_feed({"type": "position", "data": {"sym": "SBIN", "flBuyQty": "10"}})
        sim.push_feed({"type": "order", "data": "garbage"})
        sim.push_feed({"type": "order", "data": {"ordSt": "open"}})  # no order number
        sim.push_feed({"type": "order", "data": {"nOrdNo": "1", "qty": "10"}})  # no state
        sim.push_feed({"type": "mystery"})
        order_id = await place(broker)
        await until(lambda: len(seen) >= 2, "two updates after the consumer's failure")
    finally:
        await stream.stop()
    assert {o.order_id for o in seen} == {order_id}  # nothing from the odd frames
    assert [o.status for o in seen[:2]] == [OrderStatus.PENDING, OrderStatus.OPEN]
    debug = [r.getMessage() for r in caplog.records if r.name == "brokers.kotak.feed"]
    assert any("not a JSON object" in m for m in debug)
    assert sum("without an order number or state" in m for m in debug) == 3
    assert any("unknown type" in m for m in debug)
    assert any("on_update failed" in m for m in debug)


async def test_no_token_or_sid_in_logs(
    sim: KotakSimulator, broker: KotakBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, websockets' included
    sim.feed_accepts = "json"  # a refused raw handshake, then an acked JSON one
    s = Stream(broker)
    s.start()
    try:
        await broker.login(TOTP)
        await until(lambda: acked(sim) == 1, "feed acked")
        sim.drop_feeds()
        await until(lambda: acked(sim) == 2, "feed acked again")
        order_id = await place(broker)
        await s.next_for(order_id, OrderStatus.OPEN)
    finally:
        await s.stop()
    session = broker.export_session() or {}
    token, sid = session["token"], session["sid"]
    assert any(r.name.startswith("brokers.kotak.feed") for r in caplog.records)
    assert any("handshake refused" in r.getMessage() for r in caplog.records)
    # websockets would log the handshake frame truncated, so look for any 10-character piece.
    pieces = {secret[i : i + 10] for secret in (token, sid) for i in range(len(secret) - 9)}
    leaked = sorted(p for p in pieces if p in caplog.text)  # messages and tracebacks
    assert not leaked


async def test_cancel_closes_the_connection(sim: KotakSimulator, broker: KotakBroker) -> None:
    s = Stream(broker)
    s.start()
    await broker.login(TOTP)
    await until(lambda: sim.open_feeds == 1 and acked(sim) == 1, "feed open")
    await s.stop()
    await until(lambda: sim.open_feeds == 0, "server saw the close")
