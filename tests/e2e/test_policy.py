"""The order policy seen end to end: what the card shows is exactly what the broker receives."""

from __future__ import annotations

from decimal import Decimal

from brokers.models import Instrument, InstrumentKind, OrderType
from brokers.paper import PaperBroker
from tests.e2e.harness import ADMIN, BotHarness


async def _first(broker: PaperBroker, kind: InstrumentKind, traded: bool) -> Instrument:
    instruments = [i for i in await broker.instruments() if i.kind is kind]
    quotes = await broker.quotes(instruments)
    for inst in instruments:
        if (quotes[inst.key].ltp is not None) == traded:
            return inst
    raise AssertionError(f"no {kind} with traded={traded}")


async def test_market_sell_goes_out_at_the_price_on_the_card(harness: BotHarness) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    card = await harness.say(ADMIN, "/sell NSE:SBIN 4 MIS")
    assert "market → limit 804.25 = LTP 808.30 − 0.5%, rounded down to tick 0.05" in card.plain
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    assert (order.order_type, order.price, order.quantity) == (
        OrderType.LIMIT,
        Decimal("804.25"),
        4,
    )


async def test_option_without_ltp_is_refused_in_plain_words(harness: BotHarness) -> None:
    option = await _first(harness.broker, InstrumentKind.CALL, traded=False)
    reply = await harness.say(ADMIN, f"/buy {option.key} {option.lot_size}")
    assert f"{option.key} has no last traded price" in reply.plain
    assert f"/buy {option.key} {option.lot_size} @" in reply.plain
    assert reply.reply_markup is None
    assert await harness.broker.orders() == []


async def test_option_quantity_must_be_whole_lots(harness: BotHarness) -> None:
    option = await _first(harness.broker, InstrumentKind.CALL, traded=True)
    reply = await harness.say(ADMIN, f"/buy {option.key} {option.lot_size + 5}")
    assert f"trades in lots of {option.lot_size}" in reply.plain
    card = await harness.say(ADMIN, f"/buy {option.key} {option.lot_size * 2}")
    assert f"2 lots of {option.lot_size}" in card.plain


async def test_stop_loss_market_goes_out_as_stop_loss_limit(harness: BotHarness) -> None:
    harness.broker.set_price("NSE:SBIN", Decimal("808.30"))
    card = await harness.say(ADMIN, "/sell NSE:SBIN 10 sl=794 MIS")
    assert "Stop-loss: trigger 794.00, limit 790.00" in card.plain
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    assert order.order_type is OrderType.SL
    assert (order.trigger_price, order.price) == (Decimal("794"), Decimal("790.00"))


async def test_an_off_tick_limit_is_refused_with_the_nearest_prices(harness: BotHarness) -> None:
    reply = await harness.say(ADMIN, "/buy NSE:SBIN 1 @812.53")
    assert reply.plain == "812.53 is not a multiple of the tick 0.05; use 812.50 or 812.55."


async def test_above_freeze_quantity_goes_out_as_slices_in_one_batch(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**9), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        future = next(
            i
            for i in await broker.instruments()
            if i.kind is InstrumentKind.FUTURE and i.underlying == "NIFTY"
        )
        assert (future.lot_size, future.freeze_qty) == (65, 1800)
        card = await h.say(ADMIN, f"/buy {future.key} 3900")
        assert "sent as 3 orders of 1755 + 1755 + 390" in card.plain
        card = await h.say(ADMIN, f"/buy {future.key} 3900")
        text = (await h.confirm(ADMIN, card)).plain
        assert text.count("Placed: order") == 3
        quantities = sorted(o.quantity for o in await broker.orders())
        assert quantities == [390, 1755, 1755]
        assert len({o.tag for o in await broker.orders()}) == 3


async def test_a_batch_beyond_the_rate_window_shows_progress(tmp_path) -> None:  # type: ignore[no-untyped-def]
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(10**10), tick_seconds=0)
    async with BotHarness(tmp_path, instance=broker) as h:
        future = next(
            i
            for i in await broker.instruments()
            if i.kind is InstrumentKind.FUTURE and i.underlying == "NIFTY"
        )
        card = await h.say(ADMIN, f"/buy {future.key} {1755 * 12}")
        assert "sent as 12 orders" in card.plain
        await h.tap(ADMIN, card, h.button(card, "Confirm"))
        done = await h.telegram.wait_for_edit(
            ADMIN, card.message_id, lambda t: t.count("Placed: order") == 12, timeout=10
        )
        progress = [t for t in done.edit_texts if "Sending… " in t]
        assert progress and "Sending… 12/12" in progress[-1]
        assert len(await broker.orders()) == 12


async def test_a_limit_outside_the_exchanges_price_protection_is_refused_with_the_range(
    harness: BotHarness,
) -> None:
    """Inside the day's circuit, outside NSE's limit price protection (options above ₹50:
    ±40 % of the LTP): refused before any card, naming the range; its limit itself is allowed."""
    option = await _first(harness.broker, InstrumentKind.CALL, traded=True)
    harness.broker.set_price(option.key, Decimal("60.00"))
    [quote] = (await harness.broker.quotes([option])).values()
    assert quote.upper_circuit is not None and quote.upper_circuit > Decimal(95)
    reply = await harness.say(ADMIN, f"/buy {option.key} {option.lot_size} @95")
    assert reply.plain == (
        f"The limit 95.00 is outside the exchange's price protection range for {option.key}: "
        "36.00 to 84.00 around the last price 60.00 (options above 50.00: ±40%); the exchange "
        "would reject it."
    )
    assert reply.reply_markup is None
    card = await harness.say(ADMIN, f"/buy {option.key} {option.lot_size} @84")
    await harness.confirm(ADMIN, card)
    [order] = await harness.broker.orders()
    assert (order.order_type, order.price) == (OrderType.LIMIT, Decimal("84"))
