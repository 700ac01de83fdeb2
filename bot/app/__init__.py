"""Wiring and lifecycle: builds the accounts, the core services and the Telegram application,
starts and stops them in order, and the doctor. The only package that imports `handlers`."""

from bot.app.build import build_account, build_broker, secret_values
from bot.app.run import run

__all__ = ["build_account", "build_broker", "run", "secret_values"]
