"""Each package's public names, pinned (style.md "Absorb" 14).

A package says what it is for in its docstring and lists its public surface in `__all__`;
everything else in it is private to it. Pinning the lists here makes a change to a package's
surface a visible, reviewed edit instead of an accident of an import.
"""

from __future__ import annotations

import importlib
import pkgutil

import pytest

import bot
import brokers
import handlers

PUBLIC: dict[str, set[str]] = {
    "bot.accounts": {
        "IST", "NO_WHITELIST_WARNING", "Account", "EgressChecker", "EgressReading", "IPAddress",
        "SavedSession", "SessionFile", "SessionStatus", "SlidingWindowLimiter", "TotpClock",
        "TotpSource", "Whitelist", "check_seed", "ip_refusal", "parse_ip",
        "KOTAK_NEEDS", "MSTOCK_NEEDS", "AccountConfig", "account_secrets", "load_accounts",
        "paper_state_path", "single_account", "users_of",
    },
    "bot.app": {"build_account", "build_broker", "run", "secret_values"},
    "bot.market": {
        "EXCHANGES", "IndexFollower", "InstrumentIndex", "Portfolio", "QuoteLine", "SearchResult",
        "Alert", "AlertEngine", "AlertKind", "AlertWatch",
        "DayPnL", "PositionLine", "day_pnl",
    },
    "bot.market.hours": {"IST", "MarketHours", "MarketState", "Phase"},
    "bot.notify": {
        "AdminEvent", "BadMarkup", "Button", "CardRef", "CardUpdate", "ChangeSettled",
        "ChatUnreachable", "AlertTriggered", "EgressIPChanged", "Event", "FloodWait", "Keyboard",
        "LapsedOrder", "LimitUnfilled",
        "LoginFailing", "NoWhitelist", "Notifier", "OrderCancelled", "OrderEvent", "OrderFilled",
        "OrderFound", "OrderNotFound", "OrderPartiallyFilled", "OrderRejected", "OrdersBlocked",
        "OrdersLapsed", "OrdersOpen", "Outbox", "Renderer", "SendFailed", "SessionCreated",
        "SessionLapsed", "StaticIPsChanged", "UserEvent", "next_revision", "split_message",
        "utf16_len",
        "BotStarted", "BotStopping", "DailySummary", "Incident", "PositionPnL", "RejectedOrder",
        "StartupNote",
        "Preference", "Sender", "always_on",
        "LimitHalted",
    },
    "bot.orders": {
        "DEFAULT_GRID", "OrderDesk", "OrderPlan", "OrderTicket", "OrderTracker", "Outcome",
        "Patience", "PolicyConfig", "Prepared", "PreparedCancel", "PreparedExits",
        "PreparedModify", "PreparedOrder", "ProtectionGrid", "SliceResult", "SliceState",
        "parse_grid", "plan_order",
    },
    "bot.store": {
        "LIVE_ORDER_STATES", "AuditLine", "AuditRepo", "IntentRepo", "IntentRow", "OrderRepo",
        "OrderRow",
        "Store",
        "AlertRepo", "AlertRow", "AlertState",
        "INCIDENT", "PreferenceRepo",
        "OutboxRepo", "OutboxRow",
        "HaltRow", "LimitRepo",
    },
    "handlers.render": {
        "CONFIRM_PREFIX", "DECLINE_PREFIX", "card", "card_with_expiry", "confirm_keyboard",
        "declined_answer", "esc", "funds", "holdings", "html_to_plain", "orders",
        "outcome", "positions", "progress", "quotes", "render_event", "render_status", "search",
        "send_failed", "trades",
    },
    "brokers": {"Broker"},
    "brokers.kotak": {"KotakBroker", "KotakConfig", "KotakTimeouts"},
    "brokers.mstock": {"MStockBroker", "MStockConfig", "MStockTimeouts"},
    "brokers.paper": {"PaperBroker"},
}  # fmt: skip

# The three roots hold modules and packages, not a surface of their own.
ROOTS = (bot, handlers, brokers)


def _packages() -> list[str]:
    found = {
        info.name
        for root in ROOTS
        for info in pkgutil.walk_packages(root.__path__, prefix=root.__name__ + ".")
        if info.ispkg
    }
    return sorted(found | {"brokers"})


def test_every_package_is_pinned() -> None:
    assert set(_packages()) == set(PUBLIC)


@pytest.mark.parametrize("name", sorted(PUBLIC))
def test_public_names_are_pinned_and_resolve(name: str) -> None:
    package = importlib.import_module(name)
    assert (package.__doc__ or "").strip(), f"{name} says nothing about what it is for"
    exported = package.__dict__.get("__all__")
    assert isinstance(exported, list), f"{name} has no __all__"
    assert len(set(exported)) == len(exported), f"{name}.__all__ repeats a name"
    assert set(exported) == PUBLIC[name]
    for public in exported:
        assert hasattr(package, public), f"{name}.__all__ names a missing {public}"


@pytest.mark.parametrize("root", ROOTS, ids=lambda m: m.__name__)
def test_roots_say_what_they_hold(root: object) -> None:
    assert (getattr(root, "__doc__", None) or "").strip()


def test_the_broker_protocol_is_the_top_level_export() -> None:
    from brokers.base import Broker

    assert brokers.Broker is Broker
