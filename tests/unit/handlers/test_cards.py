"""Cards and the words of order events: every order of a batch is on its card, a modify card
shows what goes on the wire, and an unknown outcome never tells the user to send again."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from bot.notify.events import OrderNotFound, OrderRejected
from bot.orders import Outcome, PreparedModify, PreparedOrder, SliceResult
from bot.orders.policy import OrderPlan
from brokers.models import (
    Instrument,
    InstrumentKind,
    MarginCheck,
    Order,
    OrderStatus,
    OrderType,
    Product,
    Side,
)
from handlers.render import card, outcome, render_event
from handlers.render.markup import html_to_plain

D = Decimal
WHEN = datetime(2026, 4, 1, tzinfo=UTC)
FUT = Instrument("NFO", "NIFTY30DEC25FUT", "NIFTY", InstrumentKind.FUTURE, D("0.10"), 65, 1800)


def _batch(slices: int) -> PreparedOrder:
    plan = OrderPlan(
        instrument=FUT, side=Side.BUY, quantity=1755 * slices, order_type=OrderType.LIMIT,
        price=D("24000.10"), trigger_price=None, product=Product.NRML, slices=(1755,) * slices,
        requested_type=OrderType.LIMIT, reference_price=None, explanation=None, lots=27 * slices,
    )  # fmt: skip
    return PreparedOrder("intent-1", plan, WHEN)


def test_a_forty_slice_outcome_lists_every_order_and_says_each_reason_once() -> None:
    unknown = "The broker's reply could not be read, so I don't know yet whether it went through."
    results = (
        *(SliceResult(1755, order_id=f"26040100000{n:04d}") for n in range(30)),
        SliceResult(1755, error=unknown, state="unknown"),
        *(SliceResult(1755, error="not sent: order 31 of this batch has no answer yet",
                      state="skipped") for _ in range(9)),
    )  # fmt: skip
    text = html_to_plain(outcome(Outcome(_batch(40), "unknown", results)))
    assert text.count("✅ Placed: order") == 30
    assert all(f"26040100000{n:04d} (1755)" in text for n in range(30))
    assert text.count("⏳ No answer yet (1755)") == 1
    assert text.count("⏭ Not sent (1755): order 31 of this batch has no answer yet") == 9
    assert text.count(unknown) == 1


def test_a_not_found_order_points_to_the_order_book_never_to_sending_again() -> None:
    results = (SliceResult(10, state="not_found"),)
    on_card = html_to_plain(outcome(Outcome(_batch(1), "unknown", results)))
    pushed = html_to_plain(render_event(OrderNotFound(1, "NSE:SBIN", "BUY", 10, "TB0123456789")))
    for text in (on_card, pushed):
        assert "not found in the order book yet" in text.lower()
        assert "check /orders before sending" in text.lower()
        assert "send it again if" not in text.lower()


def test_a_modify_card_of_a_market_order_shows_the_limit_that_goes_out() -> None:
    order = Order(
        order_id="260401000000555", key="NSE:SBIN", side=Side.BUY, quantity=10,
        order_type=OrderType.MARKET, product=Product.CNC, status=OrderStatus.OPEN,
    )  # fmt: skip
    prepared = PreparedModify(
        "intent-2", order, 20, D("816.45"), None, WHEN, OrderType.LIMIT,
        "market → limit 816.45 = LTP 812.35 + 0.5%, rounded up to tick 0.05",
    )  # fmt: skip
    text = html_to_plain(card(prepared))
    assert "Type MARKET → LIMIT" in text and "Price → 816.45" in text
    assert "LTP 812.35 + 0.5%" in text
    assert "goes out as a LIMIT order" in text


# -- titles, reasons, what a card lists ------------------------------------------------------------


def _one(state: str, **fields: object) -> str:
    result = SliceResult(1755, order_id="260401000000001", state=state, **fields)  # type: ignore[arg-type]
    status = "failed" if state == "rejected" else "done"
    return html_to_plain(outcome(Outcome(_batch(1), status, (result,))))  # type: ignore[arg-type]


def test_the_title_says_the_outcome_and_a_reason_gets_one_full_stop() -> None:
    assert _one("sent").startswith("✅ Placed BUY\n")
    assert _one("filled", filled=1755, average_price=D("24000.10")).startswith("✅ Filled BUY\n")
    assert "filled at 24000.10" in _one("filled", filled=1755, average_price=D("24000.10"))
    assert _one("sent", filled=65).startswith("◐ Partly filled BUY\n")
    assert _one("cancelled").startswith("🚫 Cancelled BUY\n")
    for reason in ("RMS: margin exceeds.", "RMS: margin exceeds"):
        text = _one("rejected", error=reason)
        assert text.startswith("❌ Rejected BUY\n") and "Confirm" not in text
        assert "❌ Rejected: order 260401000000001: RMS: margin exceeds." in text
        assert ".." not in text


def test_a_rejection_push_never_doubles_the_full_stop() -> None:
    pushed = html_to_plain(render_event(OrderRejected(1, "X1", "NSE:SBIN", "BUY", 1, "Bad.")))
    assert pushed.endswith("Reason: Bad.")


def test_a_modify_card_lists_only_what_changes() -> None:
    order = Order(
        order_id="260401000000555", key="NSE:SBIN", side=Side.SELL, quantity=10,
        order_type=OrderType.SL, product=Product.MIS, status=OrderStatus.TRIGGER_PENDING,
        price=D("796.00"), trigger_price=D("800"),
    )  # fmt: skip
    prepared = PreparedModify(
        "intent-3", order, 10, D("786.05"), D("790"), WHEN, OrderType.SL,
        "stop-loss market → SL limit 786.05 = trigger 790.00 − 0.5%, rounded down to tick 0.05",
    )  # fmt: skip
    text = html_to_plain(card(prepared))
    assert "Order 260401000000555: SELL 10 NSE:SBIN" in text
    assert "Price 796.00 → 786.05" in text and "Trigger 800.00 → 790.00" in text
    assert "Quantity" not in text and "Type" not in text


def test_a_card_shows_value_ltp_and_margin_with_a_warning_when_short() -> None:
    plan = _batch(1).plan
    fits = PreparedOrder("i", plan, WHEN, ltp=D("24010"), margin=MarginCheck(D(100), D(200), True))
    text = html_to_plain(card(fits))
    assert "LTP 24010.00" in text and "Value ₹4,21,20,175.50" in text
    assert "Margin ₹100.00 needed, ₹200.00 available" in text and "⚠️" not in text
    short = PreparedOrder("i", plan, WHEN, margin=MarginCheck(D(300), D(200), False))
    assert "⚠️ Margin ₹300.00 needed, ₹200.00 available: not enough" in html_to_plain(card(short))
