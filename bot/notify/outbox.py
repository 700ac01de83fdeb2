"""The persistent outbox, seen from the notifier: how a push is written as rows and how the rows
waiting for one chat become the next message.

A push is split on line boundaries *before* it is written, so each row is one message part and
is marked delivered on its own: a restart in the middle of a long message resends no part that
Telegram already accepted. Rows of one chat are sent in the order they were written. When
several consecutive rows wait with the same coalescing key (a burst of fills while Telegram is
paced or away), they go out as one message that lists them, as long as it stays within the
message limit: 40 fills in a second arrive as one message, not 40 at one a second.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from bot.notify.transport import MAX_UNITS, Button, Keyboard, utf16_len
from bot.store.outbox import OutboxRow

# Coalesced pushes are set apart by an empty line, so each reads as its own notice.
_BETWEEN = "\n\n"


@dataclass(frozen=True, slots=True)
class Batch:
    """The next message for a chat: one row, or several coalesced ones."""

    ids: tuple[int, ...]
    text: str
    markup: bool
    keyboard: Keyboard | None
    silent: bool
    photo: bytes | None = None  # a picture, `text` its caption


def keyboard_json(keyboard: Keyboard | None) -> str | None:
    if not keyboard:
        return None
    return json.dumps([[[b.text, b.data] for b in row] for row in keyboard], ensure_ascii=False)


def _keyboard(stored: list[list[list[str]]] | None) -> Keyboard | None:
    if not stored:
        return None
    return [[Button(text, data) for text, data in row] for row in stored]


def next_batch(rows: Sequence[OutboxRow], limit: int = MAX_UNITS) -> Batch:
    """The message made of the first of `rows` (a chat's waiting rows, oldest first) and the
    rows right after it that may join it: the same coalescing key and markup, no keyboard, and
    the joined text within `limit` UTF-16 units. The batch is silent only when all of it is.
    A picture is always a message of its own."""
    head = rows[0]
    taken = [head]
    size = utf16_len(head.text)
    if head.coalesce_key is not None and head.keyboard is None and head.photo is None:
        for row in rows[1:]:
            units = utf16_len(row.text) + len(_BETWEEN)
            if (
                row.coalesce_key != head.coalesce_key
                or row.markup != head.markup
                or row.keyboard is not None
                or row.photo is not None
                or size + units > limit
            ):
                break
            taken.append(row)
            size += units
    return Batch(
        ids=tuple(row.id for row in taken),
        text=_BETWEEN.join(row.text for row in taken),
        markup=bool(head.markup),
        keyboard=_keyboard(head.keyboard),
        silent=all(row.silent for row in taken),
        photo=head.photo,
    )
