"""Typed core results → Telegram HTML. Every dynamic value goes through `esc`."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from bot.desk import Outcome, Prepared, PreparedCancel, PreparedModify, PreparedOrder
from bot.notify import Button, Keyboard, esc
from bot.portfolio import QuoteLine
from brokers.models import Funds, Holding, Instrument, Order, OrderType, Position, Trade

CONFIRM_PREFIX = "cf:"
DECLINE_PREFIX = "cx:"


def money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


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


def orders(book: Sequence[Order]) -> str:
    if not book:
        return "No orders today."
    lines = ["<b>Orders</b>"]
    for o in book:
        filled = f" filled {o.filled_quantity}" if o.filled_quantity else ""
        trig = f" trg {o.trigger_price}" if o.trigger_price is not None else ""
        why = f" — {esc(o.message)}" if o.message and o.status.value == "REJECTED" else ""
        lines.append(
            f"<code>{esc(o.order_id)}</code> {o.side.value} {o.quantity} {esc(o.key)} "
            f"@{o.price}{trig} {o.product.value} · {o.status.value.lower()}{filled}{why}"
        )
    return "\n".join(lines)


def trades(items: Sequence[Trade]) -> str:
    if not items:
        return "No trades today."
    lines = ["<b>Trades</b>"]
    for t in items:
        lines.append(
            f"{t.side.value} {t.quantity} {esc(t.key)} @ {t.price} · order "
            f"<code>{esc(t.order_id)}</code>"
        )
    return "\n".join(lines)


def positions(items: Sequence[Position]) -> str:
    if not items:
        return "No open positions."
    lines = ["<b>Positions</b>"]
    for p in items:
        pnl = p.realized_pnl + p.unrealized_pnl
        lines.append(
            f"{esc(p.key)} {p.product.value}: {p.quantity} @ {money(p.average_price)} · LTP "
            f"{money(p.ltp)} · P&amp;L {money(pnl)}"
        )
    return "\n".join(lines)


def holdings(items: Sequence[Holding]) -> str:
    if not items:
        return "No holdings."
    lines = ["<b>Holdings</b>"]
    for h in items:
        lines.append(
            f"{esc(h.key)}: {h.quantity} @ {money(h.average_price)} · LTP {money(h.ltp)} · "
            f"P&amp;L {money(h.pnl)}"
        )
    return "\n".join(lines)


def funds(f: Funds) -> str:
    return (
        f"<b>Funds</b>\nAvailable: ₹{money(f.available)}\nUsed margin: ₹{money(f.used_margin)}\n"
        f"Total: ₹{money(f.total)}"
    )


def quotes(lines_in: Sequence[QuoteLine]) -> str:
    lines = []
    for line in lines_in:
        q = line.quote
        if q is None or q.ltp is None:
            lines.append(f"{esc(line.instrument.key)}: no trades yet (no last price)")
            continue
        extra = []
        if q.bid is not None and q.ask is not None:
            extra.append(f"bid {q.bid} / ask {q.ask}")
        if q.lower_circuit is not None and q.upper_circuit is not None:
            extra.append(f"circuit {q.lower_circuit}–{q.upper_circuit}")
        tail = f" · {' · '.join(extra)}" if extra else ""
        lines.append(f"<b>{esc(line.instrument.key)}</b> {q.ltp}{tail}")
    return "\n".join(lines)


def search(results: Sequence[Instrument], text: str) -> str:
    if not results:
        return f"Nothing matches {esc(text)!s}."
    lines = [f"<b>Matches for {esc(text)}</b>"]
    for i in results:
        lot = f" · lot {i.lot_size}" if i.kind.is_derivative else ""
        lines.append(f"<code>{esc(i.key)}</code> {esc(i.name)}{lot}")
    return "\n".join(lines)
