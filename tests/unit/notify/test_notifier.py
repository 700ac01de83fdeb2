"""The notifier's direct path (replies and card edits): splitting, plain-text fallback, flood
control, card revisions; and the per-account stamp on order events."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

import pytest

from bot.notify import OrderFilled, Sender
from bot.notify.events import CardRef, CardUpdate, next_revision
from bot.notify.notifier import (
    BadMarkup,
    FloodWait,
    Keyboard,
    Notifier,
    Outbox,
    Renderer,
    split_message,
    utf16_len,
)
from bot.store import Store
from handlers.render import html_to_plain, render_event


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await Store.open(tmp_path / "db.sqlite")
    yield opened
    await opened.close()


def notifier_for(
    outbox: Outbox, store: Store, render: Renderer = render_event, **kwargs: int
) -> Notifier:
    return Notifier(outbox, render, sender=Sender(store.outbox, outbox), **kwargs)


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
        silent: bool = False,
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


async def test_bad_markup_falls_back_to_plain_text(store: Store) -> None:
    outbox = RecordingOutbox(failures=[BadMarkup("can't parse entities")])
    await notifier_for(outbox, store).send(1, "<b>M&amp;M</b>")
    assert outbox.sent == [(1, "<b>M&amp;M</b>", False)]  # the outbox strips the markup


async def test_flood_wait_is_honoured_then_retried(store: Store) -> None:
    outbox = RecordingOutbox(failures=[FloodWait(0.05)])
    await notifier_for(outbox, store).send(1, "hi")
    assert outbox.sent == [(1, "hi", True)]


async def test_flood_wait_gives_up_after_retries(store: Store) -> None:
    outbox = RecordingOutbox(failures=[FloodWait(0.01)] * 5)
    with pytest.raises(FloodWait):
        await notifier_for(outbox, store, max_retries=2).send(1, "hi")


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
        silent: bool = False,
    ) -> int:
        self.sent.append((chat_id, text))
        return 100 + len(self.sent)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        if self.edit_failures:
            raise self.edit_failures.pop(0)
        self.edits.append((chat_id, message_id, text))


async def test_a_long_edit_is_shown_whole_never_cut(store: Store) -> None:
    """A 40-slice outcome can exceed one message: the card gets the first part, the rest
    follows as messages, and together they are the whole text."""
    outbox = CardOutbox()
    lines = [f"✅ Placed: order 2604010000{n:05d} (1755) — {'x' * 90}" for n in range(120)]
    text = "\n".join(lines)
    await notifier_for(outbox, store).edit(7, 3, text)
    [(_, message_id, first)] = outbox.edits
    assert message_id == 3
    rest = [t for _, t in outbox.sent]
    assert rest and "\n".join([first, *rest]) == text
    assert all(utf16_len(part) <= 4000 for part in [first, *rest])


async def test_an_older_view_of_a_card_never_overwrites_a_newer_one(store: Store) -> None:
    outbox = CardOutbox()
    notifier = notifier_for(outbox, store)
    card = CardRef(7, 3)
    older, newer = next_revision(), next_revision()
    await notifier.edit_card(card, "placed after all", revision=newer)
    await notifier.edit_card(card, "no answer yet", revision=older)  # arrived late: dropped
    assert [t for *_, t in outbox.edits] == ["placed after all"]


async def test_a_progress_edit_is_one_attempt_and_never_raises(store: Store) -> None:
    outbox = CardOutbox(edit_failures=[FloodWait(30), RuntimeError("down")])
    notifier = notifier_for(outbox, store)
    card = CardRef(7, 3)
    await notifier.edit_card(card, "Sending… 1/3", revision=next_revision(), best_effort=True)
    await notifier.edit_card(card, "Sending… 2/3", revision=next_revision(), best_effort=True)
    assert outbox.edits == [] and outbox.sent == []  # no wait, no retry, no fallback message


async def test_a_card_update_event_edits_its_card(store: Store) -> None:
    outbox = CardOutbox()
    notifier = notifier_for(outbox, store, lambda event: f"card for {event.content}")  # type: ignore[union-attr]
    await notifier.publish(CardUpdate(CardRef(7, 3), "intent X", next_revision()))
    await notifier.settled()
    assert outbox.edits == [(7, 3, "card for intent X")] and outbox.sent == []


async def test_an_accounts_publisher_stamps_order_events_with_account_and_money(
    store: Store,
) -> None:
    seen: list[object] = []

    def render(event: object) -> str:
        seen.append(event)
        return render_event(event)  # type: ignore[arg-type]

    notifier = notifier_for(CardOutbox(), store, render)  # type: ignore[arg-type]
    filled = OrderFilled(7, "2612010000001", "NSE:SBIN", "BUY", 10, Decimal("812.35"))
    await notifier.for_account("kotak", paper=False)(filled)
    await notifier.for_account("paper", paper=True)(filled)
    live, paper = (html_to_plain(render_event(e)) for e in seen)  # type: ignore[arg-type]
    assert "order 2612010000001" in live and live.endswith("\nAccount kotak · 💰 live")
    assert paper.endswith("\nAccount paper · 📝 paper")
