"""Notification choices: defaults by role, a tap's cycle stored and read back after a restart,
every event in a kind, and the notifier obeying them (off: nothing; silent: no sound)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from bot.notify import (
    BotStarted,
    CardRef,
    CardUpdate,
    Keyboard,
    Notifier,
    OrderFilled,
    OrderRejected,
    OrdersBlocked,
)
from bot.notify.preferences import Preferences, kind_of, kinds_for
from bot.notify.sender import Sender
from bot.settings import Role
from bot.store import Store

ROLES = {1: Role.ADMIN, 2: Role.TRADER, 3: Role.VIEWER}
FILL = OrderFilled(2, "A1", "NSE:SBIN", "BUY", 10, Decimal("812.35"))


@dataclass
class Outbox:
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
        self.sent.append((chat_id, text, silent))
        return len(self.sent)

    async def edit(
        self, chat_id: int, message_id: int, text: str, *, markup: bool, keyboard: Keyboard | None
    ) -> None:
        self.sent.append((chat_id, f"edit {text}", False))


async def test_defaults_follow_the_role(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db")
    try:
        prefs = await Preferences.load(store.preferences, ROLES)
        assert await prefs.all_of(3) == {"alerts": "on", "summary": "off"}
        assert await prefs.all_of(2) == {
            "fills": "on", "rejections": "on", "orders": "on", "alerts": "on", "summary": "on"
        }  # fmt: skip
        assert list(await prefs.all_of(1)) == list(kinds_for(Role.ADMIN))
        assert await prefs.all_of(99) == {}
    finally:
        await store.close()


async def test_a_cycle_is_stored_and_survives_a_restart(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "db")
    prefs = await Preferences.load(store.preferences, ROLES)
    assert [await prefs.cycle(2, "fills") for _ in range(2)] == ["silent", "off"]
    await store.close()
    store = await Store.open(tmp_path / "db")
    try:
        again = await Preferences.load(store.preferences, ROLES)
        assert await again.choice(2, "fills") == "off"
        assert await again.choice(1, "fills") == "on"  # only the user's own
        assert await again.cycle(2, "fills") == "on"
    finally:
        await store.close()


def test_every_event_has_its_kind() -> None:
    assert kind_of(FILL) == "fills"
    assert kind_of(OrderRejected(2, "A1", "NSE:SBIN", "BUY", 10, "no margin")) == "rejections"
    assert kind_of(OrdersBlocked("kotak", "no session")) == "session"
    assert kind_of(BotStarted("kotak", "Family", False, None)) == "lifecycle"
    assert kind_of(CardUpdate(CardRef(2, 5), "x", 1)) is None


async def test_the_notifier_skips_off_and_silences_silent(tmp_path: Path) -> None:
    """What the notifier writes to the outbox (the sender is not started: the rows are the
    verdict, before any pacing or coalescing)."""
    store = await Store.open(tmp_path / "db")
    try:
        prefs = await Preferences.load(store.preferences, ROLES)
        notifier = Notifier(
            Outbox(), lambda e: type(e).__name__, sender=Sender(store.outbox, Outbox()),
            admins=[1], preference=prefs.for_event,
        )  # fmt: skip
        await notifier.publish(FILL)
        await prefs.cycle(2, "fills")
        await notifier.publish(FILL)
        await prefs.cycle(2, "fills")
        await notifier.publish(FILL)
        await prefs.cycle(1, "session")
        await prefs.cycle(1, "session")  # off
        await notifier.tell_admins(OrdersBlocked("kotak", "no session"))
        await notifier.tell_admins(BotStarted("kotak", "Family", False, None))
        written = [
            (row.chat_id, row.text, bool(row.silent))
            for chat in (2, 1)
            for row in await store.outbox.waiting(chat, 10)
        ]
        assert written == [
            (2, "OrderFilled", False),
            (2, "OrderFilled", True),
            (1, "BotStarted", False),
        ]
    finally:
        await store.close()
