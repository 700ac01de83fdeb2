"""The one sender: splitting, plain-text fallback, flood control."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from bot.notify.events import CardRef, CardUpdate, next_revision
from bot.notify.notifier import (
    BadMarkup,
    FloodWait,
    Keyboard,
    Notifier,
    split_message,
    utf16_len,
)
from handlers.render import render_event


@dataclass
class RecordingOutbox:
    """An Outbox that records what it is asked to send and fails as scripted."""

    failures: list[Exception] = field(default_factory=list)
    sent: list[tuple[int, str, bool]] = field(default_factory=list)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        disable_notification: bool = False,
    ) -> int:
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((chat_id, text, markup))
        return len(self.sent)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        await self.send(chat_id, text, markup=markup, keyboard=keyboard)


def test_split_keeps_lines_whole_and_counts_utf16() -> None:
    line = "₹ 😀 " * 50  # the emoji is two UTF-16 units
    text = "\n".join([line] * 100)
    parts = split_message(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 4000 for p in parts)
    assert "\n".join(parts) == text


async def test_bad_markup_falls_back_to_plain_text() -> None:
    outbox = RecordingOutbox(failures=[BadMarkup("can't parse entities")])
    await Notifier(outbox, render_event).send(1, "<b>M&amp;M</b>")
    assert outbox.sent == [(1, "<b>M&amp;M</b>", False)]  # the outbox strips the markup


async def test_flood_wait_is_honoured_then_retried() -> None:
    outbox = RecordingOutbox(failures=[FloodWait(0.05)])
    await Notifier(outbox, render_event).send(1, "hi")
    assert outbox.sent == [(1, "hi", True)]


async def test_flood_wait_gives_up_after_retries() -> None:
    outbox = RecordingOutbox(failures=[FloodWait(0.01)] * 5)
    with pytest.raises(FloodWait):
        await Notifier(outbox, render_event, max_retries=2).send(1, "hi")


async def test_push_never_raises_and_paces_per_chat() -> None:
    import time

    outbox = RecordingOutbox(failures=[RuntimeError("down")])
    notifier = Notifier(outbox, render_event, chat_interval=0.2)
    await notifier.push(5, "lost")  # logged, not raised
    start = time.monotonic()
    await notifier.push(5, "one")
    assert time.monotonic() - start >= 0.15
    assert outbox.sent == [(5, "one", True)]


async def test_post_does_not_wait_for_pacing_but_keeps_order() -> None:
    import asyncio
    import time

    outbox = RecordingOutbox()
    notifier = Notifier(outbox, render_event, chat_interval=0.2)
    start = time.monotonic()
    for text in ("a", "b", "c"):
        notifier.post(9, text)
    assert time.monotonic() - start < 0.05  # the caller did not wait
    for _ in range(40):
        if len(outbox.sent) == 3:
            break
        await asyncio.sleep(0.05)
    assert [t for _, t, _ in outbox.sent] == ["a", "b", "c"]
    assert time.monotonic() - start >= 0.35  # ...but the chat was still paced


@dataclass
class CardOutbox:
    """Records sends and edits apart; edits fail as scripted."""

    edit_failures: list[Exception] = field(default_factory=list)
    sent: list[tuple[int, str]] = field(default_factory=list)
    edits: list[tuple[int, int, str]] = field(default_factory=list)

    async def send(
        self,
        chat_id: int,
        text: str,
        *,
        markup: bool,
        keyboard: Keyboard | None,
        disable_notification: bool = False,
    ) -> int:
        self.sent.append((chat_id, text))
        return 100 + len(self.sent)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        if self.edit_failures:
            raise self.edit_failures.pop(0)
        self.edits.append((chat_id, message_id, text))


async def test_a_long_edit_is_shown_whole_never_cut() -> None:
    """A 40-slice outcome can exceed one message: the card gets the first part, the rest
    follows as messages, and together they are the whole text."""
    outbox = CardOutbox()
    lines = [f"✅ Placed: order 2604010000{n:05d} (1755) — {'x' * 90}" for n in range(120)]
    text = "\n".join(lines)
    await Notifier(outbox, render_event).edit(7, 3, text)
    [(_, message_id, first)] = outbox.edits
    assert message_id == 3
    rest = [t for _, t in outbox.sent]
    assert rest and "\n".join([first, *rest]) == text
    assert all(utf16_len(part) <= 4000 for part in [first, *rest])


async def test_an_older_view_of_a_card_never_overwrites_a_newer_one() -> None:
    outbox = CardOutbox()
    notifier = Notifier(outbox, render_event)
    card = CardRef(7, 3)
    older, newer = next_revision(), next_revision()
    await notifier.edit_card(card, "placed after all", revision=newer)
    await notifier.edit_card(card, "no answer yet", revision=older)  # arrived late: dropped
    assert [t for *_, t in outbox.edits] == ["placed after all"]


async def test_a_card_that_cannot_be_edited_gets_its_outcome_as_a_message() -> None:
    outbox = CardOutbox(edit_failures=[RuntimeError("Bad Request: message to edit not found")])
    notifier = Notifier(outbox, render_event)
    await notifier.edit_card(CardRef(7, 3), "✅ Placed", revision=next_revision())  # no raise
    assert outbox.sent == [(7, "✅ Placed")]


async def test_a_progress_edit_is_one_attempt_and_never_raises() -> None:
    outbox = CardOutbox(edit_failures=[FloodWait(30), RuntimeError("down")])
    notifier = Notifier(outbox, render_event)
    card = CardRef(7, 3)
    await notifier.edit_card(card, "Sending… 1/3", revision=next_revision(), best_effort=True)
    await notifier.edit_card(card, "Sending… 2/3", revision=next_revision(), best_effort=True)
    assert outbox.edits == [] and outbox.sent == []  # no wait, no retry, no fallback message


async def test_a_card_update_event_edits_its_card() -> None:
    outbox = CardOutbox()
    notifier = Notifier(outbox, lambda event: f"card for {event.content}")  # type: ignore[union-attr]
    await notifier.publish(CardUpdate(CardRef(7, 3), "intent X", next_revision()))
    assert outbox.edits == [(7, 3, "card for intent X")] and outbox.sent == []
