"""mStock's order updates over the ticker websocket (ref §7) against the simulator, real loopback.

What is asserted comes from ref §7 and §11 item 8: credentials only in the query and in the
`LOGIN:<jwt>` frame, any text reply taken as the ack, update frames in either SDK's shape mapped
like the order book, ticks and odd frames ignored, reconnects with backoff, a re-login's JWT
picked up, and neither the JWT nor the API key in any log record.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from pathlib import Path

import pytest

from brokers.base import StreamsOrders
from brokers.models import ModifyRequest, Order, OrderStatus, OrderType, Product, Side
from brokers.mstock import MStockBroker
from brokers.mstock.feed import login_frame, ticker_url, update_of
from tests.fakes.mstock_sim import SIM_TOTP, MStockSimulator, mstock_config
from tests.unit.brokers.feeds import Stream, place, until


@pytest.fixture
async def fresh(msim: MStockSimulator, tmp_path: Path) -> AsyncIterator[MStockBroker]:
    """An adapter on the simulator, not logged in."""
    broker = MStockBroker(mstock_config(msim, tmp_path / "master"))
    yield broker
    await broker.close()


@pytest.fixture
async def stream(mbroker: MStockBroker) -> AsyncIterator[Stream]:
    s = Stream(mbroker)
    s.start()
    yield s
    await s.stop()


def logins(sim: MStockSimulator, outcome: str) -> int:
    return sum(1 for login in sim.feed_logins if login.outcome == outcome)


def jwt_of(broker: MStockBroker) -> str:
    return (broker.export_session() or {})["jwt"]


async def book_order(broker: MStockBroker, order_id: str) -> Order:
    return next(o for o in await broker.orders() if o.order_id == order_id)


# --------------------------------------------------------------------------- pure helpers


def test_ticker_url_carries_key_and_token_in_the_query() -> None:
    assert ticker_url("wss://ws.mstock.trade", "key1", "h.p.s") == (
        "wss://ws.mstock.trade/?API_KEY=key1&ACCESS_TOKEN=h.p.s"
    )
    # The docs intro writes the host as https; a test host is plain ws (or http).
    assert ticker_url("https://ws.mstock.trade", "k", "t").startswith("wss://ws.mstock.trade/?")
    assert ticker_url("http://127.0.0.1:8123", "k", "t").startswith("ws://127.0.0.1:8123/?")
    assert login_frame("h.p.s") == "LOGIN:h.p.s"  # no space after the colon (ref §7)


def test_both_sdk_frame_shapes_are_read() -> None:
    row = {"orderid": "1", "status": "Pending"}
    assert update_of({"order_status": "order", "orderData": row}) == ("order", row)
    assert update_of({"type": "order", "data": row}) == ("order", row)
    assert update_of({"order_status": "trade", "orderData": row})[0] == "trade"
    assert update_of({"type": "error", "data": "bad"}) == ("error", "bad")
    assert update_of({"something": 1}) == ("", None)


def test_mstock_broker_streams_orders(mbroker: MStockBroker) -> None:
    assert isinstance(mbroker, StreamsOrders)  # what bot/app/run.py's _follow_feed looks for


# --------------------------------------------------------------------------- over loopback


@pytest.mark.parametrize("shape", ["python", "node"])
async def test_lifecycle_updates_arrive_mapped_like_the_book(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream, shape: str
) -> None:
    msim.feed_shape = shape
    await until(lambda: logins(msim, "acked") == 1, "ticker login acked")
    [upgrade] = msim.calls_of("ticker")
    assert upgrade.query == {"API_KEY": msim.api_key, "ACCESS_TOKEN": jwt_of(mbroker)}
    assert "authorization" not in upgrade.headers and "x-privatekey" not in upgrade.headers

    order_id = await place(mbroker, qty=10, tag="life1")
    opened = await stream.next_for(order_id, OrderStatus.OPEN)
    assert (opened.key, opened.quantity, opened.tag) == ("NSE:SBIN", 10, "life1")
    assert opened == await book_order(mbroker, order_id)  # the book's own mapping

    change = ModifyRequest(
        order_id=order_id,
        instrument=await mbroker.resolve("NSE:SBIN"),
        side=Side.BUY,
        quantity=10,
        order_type=OrderType.LIMIT,
        price=Decimal("811.50"),
        product=Product.CNC,
    )
    await mbroker.modify_order(change)
    modified = await stream.next_for(order_id, OrderStatus.OPEN)  # "O-Modified"
    assert modified.price == Decimal("811.50")

    msim.fill(order_id, price="811.40")
    done = await stream.next_for(order_id, OrderStatus.COMPLETE)
    assert (done.filled_quantity, done.average_price) == (10, Decimal("811.40"))
    assert done == await book_order(mbroker, order_id)

    bad = await place(mbroker, qty=5, tag="rej1")
    msim.reject(bad, "RMS:Margin Exceeds")
    assert (await stream.next_for(bad, OrderStatus.REJECTED)).message == "RMS:Margin Exceeds"

    gone = await place(mbroker, qty=5, tag="cxl1")
    await mbroker.cancel_order(gone)
    assert (await stream.next_for(gone, OrderStatus.CANCELLED)).tag == "cxl1"


async def test_ticks_odd_frames_and_a_failing_consumer_do_not_stop_the_feed(
    msim: MStockSimulator, mbroker: MStockBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    stream = Stream(mbroker, fail_first=True)
    seen = stream.seen
    stream.start()
    try:
        await until(lambda: logins(msim, "acked") == 1, "ticker login acked")
        msim.push_feed(bytes(51))  # an LTP tick packet (ref §7)
        msim.push_feed("not json at all")
        msim.push_feed('["a", "list"]')
        msim.push_feed({"order_status": "trade", "orderData": {"orderid": "9", "status": "x"}})
        msim.push_feed({"type": "error", "data": "Invalid token"})
        msim.push_feed({"type": "order", "data": "garbage"})
        msim.push_feed({"type": "order", "data": {"status": "Pending"}})  # no order number
        msim.push_feed({"order_status": "order", "orderData": {"orderid": "1"}})  # no state
        msim.push_feed({"type": "mystery"})
        order_id = await place(mbroker)
        msim.fill(order_id)
        await until(lambda: len(seen) >= 2, "two updates after the consumer's failure")
    finally:
        await stream.stop()
    assert {o.order_id for o in seen} == {order_id}  # nothing from the odd frames
    assert [o.status for o in seen[:2]] == [OrderStatus.OPEN, OrderStatus.COMPLETE]
    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "brokers.mstock.feed"]
    messages = [m for _, m in lines]
    assert sum("not a JSON object" in m for m in messages) == 2
    assert any("ignored a trade frame" in m for m in messages)
    assert any("error frame" in m for m in messages)
    assert not any("Invalid token" in m for m in messages)  # the error's payload stays out
    assert sum("without an order number or state" in m for m in messages) == 3
    assert any("unknown kind" in m for m in messages)
    assert any("on_update failed" in m for m in messages)
    assert all(level <= logging.INFO for level, m in lines if "frame" in m)


async def test_drop_reconnects_and_keeps_delivering(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream
) -> None:
    await until(lambda: logins(msim, "acked") == 1, "ticker login acked")
    first = await place(mbroker, tag="before")
    await stream.next_for(first, OrderStatus.OPEN)
    msim.drop_feeds()
    await until(lambda: logins(msim, "acked") == 2, "login acked after the drop")
    assert msim.feed_connections == 2
    msim.fill(first)
    assert (await stream.next_for(first, OrderStatus.COMPLETE)).filled_quantity == 10
    second = await place(mbroker, tag="after")
    assert (await stream.next_for(second, OrderStatus.OPEN)).tag == "after"


async def test_waits_for_a_session_and_follows_a_relogin(
    msim: MStockSimulator, fresh: MStockBroker
) -> None:
    stream = Stream(fresh)
    stream.start()
    try:
        await asyncio.sleep(0.2)
        assert stream.task is not None and not stream.task.done()  # waiting, not crashed
        assert msim.feed_connections == 0
        await fresh.login(SIM_TOTP)
        await until(lambda: logins(msim, "acked") == 1, "login acked after the first login")
        first = jwt_of(fresh)
        assert msim.feed_logins[0].jwt == first

        await fresh.login(SIM_TOTP)  # the supervisor logs in again: a new JWT
        assert jwt_of(fresh) != first
        await until(lambda: logins(msim, "acked") == 2, "reconnected with the new JWT")
        assert msim.feed_logins[-1].jwt == jwt_of(fresh)
        await until(lambda: msim.open_feeds == 1, "the old connection closed")
        order_id = await place(fresh)
        assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id
    finally:
        await stream.stop()


async def test_an_expired_token_is_refused_with_backoff_until_a_new_login(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream
) -> None:
    await until(lambda: logins(msim, "acked") == 1, "ticker login acked")
    msim.expire_sessions()
    msim.drop_feeds()
    await until(lambda: logins(msim, "rejected") >= 3, "the expired JWT refused, again and again")
    assert stream.task is not None and not stream.task.done()
    started = asyncio.get_running_loop().time()
    rejected = logins(msim, "rejected")
    await asyncio.sleep(0.5)
    # Backoff: FAST caps it at 0.2 s, so half a second holds a few attempts, not hundreds.
    assert logins(msim, "rejected") - rejected <= 0.5 / (0.2 * 0.8) + 1
    assert asyncio.get_running_loop().time() - started >= 0.5
    await mbroker.login(SIM_TOTP)
    await until(lambda: logins(msim, "acked") == 2, "acked with the new session")
    order_id = await place(mbroker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id


async def test_a_wrong_login_frame_or_silence_counts_as_refused(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream
) -> None:
    msim.feed_silent = True
    await until(lambda: logins(msim, "silent") >= 2, "two silent logins")
    await until(lambda: msim.open_feeds <= 1, "silent sockets closed by the client")
    msim.feed_silent = False
    msim.feed_ack = "ok"  # any text is the ack ([OA])
    await until(lambda: logins(msim, "acked") == 1, "acked once the server answers")
    order_id = await place(mbroker)
    assert (await stream.next_for(order_id, OrderStatus.OPEN)).order_id == order_id
    assert msim.open_feeds == 1


async def test_a_refusing_host_is_retried_without_crashing(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream, caplog: pytest.LogCaptureFixture
) -> None:
    msim.feed_refuse = True  # HTTP 503 to every upgrade
    await until(lambda: len(msim.calls_of("ticker")) >= 3, "three refused upgrades")
    assert msim.feed_connections == 0
    assert any("refused the upgrade (HTTP 503)" in r.getMessage() for r in caplog.records)
    msim.feed_refuse = False
    await until(lambda: logins(msim, "acked") == 1, "acked once the host is back")
    assert stream.task is not None and not stream.task.done()


async def test_a_wrong_api_key_is_rejected_at_the_upgrade(
    msim: MStockSimulator, mbroker: MStockBroker, stream: Stream
) -> None:
    msim.api_key = "another-key"  # the key was regenerated on the website
    msim.drop_feeds()
    await until(lambda: logins(msim, "rejected") >= 2, "the old key refused twice")
    assert stream.task is not None and not stream.task.done()


async def test_no_jwt_or_api_key_in_logs(
    msim: MStockSimulator, fresh: MStockBroker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, websockets' included
    stream = Stream(fresh)
    stream.start()
    try:
        await fresh.login(SIM_TOTP)
        await until(lambda: logins(msim, "acked") == 1, "ticker login acked")
        stale = jwt_of(fresh)
        msim.expire_sessions()
        msim.drop_feeds()
        await until(lambda: logins(msim, "rejected") >= 1, "an upgrade refused")
        await fresh.login(SIM_TOTP)
        await until(lambda: logins(msim, "acked") == 2, "acked again")
        order_id = await place(fresh)
        await stream.next_for(order_id, OrderStatus.OPEN)
    finally:
        await stream.stop()
    assert any(r.name == "brokers.mstock.feed" for r in caplog.records)
    # websockets would log the request line and the LOGIN frame truncated: any 10-char piece.
    secrets = (stale, jwt_of(fresh), msim.api_key)
    pieces = {secret[i : i + 10] for secret in secrets for i in range(len(secret) - 9)}
    leaked = sorted(p for p in pieces if p in caplog.text)  # messages and tracebacks
    assert not leaked


async def test_cancel_closes_the_connection(msim: MStockSimulator, mbroker: MStockBroker) -> None:
    s = Stream(mbroker)
    s.start()
    await until(lambda: msim.open_feeds == 1 and logins(msim, "acked") == 1, "feed open")
    await s.stop()
    await until(lambda: msim.open_feeds == 0, "server saw the close")
