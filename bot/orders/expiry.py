"""Expiring confirmations: a card nobody answered in time ends in a final state that still says
what it asked for ("⌛ Expired" over the order), and loses its buttons.

The sweep, a late tap and the start-up all end a card the same way, from here: whoever moves the
intent PENDING → EXPIRED first (a compare-and-set, so once) or finds it expired builds the card's
final view from the stored intent, and the notifier shows it (a view is newer than any shown
before, so a repeat changes nothing).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from bot.market.instruments import InstrumentIndex
from bot.notify.events import CardRef, CardUpdate
from bot.orders.outcomes import Outcome, prepared_of
from bot.store.connection import Store
from bot.store.intents import IntentRow

log = logging.getLogger(__name__)


async def expire(
    store: Store,
    index: InstrumentIndex | None,
    intents: Iterable[IntentRow],
    *,
    due_by: datetime | None = None,
) -> list[CardUpdate[Any]]:
    """Expire the PENDING `intents` (only those due by `due_by`, when given); the card updates
    of those this call moved."""
    updates = []
    for intent in intents:
        if due_by is not None and intent.expires_at > due_by:
            continue
        if not await store.intents.transition(intent.id, "PENDING", "EXPIRED", unexpired_at=None):
            continue
        update = expired_view(intent, index)
        if update is not None:
            updates.append(update)
    return updates


def expired_view(intent: IntentRow, index: InstrumentIndex | None) -> CardUpdate[Any] | None:
    """The final view of an expired intent's card; None when it has no card, or when the card
    cannot be rebuilt (its instrument left the master since: logged, a tap still says it
    expired)."""
    if intent.message_id is None:
        return None
    try:
        prepared = prepared_of(intent, index)
    except Exception:
        log.warning("cannot rebuild the expired card of intent %s", intent.id, exc_info=True)
        return None
    outcome = Outcome(prepared, "expired")
    return CardUpdate(CardRef(intent.chat_id, intent.message_id), outcome, outcome.revision)
