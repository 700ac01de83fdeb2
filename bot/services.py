"""What a front end gets: the core services, transport-free. The wiring builds one of these and
hands it to the Telegram handlers; a CLI or webhook front end would take the same object."""

from __future__ import annotations

from dataclasses import dataclass

from bot.accounts import Account
from bot.market.alert_watch import AlertWatch
from bot.market.portfolio import Portfolio
from bot.notify.notifier import Notifier
from bot.orders.desk import OrderDesk
from bot.orders.unfilled import UnfilledWatch
from bot.settings import Role
from bot.store.connection import Store


@dataclass(frozen=True, slots=True)
class Services:
    desk: OrderDesk
    portfolio: Portfolio
    account: Account
    store: Store
    notifier: Notifier
    roles: dict[int, Role]
    confirm_ttl_seconds: int
    alerts: AlertWatch
    unfilled: UnfilledWatch

    def role_of(self, user_id: int) -> Role | None:
        """Deny by default: a user not in TELEGRAM_ALLOWED_USERS has no role at all."""
        return self.roles.get(user_id)
