"""SQLite storage (aiosqlite): intents, orders placed through the bot and the audit trail, written
before the bot acts on them, and price alerts with their state. One `Store` holds the
connection; each table has its repository."""

from bot.store.alerts import AlertRepo, AlertRow, AlertState
from bot.store.audit import AuditRepo
from bot.store.connection import Store
from bot.store.intents import IntentRepo, IntentRow
from bot.store.orders import LIVE_ORDER_STATES, OrderRepo, OrderRow

__all__ = [
    "LIVE_ORDER_STATES",
    "AlertRepo",
    "AlertRow",
    "AlertState",
    "AuditRepo",
    "IntentRepo",
    "IntentRow",
    "OrderRepo",
    "OrderRow",
    "Store",
]
