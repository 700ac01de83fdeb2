"""Confirmation cards and their outcomes → Telegram HTML. Every dynamic value goes through `esc`.

`callback_data` carries only a prefix and the intent id; the intent itself is in the store."""

from __future__ import annotations

from bot.notify import Button, Keyboard
from bot.orders.desk import Outcome, Prepared, PreparedCancel, PreparedModify, PreparedOrder
from brokers.models import OrderType
from handlers.render.markup import esc

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
            inst = plan.instrument
            lines = [
                f"<b>Confirm {plan.side.value}</b>",
                f"{plan.side.value} {plan.quantity} {esc(inst.key)} · {plan.product.value}",
            ]
            if plan.lots is not None:
                lines.append(f"{plan.lots} lot{'s' if plan.lots != 1 else ''} of {inst.lot_size}")
            if plan.order_type is OrderType.SL:
                lines.append(f"Stop-loss: trigger {plan.trigger_price}, limit {plan.price}")
            else:
                lines.append(f"Limit order at {plan.price}")
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
            lines = [
                "<b>Confirm modify</b>",
                f"Order {esc(order.order_id)}: {order.side.value} {esc(order.key)}",
                f"Quantity {order.quantity} → {prepared.quantity}",
                f"Price {order.price} → {prepared.price}",
            ]
            if prepared.trigger_price is not None:
                lines.append(f"Trigger {order.trigger_price} → {prepared.trigger_price}")
        case PreparedCancel(order=order):
            lines = [
                "<b>Confirm cancel</b>",
                f"Order {esc(order.order_id)}: {order.side.value} {order.quantity} "
                f"{esc(order.key)} at {order.price} ({order.status.value.lower()})",
            ]
    return "\n".join(lines)


def card_with_expiry(prepared: Prepared, ttl_seconds: int) -> str:
    return card(prepared) + f"\n\nConfirm within {ttl_seconds} s."


def outcome(result: Outcome) -> str:
    """The card, edited in place to show what happened."""
    text = card(result.prepared)
    if result.status == "declined":
        return text + "\n\n✖️ Cancelled. Nothing was sent."
    verb = {PreparedOrder: "Placed", PreparedModify: "Modified", PreparedCancel: "Cancel sent"}[
        type(result.prepared)
    ]
    lines = []
    for r in result.results:
        if r.order_id is not None:
            lines.append(f"✅ {verb}: order {esc(r.order_id)}" + _qty(result, r.quantity))
        elif r.unknown:
            lines.append(f"⏳ {esc(r.error)}")
        else:
            lines.append(f"❌ Not done{_qty(result, r.quantity)}: {esc(r.error)}")
    return text + "\n\n" + "\n".join(lines)


def _qty(result: Outcome, quantity: int) -> str:
    return f" ({quantity})" if len(result.results) > 1 else ""


def expired_card() -> str:
    return "⌛ This confirmation expired; nothing was sent. Send the command again."
