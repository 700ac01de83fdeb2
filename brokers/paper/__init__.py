"""The built-in paper broker: a simulated NSE account and market, the bot's default broker."""

from brokers.paper.broker import PaperBroker

__all__ = ["PaperBroker"]
