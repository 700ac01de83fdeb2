"""The Telegram application's two httpx clients verify with the process's one TLS context:
httpx would otherwise load the CA bundle again for each (40-90 ms of start-up)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bot.app.application import build_application
from bot.settings import load_settings
from brokers.tls import tls_context


def _context_of(request: Any) -> Any:
    """The TLS context an `HTTPXRequest`'s client connects with (httpx's own attributes)."""
    return request._client._transport._pool._ssl_context


def test_both_telegram_clients_share_the_process_tls_context(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        telegram_bot_token="123456:ABC-def",
        telegram_allowed_users="1",
        data_dir=str(tmp_path),
    )
    application = build_application(settings)
    bot = application.bot
    requests = (bot._request[0], bot._request[1])  # getUpdates, then every other call
    assert [_context_of(r) is tls_context() for r in requests] == [True, True]
    assert bot.base_url.startswith(settings.telegram_base_url)
