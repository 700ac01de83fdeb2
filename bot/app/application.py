"""The python-telegram-bot application the bot runs on.

Built here rather than with the builder's defaults for one reason: the builder makes two httpx
clients (one for getUpdates, one for every other call), and httpx builds a TLS context for each,
loading the CA bundle every time: 40-90 ms of a start-up whose target is 1.5 s
(bench/startup.py). They verify against the same CAs as the broker clients and the IP check,
so all of them share the process's one context (`brokers.tls`). The pool sizes are the
builder's own defaults.
"""

from __future__ import annotations

from telegram.ext import Application, ApplicationBuilder
from telegram.request import HTTPXRequest

from bot.settings import Settings
from brokers.tls import tls_context

__all__ = ["CONCURRENT_UPDATES", "build_application"]

# How many updates are handled at once. `ApplicationBuilder.concurrent_updates` rather than
# `block=False` on each handler: one setting covers every handler, the chat screen and the error
# handler, including any added later, and it is a bound, so a flood of updates queues instead
# of starting an unbounded number of tasks. 256 is far above what a handful of users need.
CONCURRENT_UPDATES = 256
# The builder's defaults: one connection for the long poll, many for sends and edits.
_POOL, _POLL_POOL = 256, 1


def build_application(settings: Settings) -> Application:  # type: ignore[type-arg]
    """The application for `settings`' token and Bot API address, not yet initialized."""
    shared = {"verify": tls_context()}
    application: Application = (  # type: ignore[type-arg]
        ApplicationBuilder()
        .token(settings.telegram_bot_token.get_secret_value())
        .base_url(settings.telegram_base_url)
        .request(HTTPXRequest(connection_pool_size=_POOL, httpx_kwargs=shared))
        .get_updates_request(HTTPXRequest(connection_pool_size=_POLL_POOL, httpx_kwargs=shared))
        .concurrent_updates(CONCURRENT_UPDATES)
        .build()
    )
    return application
