"""The words of /account and the account line under cards and replies (issue 14)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.notify import Button
from bot.services import Room
from bot.settings import Role
from handlers.render.events import account_line
from handlers.render.markup import esc

ACCOUNT_PREFIX = "ac:"


def about(room: Room, several: bool) -> str:
    """The line that says which account a card or reply is about, and whether it is paper;
    none while the bot serves one account (nothing to tell apart)."""
    return account_line(room.label, room.paper) if several else ""


def heading(room: Room) -> str:
    """The title of one account's part of a report that spans accounts."""
    money = "📝 paper" if room.paper else "💰 live"
    return f"🏦 <b>{esc(room.label)}</b> · {money}\n"


def accounts_text(rooms: Sequence[tuple[Room, Role]], default: Room | None) -> str:
    lines = ["<b>Your accounts</b>"]
    for room, role in rooms:
        mark = "▶️" if default is not None and room.name == default.name else "▫️"
        money = "📝 paper" if room.paper else "💰 live"
        broker = esc(room.account.broker.name)
        lines.append(
            f"{mark} <code>{esc(room.name)}</code> {esc(room.label)} · {broker} · {money}"
            f" · you are {role.value}"
        )
    lines.append(
        "\nCommands act on ▶️. Name another account as the first word to act on it once "
        "(<code>/buy mom NSE:SBIN 10</code>, <code>/positions mom</code>), or "
        "<code>/positions all</code> for every account; the buttons change ▶️."
    )
    return "\n".join(lines)


def accounts_keyboard(rooms: Sequence[Room], default: Room | None) -> list[list[Button]]:
    return [
        [Button(f"Use {room.name}", ACCOUNT_PREFIX + room.name)]
        for room in rooms
        if default is None or room.name != default.name
    ]


def switched_answer(room: Room) -> str:
    return f"Commands now act on {room.label}."
