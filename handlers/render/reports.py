"""Reports → Telegram HTML: orders, trades, positions, holdings, funds, quotes, search."""

from __future__ import annotations

from collections.abc import Sequence

from bot.market.portfolio import QuoteLine
from brokers.models import Funds, Holding, Instrument, Order, Position, Trade
from handlers.render.markup import esc, money

__all__ = ["funds", "holdings", "orders", "positions", "quotes", "search", "trades"]


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
