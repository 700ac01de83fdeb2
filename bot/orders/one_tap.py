"""The order a Buy or Sell button on a price alert proposes: which quantity to put on its card.

The card is the normal one (the user still confirms), so the quantity only has to be a good
first guess: the quantity the user last sent for that instrument, else one lot of a derivative,
else one share. The last one is read from the intents the desk stored, so it is the whole order
as asked (not a slice of it).
"""

from __future__ import annotations

from bot.orders.intents import PlacePayload, load_payload
from bot.store.connection import Store
from brokers.models import Instrument


async def suggested_quantity(store: Store, user_id: int, instrument: Instrument) -> int:
    """Units for a one-tap order of `instrument` by `user_id`."""
    intent = await store.intents.last_placed(user_id, instrument.key)
    if intent is not None:
        payload = load_payload(intent.action, intent.payload)
        if isinstance(payload, PlacePayload) and payload.quantity > 0:
            return payload.quantity
    return instrument.lot_size if instrument.kind.is_derivative else 1
