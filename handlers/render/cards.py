"""Confirmation cards and their outcomes → Telegram HTML. Every dynamic value goes through `esc`.

A card tells the truth all its life: before the tap it says exactly what will be sent (and what
it is worth, against the margin when the broker can tell); after, its title and lines say what
became of it (placed, rejected, filled, expired…), edited in place as the outcome becomes known.

`callback_data` carries only a prefix and the intent id; the intent itself is in the store."""

from __future__ import annotations

from bot.market.hours import Phase
from bot.notify import Button, Keyboard
from bot.orders import (
    Outcome,
    Prepared,
    PreparedCancel,
    PreparedExits,
    PreparedModify,
    PreparedOrder,
    SliceResult,
)
from bot.orders.outcomes import OutcomeStatus
from bot.orders.policy import OrderPlan
from bot.orders.sessions import window_text
from brokers.models import OrderType
from handlers.render.markup import esc
from handlers.render.numbers import key_tick, price, rupees

CONFIRM_PREFIX = "cf:"
DECLINE_PREFIX = "cx:"

__all__ = [
    "CONFIRM_PREFIX",
    "DECLINE_PREFIX",
    "card",
    "card_with_expiry",
    "confirm_keyboard",
    "declined_answer",
    "outcome",
    "progress",
    "send_failed",
    "sentence",
]


def sentence(text: str) -> str:
    """`text` ending in one full stop: a broker's reason may already end in one (or in ! ?)."""
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def confirm_keyboard(prepared: Prepared) -> Keyboard:
    """The card's two buttons, saying what they do: on a cancel card "Cancel" would be
    ambiguous (cancel the order, or cancel the cancelling?)."""
    if isinstance(prepared, PreparedCancel):
        yes, no = "🗑 Cancel order", "↩️ Keep order"
    elif isinstance(prepared, PreparedOrder) and prepared.plan.amo:
        yes, no = "🌙 Send as AMO", "✖️ Cancel"
    else:
        yes, no = "✅ Confirm", "✖️ Cancel"
    intent_id = prepared.intent_id
    return [[Button(yes, CONFIRM_PREFIX + intent_id), Button(no, DECLINE_PREFIX + intent_id)]]


def declined_answer(prepared: Prepared) -> str:
    """The toast for the card's second button."""
    return "Order kept" if isinstance(prepared, PreparedCancel) else "Cancelled"


def card(prepared: Prepared, title: str | None = None) -> str:
    """The confirmation card: exactly what will be sent, under `title` (default: "Confirm …";
    an outcome's title once answered)."""
    match prepared:
        case PreparedOrder(plan=plan):
            lines = [f"<b>{title or 'Confirm ' + plan.side.value}</b>", *_order_lines(prepared)]
        case PreparedModify():
            lines = [f"<b>{title or 'Confirm modify'}</b>", *_modify_lines(prepared)]
        case PreparedCancel(order=order):
            lines = [
                f"<b>{title or 'Confirm cancel'}</b>",
                f"Order {esc(order.order_id)}: {order.side.value} {order.quantity} "
                f"{esc(order.key)} at {price(order.price, key_tick(order.key))} "
                f"({order.status.value.lower()})",
            ]
        case PreparedExits(plans=plans):
            lines = [f"<b>{title or 'Confirm exits'}</b>", *map(_exit_line, plans)]
            lines.append(
                "Market orders are not allowed for API trading, so each exit goes out as a "
                "limit order at the price shown."
            )
    return "\n".join(lines)


def _exit_line(plan: OrderPlan) -> str:
    """One exit of an exits card: what it sends, and how (a limit, in how many orders)."""
    inst = plan.instrument
    lots = f" ({plan.lots} lot{'s' if plan.lots != 1 else ''})" if plan.lots is not None else ""
    orders = f" · {len(plan.slices)} orders" if len(plan.slices) > 1 else ""
    amo = " · AMO" if plan.amo else ""
    return (
        f"{plan.side.value} {plan.quantity}{lots} {esc(inst.key)} · {plan.product.value} · "
        f"limit {price(plan.price, inst.tick_size)}{orders}{amo}"
    )


def _order_lines(prepared: PreparedOrder) -> list[str]:
    plan = prepared.plan
    inst, tick = plan.instrument, plan.instrument.tick_size
    lines = [f"{plan.side.value} {plan.quantity} {esc(inst.key)} · {plan.product.value}"]
    if plan.lots is not None:
        lots = f"{plan.lots} lot{'s' if plan.lots != 1 else ''}"
        lines.append(f"{lots} of {inst.lot_size} ({plan.quantity} units)")
    if plan.order_type is OrderType.SL:
        lines.append(
            f"Stop-loss: trigger {price(plan.trigger_price, tick)}, limit {price(plan.price, tick)}"
        )
    else:
        lines.append(f"Limit order at {price(plan.price, tick)}")
    if plan.explanation:
        lines.append(f"<i>{esc(plan.explanation)}</i>")
    if prepared.ltp is not None and plan.requested_type is not OrderType.MARKET:
        lines.append(
            f"LTP {price(prepared.ltp, tick)}"
        )  # a market card names it in its explanation
    lines.append(f"Value {rupees(plan.price * plan.quantity)}")
    if prepared.margin is not None:
        m = prepared.margin
        line = f"Margin {rupees(m.required)} needed, {rupees(m.available)} available"
        lines.append(line if m.ok else f"⚠️ {line}: not enough, the broker would reject it")
    if plan.requested_type is OrderType.MARKET:
        lines.append(
            "Market orders are not allowed for API trading, so this goes out as a limit "
            "order at the price above."
        )
    if len(plan.slices) > 1:
        parts = " + ".join(str(q) for q in plan.slices)
        lines.append(
            f"Above the freeze quantity ({inst.freeze_qty}): sent as "
            f"{len(plan.slices)} orders of {parts}."
        )
    return lines + _session_lines(prepared)


