"""/notify → Telegram HTML and its buttons: one row per kind of notification, a tap cycles it."""

from __future__ import annotations

from collections.abc import Mapping

from bot.notify import Button, Keyboard
from bot.notify.preferences import Choice, Kind

__all__ = ["NOTIFY_PREFIX", "notify_keyboard", "notify_text", "tapped_answer"]

NOTIFY_PREFIX = "nf:"

LABELS: dict[Kind, str] = {
    "fills": "Fills",
    "rejections": "Rejections",
    "orders": "Cancels and late finds",
    "alerts": "Price alerts",
    "session": "Session and IP",
    "lifecycle": "Bot start and stop",
    "summary": "Daily summary",
}
_MARKS: dict[Choice, str] = {"on": "🔔 on", "silent": "🔕 silent", "off": "✖ off"}


def notify_text() -> str:
    return (
        "<b>Notifications</b>\nTap a row to change it: on → silent (no sound) → off.\n"
        "A confirmation card always shows what became of its order, whatever you choose here."
    )


def notify_keyboard(choices: Mapping[Kind, Choice]) -> Keyboard:
    return [
        [Button(f"{LABELS[kind]}: {_MARKS[choice]}", f"{NOTIFY_PREFIX}{kind}")]
        for kind, choice in choices.items()
    ]


def tapped_answer(kind: Kind, choice: Choice) -> str:
    return f"{LABELS[kind]}: {choice}"
