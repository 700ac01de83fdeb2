"""Price alerts and unfilled limits → Telegram HTML and buttons: the /alert replies, the /alerts
list, and the buttons under a fired alert and under an unfilled-limit push.

`callback_data` carries a prefix, one letter for the action and the alert's id (or the order's
number); what it acts on is read back from the store, with its owner checked there.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from bot.market import Alert
from bot.notify import AlertTriggered, Button, Keyboard, LimitUnfilled
from handlers.render.markup import esc
from handlers.render.numbers import clock_time, key_tick, price

__all__ = [
    "ALERT_PREFIX",
    "SNOOZE",
    "UNFILLED_PREFIX",
    "alert_keyboard",
    "alert_list",
    "alert_set",
    "rule",
    "snoozed",
    "unfilled_keyboard",
]

ALERT_PREFIX = "al:"
UNFILLED_PREFIX = "uf:"
SNOOZE = timedelta(minutes=15)


def rule(key: str, kind: str, level: Decimal, reference: Decimal | None) -> str:
    """`above 820.00`, `move 2% from 808.30` (plain text: the caller escapes)."""
    tick = key_tick(key)
    if kind == "move":
        return f"move {level}% from {price(reference, tick)}"
    return f"{kind} {price(level, tick)}"


def _repeat(alert: Alert) -> str:
    if not alert.repeat:
        return "once"
    minutes = int(alert.cooldown.total_seconds()) // 60
    return f"repeats, {minutes} min apart" if minutes else "repeats"


def alert_set(alert: Alert) -> str:
    """The reply to /alert: what was set, and how to see or remove it."""
    note = f"\n{esc(alert.note)}" if alert.note else ""
    what = esc(rule(alert.key, alert.kind, alert.level, alert.reference))
    return (
        f"🔔 <b>Alert {alert.id} set</b>: {esc(alert.key)} {what} ({_repeat(alert)}).{note}\n"
        f"/alerts lists yours; <code>/alert off {alert.id}</code> removes it."
    )


def alert_list(alerts: list[Alert]) -> tuple[str, Keyboard | None]:
    """/alerts: one line per active alert, and a remove button for each."""
    if not alerts:
        hint = "<code>/alert NSE:SBIN above 820</code>"
        return f"You have no active alerts. Set one with {hint}.", None
    lines = ["<b>Your alerts</b>"]
    for a in alerts:
        note = f" — {esc(a.note)}" if a.note else ""
        snooze = (
            f", snoozed until {clock_time(a.snoozed_until)}" if a.snoozed_until is not None else ""
        )
        what = esc(rule(a.key, a.kind, a.level, a.reference))
        lines.append(f"{a.id}. {esc(a.key)} {what} ({_repeat(a)}{snooze}){note}")
    keyboard = [[Button(f"🗑 Remove {a.id}", f"{ALERT_PREFIX}r:{a.id}")] for a in alerts]
    return "\n".join(lines), keyboard


def alert_keyboard(event: AlertTriggered, *, can_trade: bool) -> Keyboard:
    """Under a fired alert: Buy / Sell (each opens a normal confirmation card; only for a
    user who may trade), Snooze, Delete."""
    tail = f":{event.alert_id}"
    rows: list[list[Button]] = []
    if can_trade:
        rows.append(
            [Button("Buy", f"{ALERT_PREFIX}b{tail}"), Button("Sell", f"{ALERT_PREFIX}s{tail}")]
        )
    minutes = int(SNOOZE.total_seconds()) // 60
    rows.append(
        [
            Button(f"Snooze {minutes} min", f"{ALERT_PREFIX}z{tail}"),
            Button("Delete", f"{ALERT_PREFIX}x{tail}"),
        ]
    )
    return rows


def snoozed(alert: Alert) -> str:
    """The toast after Snooze."""
    assert alert.snoozed_until is not None
    return f"Snoozed until {clock_time(alert.snoozed_until)}; it fires again if it still holds."


def unfilled_keyboard(event: LimitUnfilled) -> Keyboard:
    """Under an unfilled-limit push: each button opens a confirmation card."""
    return [
        [
            Button("Re-price at LTP ± band", f"{UNFILLED_PREFIX}r:{event.order_id}"),
            Button("Cancel", f"{UNFILLED_PREFIX}c:{event.order_id}"),
        ]
    ]
