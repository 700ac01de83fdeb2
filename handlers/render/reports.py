"""Reports → Telegram HTML: orders, trades, positions, holdings, funds, quotes, search.

Numbers are written by `handlers.render.numbers`, so a price reads the same here as on a card."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from bot.echo import clip
from bot.market import QuoteLine, SearchResult
from brokers.models import Funds, Holding, Order, Position, Trade
from handlers.render.markup import esc
from handlers.render.numbers import (
    age,
    change,
    clock_time,
    key_tick,
    price,
    rupees,
    signed_rupees,
)

__all__ = ["funds", "holdings", "orders", "positions", "quotes", "search", "trades"]


def orders(book: Sequence[Order]) -> str:
    if not book:
        return "No orders today."
    lines = ["<b>Orders</b>"]
    for o in book:
        tick = key_tick(o.key)
        filled = f" filled {o.filled_quantity}" if o.filled_quantity else ""
        trig = f" trg {price(o.trigger_price, tick)}" if o.trigger_price is not None else ""
        why = f" — {esc(o.message)}" if o.message and o.status.value == "REJECTED" else ""
        lines.append(
            f"<code>{esc(o.order_id)}</code> {o.side.value} {o.quantity} {esc(o.key)} "
            f"@{price(o.price, tick)}{trig} {o.product.value} · {o.status.value.lower()}"
            f"{filled}{why}"
        )
    return "\n".join(lines)


def trades(items: Sequence[Trade]) -> str:
    if not items:
        return "No trades today."
    lines = ["<b>Trades</b>"]
    for t in items:
        lines.append(
            f"{t.side.value} {t.quantity} {esc(t.key)} @ {price(t.price, key_tick(t.key))} · "
            f"order <code>{esc(t.order_id)}</code>"
        )
    return "\n".join(lines)


def positions(items: Sequence[Position], *, numbered: bool = False) -> str:
    """One line per position and the day's total P&L under them. `numbered`: each open
    position's line starts with its number, the one its buttons carry."""
    if not items:
        return "No open positions."
    lines = ["<b>Positions</b>"]
    total = Decimal(0)
    number = 0
    for p in items:
        pnl = p.realized_pnl + p.unrealized_pnl
        total += pnl
        tick = key_tick(p.key)
        mark = ""
        if numbered and p.quantity:
            number += 1
            mark = f"{number}. "
        lines.append(
            f"{mark}{esc(p.key)} {p.product.value}: {p.quantity} @ "
            f"{price(p.average_price, tick)} · LTP {price(p.ltp, tick)} · "
            f"P&amp;L {signed_rupees(pnl)}"
        )
    lines.append(f"<b>Total P&amp;L {signed_rupees(total)}</b>")
    return "\n".join(lines)


def holdings(items: Sequence[Holding]) -> str:
    if not items:
        return "No holdings."
    lines = ["<b>Holdings</b>"]
    for h in items:
        lines.append(
            f"{esc(h.key)}: {h.quantity} @ {price(h.average_price, key_tick(h.key))} · "
            f"LTP {price(h.ltp, key_tick(h.key))} · "
            f"P&amp;L {signed_rupees(h.pnl)}"
        )
    return "\n".join(lines)


def funds(f: Funds) -> str:
    return (
        f"<b>Funds</b>\nAvailable: {rupees(f.available)}\nUsed margin: {rupees(f.used_margin)}\n"
        f"Total: {rupees(f.total)}"
    )


def quotes(lines_in: Sequence[QuoteLine], now: datetime) -> str:
    """Each quote with its change from the previous close (when the broker gives one) and its
    age, so a stale price is seen for what it is."""
    lines = []
    for line in lines_in:
        q, tick = line.quote, line.instrument.tick_size
        if q is None or q.ltp is None:
            lines.append(f"{esc(line.instrument.key)}: no trades yet (no last price)")
            continue
        head = f"<b>{esc(line.instrument.key)}</b> {price(q.ltp, tick)}"
        if q.close is not None:
            head += f" ({change(q.ltp, q.close, tick)})"
        extra = []
        if q.bid is not None and q.ask is not None:
            extra.append(f"bid {price(q.bid, tick)} / ask {price(q.ask, tick)}")
        if q.lower_circuit is not None and q.upper_circuit is not None:
            extra.append(f"circuit {price(q.lower_circuit, tick)}–{price(q.upper_circuit, tick)}")
        extra.append(
            "time unknown" if q.at is None else f"as of {clock_time(q.at)}, {age(q.at, now)}"
        )
        lines.append(f"{head} · {' · '.join(extra)}")
    return "\n".join(lines)


def search(result: SearchResult, text: str) -> str:
    """The matches; when the list was cut, how many there were and how to narrow them."""
    asked = esc(clip(text))
    if not result.instruments:
        return f"Nothing matches {asked}."
    lines = [f"<b>Matches for {asked}</b>"]
    for i in result.instruments:
        lot = f" · lot {i.lot_size}" if i.kind.is_derivative else ""
        lines.append(f"<code>{esc(i.key)}</code> {esc(i.name)}{lot}")
    shown = len(result.instruments)
    if result.total > shown:
        total = f"{result.total}+" if result.more else str(result.total)
        lines.append(f"<i>Showing {shown} of {total}; add a strike or CE/PE to narrow.</i>")
    return "\n".join(lines)
