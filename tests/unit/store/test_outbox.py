"""The outbox table: a message's parts are written together, read back in order per chat,
and finished only once; finished rows are pruned, waiting ones never."""

from __future__ import annotations

from datetime import timedelta

from bot.clock import utcnow
from bot.store.connection import Store


async def test_parts_wait_in_order_with_the_keyboard_on_the_last(store: Store) -> None:
    outbox = store.outbox
    await outbox.add(
        1, ["a", "b"], markup=True, keyboard='[[["OK", "x"]]]', silent=True, coalesce_key="k"
    )
    await outbox.add(
        2, ["other chat"], markup=False, keyboard=None, silent=False, coalesce_key=None
    )
    first, second = await outbox.waiting(1, 10)
    assert (first.text, first.keyboard, second.text, second.keyboard) == (
        "a",
        None,
        "b",
        [[["OK", "x"]]],
    )
    assert first.silent == 1 and first.coalesce_key == "k" and first.markup == 1
    assert await outbox.waiting_chats() == [1, 2]


async def test_a_row_is_finished_once_and_attempts_are_counted(store: Store) -> None:
    outbox = store.outbox
    await outbox.add(1, ["a", "b"], markup=True, keyboard=None, silent=False, coalesce_key=None)
    a, b = await outbox.waiting(1, 10)
    await outbox.attempted([a.id], "down")
    await outbox.sent([a.id])
    await outbox.failed([a.id, b.id], "chat not found")  # a is already SENT: unchanged
    assert await outbox.counts() == {"SENT": 1, "FAILED": 1}
    assert await outbox.waiting(1, 10) == [] and await outbox.waiting_chats() == []


async def test_prune_forgets_finished_rows_only(store: Store) -> None:
    outbox = store.outbox
    await outbox.add(
        1, ["done", "waits"], markup=True, keyboard=None, silent=False, coalesce_key=None
    )
    done, _ = await outbox.waiting(1, 10)
    await outbox.sent([done.id])
    assert await outbox.prune(utcnow() + timedelta(seconds=1)) == 1
    assert await outbox.counts() == {"PENDING": 1}
