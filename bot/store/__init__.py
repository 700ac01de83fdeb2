"""SQLite storage (aiosqlite): intents, orders placed through the bot and the audit trail, written
before the bot acts on them, price alerts with their state, notification preferences and the
days whose summary went out, daily limits and halts, and the outbox of pushes written before
they are sent. One `Store` holds the connection; each table has its repository."""

from bot.store.alerts import AlertRepo, AlertRow, AlertState
from bot.store.audit import AuditLine, AuditRepo
from bot.store.connection import Store
from bot.store.intents import IntentRepo, IntentRow
from bot.store.limits import HaltRow, LimitRepo
from bot.store.orders import LIVE_ORDER_STATES, OrderRepo, OrderRow
from bot.store.outbox import OutboxRepo, OutboxRow
from bot.store.preferences import INCIDENT, PreferenceRepo

__all__ = [
    "INCIDENT",
    "LIVE_ORDER_STATES",
    "AlertRepo",
    "AlertRow",
    "AlertState",
    "AuditLine",
    "AuditRepo",
    "HaltRow",
    "IntentRepo",
    "IntentRow",
    "LimitRepo",
    "OrderRepo",
    "OrderRow",
    "OutboxRepo",
    "OutboxRow",
    "PreferenceRepo",
    "Store",
]
