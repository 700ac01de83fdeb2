"""The daily summary → Telegram HTML (the words; the chart is `handlers.render.chart`)."""

from __future__ import annotations

from decimal import Decimal

from bot.accounts import IST
from bot.notify.events import DailySummary, Incident
from handlers.render.cards import sentence
from handlers.render.markup import esc
from handlers.render.numbers import signed_rupees

__all__ = ["summary_caption", "summary_text"]

# The audit log's event names, in words.
_INCIDENTS = {
    "OrdersBlocked": "orders blocked",
    "OrdersOpen": "orders open again",
    "SessionCreated": "session created",
    "SessionLapsed": "session expired",
    "LoginFailing": "login failing",
    "EgressIPChanged": "server IP changed",
    "StaticIPsChanged": "whitelisted IPs changed",
    "NoWhitelist": "no whitelist configured",
}


def _total(summary: DailySummary) -> Decimal:
    return sum((p.realised + (p.unrealised or Decimal(0)) for p in summary.positions), Decimal(0))


def summary_caption(summary: DailySummary) -> str:
    """The chart's caption: short (Telegram allows 1024 characters)."""
    return f"P&amp;L by position, {summary.day:%d %b %Y}: total {signed_rupees(_total(summary))}"


def summary_text(summary: DailySummary, *, incidents: bool = True) -> str:
    """Orders, fills, rejections with reasons, P&L per position and (for admins) the day's
    session and IP incidents."""
    lines = [
        f"📊 <b>Daily summary</b> {summary.day:%a %d %b %Y} · {esc(summary.account)} "
        f"({esc(summary.broker)})",
        f"Orders: {summary.orders} · filled {summary.filled} · rejected {len(summary.rejected)}",
    ]
    for r in summary.rejected:
        lines.append(
            f"❌ {esc(r.side)} {r.quantity} {esc(r.key)}: {esc(sentence(r.reason or 'not given'))}"
        )
    if summary.positions:
        lines.append("<b>P&amp;L</b> (realised · unrealised)")
        for p in summary.positions:
            lines.append(
                f"{esc(p.key)} {p.quantity:+d}: {signed_rupees(p.realised)} · "
                f"{signed_rupees(p.unrealised)}"
            )
        lines.append(f"Total: <b>{signed_rupees(_total(summary))}</b>")
    else:
        lines.append("No positions today.")
    if incidents:
        lines.append(_incidents(summary.incidents))
    if summary.unavailable:
        lines.append(f"⚠️ The broker could not give {esc(summary.unavailable)}.")
    return "\n".join(lines)


def _incidents(items: tuple[Incident, ...]) -> str:
    if not items:
        return "Session and IP: no incidents."
    lines = ["<b>Session and IP</b>"]
    for i in items:
        what = _INCIDENTS.get(i.kind, i.kind)
        detail = f": {esc(i.detail)}" if i.detail else ""
        lines.append(f"{i.at.astimezone(IST):%H:%M} {esc(what)}{detail}")
    return "\n".join(lines)
