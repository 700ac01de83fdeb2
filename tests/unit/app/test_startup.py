"""The start-up gate for admin notices: held until ready, folded into one `BotStarted` (with only
the notices that still need a human), then passed straight through; each one audited."""

from __future__ import annotations

from pathlib import Path

from bot.app.startup import AdminNotices
from bot.notify import (
    AdminEvent,
    BotStarted,
    OrdersBlocked,
    OrdersOpen,
    SessionCreated,
    StaticIPsChanged,
)
from bot.store import Store


async def test_held_until_ready_then_one_message_then_straight_through(tmp_path: Path) -> None:
    told: list[AdminEvent] = []

    async def tell(event: AdminEvent) -> None:
        told.append(event)

    store = await Store.open(tmp_path / "db")
    try:
        notices = AdminNotices(tell, store.audit)
        changed = StaticIPsChanged(("203.0.113.9",), ("203.0.113.10",))
        for event in (
            OrdersBlocked("kotak", "there is no broker session (not logged in yet)"),
            changed,
            SessionCreated("kotak", "203.0.113.10", "start-up"),
            OrdersOpen("kotak"),
        ):
            await notices(event)
        assert told == []
        started = notices.ready(broker="kotak", account="Family", paper=False, orders_problem=None)
        assert started == BotStarted("kotak", "Family", False, None, (changed,))
        later = OrdersBlocked("kotak", "the IP changed")
        await notices(later)
        assert told == [later]
        lines = [
            line["what"] for line in reversed(await store.audit.latest()) if line["kind"] == "event"
        ]
        assert lines == [
            "OrdersBlocked: there is no broker session (not logged in yet)",
            "StaticIPsChanged: ['203.0.113.9'] → ['203.0.113.10']",
            "SessionCreated: start-up, from 203.0.113.10",
            "OrdersOpen: ",
            "OrdersBlocked: the IP changed",
        ]
    finally:
        await store.close()
