"""SQLite storage (aiosqlite): intents, orders placed through the bot and the audit trail, written
before the bot acts on them."""

from bot.store.connection import LIVE_ORDER_STATES, IntentRow, OrderRow, Store

__all__ = ["LIVE_ORDER_STATES", "IntentRow", "OrderRow", "Store"]
