"""Orders from request to fill: the order policy (market → protected limit, ticks, lots, slices),
the desk (tickets → stored intents → confirmed orders), their stored payloads, what a card shows
(`outcomes`) and the tracker that reconciles and follows every order the bot placed."""

from bot.orders.desk import OrderDesk
from bot.orders.outcomes import (
    Outcome,
    Prepared,
    PreparedCancel,
    PreparedExits,
    PreparedModify,
    PreparedOrder,
    SliceResult,
    SliceState,
)
from bot.orders.policy import OrderPlan, OrderTicket, PolicyConfig, plan_order
from bot.orders.protection import DEFAULT_GRID, ProtectionGrid, parse_grid
from bot.orders.tracker import OrderTracker, Patience

__all__ = [
    "DEFAULT_GRID",
    "OrderDesk",
    "OrderPlan",
    "OrderTicket",
    "OrderTracker",
    "Outcome",
    "Patience",
    "PolicyConfig",
    "Prepared",
    "PreparedCancel",
    "PreparedExits",
    "PreparedModify",
    "PreparedOrder",
    "ProtectionGrid",
    "SliceResult",
    "SliceState",
    "parse_grid",
    "plan_order",
]