def _session_lines(prepared: PreparedOrder) -> list[str]:
    """What the market is doing: closed (and the AMO the order goes as), in its pre-open
    auction, or not known for sure (a year the holiday calendar does not cover)."""
    session, lines = prepared.session, []
    if session is not None:
        state = session.state
        if session.amo_window is not None:
            opens = f"{state.next_open:%a %d %b %H:%M} IST" if state.next_open else "next session"
            lines.append(f"🌙 {esc(state.segment)} is closed ({esc(state.reason)}); opens {opens}.")
            lines.append(
                "Goes as an <b>after-market order (AMO)</b>: the broker holds it and sends it "
                f"to the exchange at the open. AMOs are taken {window_text(session.amo_window)}."
            )
        elif state.phase is Phase.PRE_OPEN and state.pre_open is not None:
            start, end = state.pre_open
            lines.append(
                f"⏰ Pre-open call auction ({start:%H:%M}–{end:%H:%M}): the order takes part in "
                "the auction; what does not match there rests for the 09:15 open."
            )
        if not state.covered:
            lines.append(
                "⚠️ The holiday calendar does not cover this date: it is taken for a trading "
                "day, which may be wrong."
            )
    elif prepared.plan.amo:  # rebuilt from the store
        lines.append("🌙 After-market order (AMO): sent to the exchange at the next open.")
    return lines


def _modify_lines(prepared: PreparedModify) -> list[str]:
    """What the modify changes, and only that (an unchanged value is not a change to confirm)."""
    order = prepared.order
    tick = key_tick(order.key)
    lines = [f"Order {esc(order.order_id)}: {order.side.value} {order.quantity} {esc(order.key)}"]
    if prepared.quantity != order.quantity:
        lines.append(f"Quantity {order.quantity} → {prepared.quantity}")
    retyped = prepared.order_type is not order.order_type
    if retyped:
        lines.append(f"Type {order.order_type.value} → {prepared.order_type.value}")
        lines.append(f"Price → {price(prepared.price, tick)}")
    elif prepared.price != order.price:
        lines.append(f"Price {price(order.price, tick)} → {price(prepared.price, tick)}")
    if prepared.trigger_price is not None and prepared.trigger_price != order.trigger_price:
        lines.append(
            f"Trigger {price(order.trigger_price, tick)} → {price(prepared.trigger_price, tick)}"
        )
    if prepared.explanation:
        lines.append(f"<i>{esc(prepared.explanation)}</i>")
    if order.order_type in (OrderType.MARKET, OrderType.SL_M):
        lines.append(
            f"{order.order_type.value} orders are not allowed for API trading, so the "
            f"change goes out as a {prepared.order_type.value} order at the price above."
        )
    return lines


def card_with_expiry(prepared: Prepared, ttl_seconds: int) -> str:
    return card(prepared) + f"\n\nConfirm within {ttl_seconds} s."


def progress(prepared: Prepared, done: int, total: int) -> str:
    """The card while a batch is being sent."""
    return card(prepared, "⏳ Sending…") + f"\n\n⏳ Sending… {done}/{total}"


def send_failed(prepared: Prepared) -> str:
    """The card when sending stopped on a fault of ours: what reached the broker is in the
    order book, and the user must look there before trying again."""
    return (
        card(prepared, "⚠️ Check /orders")
        + "\n\n⚠️ Something went wrong on my side while sending. Check /orders "
        "to see what reached the broker before you try again."
    )


_VERB = {
    PreparedOrder: "Placed",
    PreparedModify: "Modified",
    PreparedCancel: "Cancel sent",
    PreparedExits: "Placed",
}


