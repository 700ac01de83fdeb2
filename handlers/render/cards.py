"""Confirmation cards and their outcomes → Telegram HTML. Every dynamic value goes through `esc`.

`callback_data` carries only a prefix and the intent id; the intent itself is in the store."""

from __future__ import annotations

from bot.notify import Button, Keyboard
from bot.orders import (
    Outcome,
    Prepared,
    PreparedCancel,
    PreparedModify,
    PreparedOrder,
    SliceResult,
)
from brokers.models import OrderType
from handlers.render.markup import esc
from handlers.render.numbers import key_tick, price

CONFIRM_PREFIX = "cf:"
DECLINE_PREFIX = "cx:"

__all__ = [
    "CONFIRM_PREFIX",
    "DECLINE_PREFIX",
    "card",
    "card_with_expiry",
    "confirm_keyboard",
    "expired_card",
    "outcome",
    "progress",
    "send_failed",
]


def confirm_keyboard(intent_id: str) -> Keyboard:
    return [
        [
            Button("✅ Confirm", CONFIRM_PREFIX + intent_id),
            Button("✖️ Cancel", DECLINE_PREFIX + intent_id),
        ]
    ]


def card(prepared: Prepared) -> str:
    """The confirmation card: exactly what will be sent."""
    match prepared:
        case PreparedOrder(plan=plan):
            inst, tick = plan.instrument, plan.instrument.tick_size
            lines = [
                f"<b>Confirm {plan.side.value}</b>",
                f"{plan.side.value} {plan.quantity} {esc(inst.key)} · {plan.product.value}",
            ]
            if plan.lots is not None:
                lots = f"{plan.lots} lot{'s' if plan.lots != 1 else ''}"
                lines.append(f"{lots} of {inst.lot_size} ({plan.quantity} units)")
            if plan.order_type is OrderType.SL:
                lines.append(
                    f"Stop-loss: trigger {price(plan.trigger_price, tick)}, "
                    f"limit {price(plan.price, tick)}"
                )
            else:
                lines.append(f"Limit order at {price(plan.price, tick)}")
            if plan.explanation:
                lines.append(f"<i>{esc(plan.explanation)}</i>")
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
        case PreparedModify(order=order):
            tick = key_tick(order.key)
            lines = [
                "<b>Confirm modify</b>",
                f"Order {esc(order.order_id)}: {order.side.value} {esc(order.key)}",
                f"Quantity {order.quantity} → {prepared.quantity}",
            ]
            if prepared.order_type is not order.order_type:
                lines.append(f"Type {order.order_type.value} → {prepared.order_type.value}")
                lines.append(f"Price → {price(prepared.price, tick)}")
            else:
                lines.append(f"Price {price(order.price, tick)} → {price(prepared.price, tick)}")
            if prepared.trigger_price is not None:
                lines.append(
                    f"Trigger {price(order.trigger_price, tick)} → "
                    f"{price(prepared.trigger_price, tick)}"
                )
            if prepared.explanation:
                lines.append(f"<i>{esc(prepared.explanation)}</i>")
            if order.order_type in (OrderType.MARKET, OrderType.SL_M):
                lines.append(
                    f"{order.order_type.value} orders are not allowed for API trading, so the "
                    f"change goes out as a {prepared.order_type.value} order at the price above."
                )
        case PreparedCancel(order=order):
            lines = [
                "<b>Confirm cancel</b>",
                f"Order {esc(order.order_id)}: {order.side.value} {order.quantity} "
                f"{esc(order.key)} at {price(order.price, key_tick(order.key))} "
                f"({order.status.value.lower()})",
            ]
    return "\n".join(lines)


def card_with_expiry(prepared: Prepared, ttl_seconds: int) -> str:
    return card(prepared) + f"\n\nConfirm within {ttl_seconds} s."


def progress(prepared: Prepared, done: int, total: int) -> str:
    """The card while a batch is being sent."""
    return card(prepared) + f"\n\n⏳ Sending… {done}/{total}"


def send_failed(prepared: Prepared) -> str:
    """The card when sending stopped on a fault of ours: what reached the broker is in the
    order book, and the user must look there before trying again."""
    return (
        card(prepared) + "\n\n⚠️ Something went wrong on my side while sending. Check /orders "
        "to see what reached the broker before you try again."
    )


_VERB = {PreparedOrder: "Placed", PreparedModify: "Modified", PreparedCancel: "Cancel sent"}


def outcome(result: Outcome) -> str:
    """The card, edited in place to show what happened, one line per order. Reasons shared by
    several orders of a batch are written once, under the lines, so a 40-slice batch stays
    readable (and within one message when it can)."""
    text = card(result.prepared)
    if result.status == "declined":
        return text + "\n\n✖️ Cancelled. Nothing was sent."
    verb = _VERB[type(result.prepared)]
    batch = len(result.results) > 1
    lines: list[str] = []
    notes: list[str] = []
    for r in result.results:
        line, note = _line(r, verb, batch)
        lines.append(line)
        if note and note not in notes:
            notes.append(note)
    body = "\n".join(lines)
    if notes:
        body += "\n\n" + "\n".join(esc(n) for n in notes)
    return text + "\n\n" + body


def _line(r: SliceResult, verb: str, batch: bool) -> tuple[str, str | None]:
    """One order's line and the reason to note under the lines (a batch) or on it."""
    qty = f" ({r.quantity})" if batch else ""
    match r.state:
        case "sent":
            return f"✅ {verb}: order {esc(r.order_id)}{qty}", None
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
            return f"❌ Not done{qty}: {esc(r.error or 'refused')}", None


def _reason(r: SliceResult) -> str:
    return (r.error or "").removeprefix("not sent: ") or "the batch stopped"


def expired_card() -> str:
    return "⌛ This confirmation expired; nothing was sent. Send the command again."
