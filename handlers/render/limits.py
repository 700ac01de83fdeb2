"""/limits, /resume and /pnl → Telegram HTML, and the halted line on cards and /session."""

from __future__ import annotations

from bot.market.pnl import DayPnL, PositionLine
from bot.notify import Button, Keyboard
from bot.orders.guard import Halt, LimitsView
from bot.orders.limits import DailyLimits, LimitKind
from handlers.render.markup import esc
from handlers.render.numbers import clock_time, key_tick, price, rupees, signed_rupees

__all__ = [
    "KEEP_PREFIX",
    "RESUME_PREFIX",
    "halted_line",
    "kept_text",
    "limits_text",
    "pnl_text",
    "resume_card",
    "resumed_text",
]

RESUME_PREFIX = "lr:"
KEEP_PREFIX = "lk:"


def halted_line(halt: Halt) -> str:
    """One line for a card or /session: entries are halted, since when, by which limit."""
    return (
        f"⛔ <b>Entries halted</b> since {esc(clock_time(halt.since))}: "
        f"{esc(halt.breach.kind.label)} hit. Exits only; an admin can /resume."
    )


def _limit(limits: DailyLimits, kind: LimitKind) -> str:
    value = limits.of(kind)
    if value is None:
        return "no limit"
    return str(int(value)) if kind is LimitKind.ORDERS else rupees(value)


def limits_text(view: LimitsView) -> str:
    limits, usage = view.limits, view.usage
    lines = [f"<b>Daily limits</b> · {esc(view.account)}"]
    for kind in LimitKind:
        line = f"{esc(kind.label.capitalize())}: {_limit(limits, kind)}"
        if usage is not None and kind is LimitKind.LOSS:
            line += f" · today's P&amp;L {signed_rupees(usage.pnl)}"
        elif usage is not None and kind is LimitKind.ORDERS:
            line += f" · {usage.orders} today"
        if kind in view.waived:
            line += " (waived today by a resume)"
        lines.append(line)
    if view.problem is not None:
        lines.append(f"Today's use is unknown: {esc(view.problem)}")
    if view.halt is not None:
        lines.append(halted_line(view.halt))
        lines.append(esc(view.halt.breach.sentence().capitalize()) + ".")
    else:
        lines.append("✅ Entries open.")
    return "\n".join(lines)


def resume_card(halt: Halt, account: str) -> tuple[str, Keyboard]:
    text = (
        f"⛔ <b>Entries halted</b> on {esc(account)} since {esc(clock_time(halt.since))}: "
        f"{esc(halt.breach.sentence())}.\n"
        f"Resume new entries? The {esc(halt.breach.kind.label)} is then not applied again "
        "today unless an admin sets it again with /limits; the other limits still apply."
    )
    keyboard = [
        [
            Button("✅ Resume entries", f"{RESUME_PREFIX}{halt.id}"),
            Button("✖ Keep halted", f"{KEEP_PREFIX}{halt.id}"),
        ]
    ]
    return text, keyboard


def resumed_text(halt: Halt, account: str, user_id: int) -> str:
    return (
        f"✅ <b>Entries resumed</b> on {esc(account)} by {user_id}: the "
        f"{esc(halt.breach.kind.label)} is waived for the rest of today."
    )


def kept_text(account: str) -> str:
    return f"⛔ Entries stay halted on {esc(account)}. Send /resume when you want to lift it."


def _position(line: PositionLine) -> str:
    tick = key_tick(line.key)
    unrealised = signed_rupees(line.unrealised) if line.unrealised is not None else "— (no LTP)"
    return (
        f"{esc(line.key)} {esc(line.product.value)} {line.quantity:+d} @ "
        f"{price(line.average_price, tick)}, LTP {price(line.ltp, tick)}\n"
        f"  realised {signed_rupees(line.realised)} · unrealised {unrealised}"
    )


def pnl_text(pnl: DayPnL) -> str:
    if not pnl.positions:
        return "<b>P&amp;L today</b>\nNo positions today."
    lines = ["<b>P&amp;L today</b>"]
    lines += [_position(line) for line in pnl.positions]
    lines.append(
        f"<b>Total {signed_rupees(pnl.total)}</b> (realised {signed_rupees(pnl.realised)}, "
        f"unrealised {signed_rupees(pnl.unrealised)})"
    )
    if pnl.unpriced:
        lines.append(f"{pnl.unpriced} open position(s) without an LTP are not in the unrealised.")
    return "\n".join(lines)