def outcome(result: Outcome) -> str:
    """The card, edited in place to show what happened: its title says the outcome, then one
    line per order. Reasons shared by several orders of a batch are written once, under the
    lines, so a 40-slice batch stays readable (and within one message when it can)."""
    text = card(result.prepared, _title(result))
    if result.status == "declined":
        if isinstance(result.prepared, PreparedCancel):
            return text + "\n\n↩️ Kept: the order stays as it is; nothing was sent."
        return text + "\n\n✖️ Cancelled. Nothing was sent."
    if result.status == "expired":
        return text + "\n\n⌛ Not confirmed in time; nothing was sent. Send the command again."
    verb = _VERB[type(result.prepared)]
    batch = len(result.results) > 1
    lines: list[str] = []
    notes: list[str] = []
    for r, key in zip(result.results, _keys(result.prepared), strict=False):
        line, note = _line(r, verb, batch)
        lines.append(line if key is None else f"{esc(key)}: {line}")
        if note and note not in notes:
            notes.append(note)
    body = "\n".join(lines)
    if notes:
        body += "\n\n" + "\n".join(esc(sentence(n)) for n in notes)
    return text + "\n\n" + body


def _keys(prepared: Prepared) -> list[str | None]:
    """Whose order each result is: on an exits card, its instrument (the lines would not say
    otherwise); on any other card, nobody's (one instrument, named above the lines)."""
    if isinstance(prepared, PreparedExits):
        return [p.instrument.key for p in prepared.plans for _ in p.slices]
    return [None] * len(prepared.slices) if isinstance(prepared, PreparedOrder) else [None]


def _title(result: Outcome) -> str:
    """The card's title once answered: what became of it ("❌ Rejected BUY", "✅ Modified")."""
    prepared = result.prepared
    if isinstance(prepared, PreparedOrder):
        return f"{_place_state(result)} {prepared.plan.side.value}"
    if isinstance(prepared, PreparedExits):
        return f"{_place_state(result)} exits"
    kind = "modify" if isinstance(prepared, PreparedModify) else "cancel"
    return _CHANGE_TITLES[kind][result.status]


_CHANGE_TITLES: dict[str, dict[OutcomeStatus, str]] = {
    "modify": {
        "done": "✅ Modified",
        "failed": "❌ Not modified",
        "partial": "❌ Not modified",
        "unknown": "⏳ Checking the modify",
        "declined": "✖️ Modify not sent",
        "expired": "⌛ Expired: modify",
    },
    "cancel": {
        "done": "✅ Cancel sent",
        "failed": "❌ Not cancelled",
        "partial": "❌ Not cancelled",
        "unknown": "⏳ Checking the cancel",
        "declined": "↩️ Order kept",
        "expired": "⌛ Expired: cancel",
    },
}
_PLACE_TITLES: dict[OutcomeStatus, str] = {
    "declined": "✖️ Not sent",
    "expired": "⌛ Expired:",
    "unknown": "⏳ Checking",
    "partial": "⚠️ Partly placed",
}


def _place_state(result: Outcome) -> str:
    fixed = _PLACE_TITLES.get(result.status)
    if fixed is not None:
        return fixed
    states = {r.state for r in result.results}
    if result.status == "failed":
        return "❌ Rejected" if "rejected" in states else "❌ Not placed"
    if states == {"filled"}:
        return "✅ Filled"
    if states == {"cancelled"}:
        return "🚫 Cancelled"
    if any(r.filled for r in result.results):
        return "◐ Partly filled"
    return "✅ Placed"


def _line(r: SliceResult, verb: str, batch: bool) -> tuple[str, str | None]:
    """One order's line and the reason to note under the lines (a batch) or on it."""
    qty = f" ({r.quantity})" if batch else ""
    match r.state:
        case "sent":
            fills = f" · {r.filled} of {r.quantity} filled{_at(r)}" if r.filled else ""
            return f"✅ {verb}: order {esc(r.order_id)}{qty}{fills}", None
        case "filled":
            return f"✅ {verb}: order {esc(r.order_id)}{qty} · filled{_at(r)}", None
        case "cancelled":
            fills = f" after {r.filled} filled" if r.filled else ""
            return f"🚫 {verb}: order {esc(r.order_id)}{qty} · cancelled{fills}", None
        case "rejected":
            reason = r.error or "no reason given"
            if batch:
                return f"❌ Rejected: order {esc(r.order_id)}{qty}: see below", reason
            return f"❌ Rejected: order {esc(r.order_id)}: {esc(sentence(reason))}", None
        case "unknown":
            if batch:
                return f"⏳ No answer yet{qty}: checking the order book", r.error
            return f"⏳ {esc(r.error or 'No answer yet; checking the order book.')}", None
        case "not_found":
            return (
                f"❓ Not found in the order book yet{qty}; check /orders before sending again. "
                "I keep watching it today.",
                None,
            )
        case "lapsed":
            return (
                f"❓ Never found in the order book on its trading day{qty}; check the broker's "
                "order history before sending it again.",
                None,
            )
        case "skipped":
            return f"⏭ Not sent{qty}: {esc(_reason(r))}", None
        case _:
            if batch and r.error:
                return f"❌ Not done{qty}: see below", r.error
            return f"❌ Not done{qty}: {esc(sentence(r.error or 'refused'))}", None


def _at(r: SliceResult) -> str:
    return f" at {price(r.average_price)}" if r.average_price is not None else ""


def _reason(r: SliceResult) -> str:
    return (r.error or "").removeprefix("not sent: ") or "the batch stopped"
