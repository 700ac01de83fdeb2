"""At most 10 order requests reach the broker in any sliding second, counted where they arrive:
the simulator's arrival times, with the real account, limiter and Kotak adapter in between.
Counts only; the speed is measured by bench/rate_limiter.py."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path

import pyotp
import pytest

from bot.accounts import Account, SlidingWindowLimiter, TotpSource
from bot.errors import ConfigError
from bot.settings import Settings, load_settings
from brokers.kotak import KotakBroker
from brokers.models import OrderRequest, OrderType, Product, Side
from tests.fakes.kotak_sim import KotakSimulator, kotak_config

ORDERS = 60
DEFAULT_MARGIN_MS = Settings.model_fields["order_rate_margin_ms"].default


def most_in_one_second(times: list[float]) -> int:
    """The most arrivals inside any half-open window [t, t + 1 s) (two pointers over sorted)."""
    ordered = sorted(times)
    best = left = 0
    for right, t in enumerate(ordered):
        while ordered[left] <= t - 1.0:
            left += 1
        best = max(best, right - left + 1)
    return best


def test_the_window_count() -> None:
    assert most_in_one_second([0.0, 0.5, 0.999, 1.0, 1.5]) == 3
    assert most_in_one_second([0.1 * i for i in range(30)]) == 10


async def test_sixty_orders_never_put_eleven_into_one_second_at_the_broker(
    tmp_path: Path,
) -> None:
    async with KotakSimulator(expected_totp=lambda code: True) as sim:
        account = Account(
            KotakBroker(kotak_config(sim, tmp_path)),
            SlidingWindowLimiter(10, 1.0, margin=DEFAULT_MARGIN_MS / 1000),
            totp=TotpSource(pyotp.random_base32()),
            check_every=3600,
            warn_without_whitelist=False,
        )
        await account.start()
        try:
            sbin = await account.broker.resolve("NSE:SBIN")  # type: ignore[attr-defined]

            def order(i: int) -> OrderRequest:
                price = Decimal("800")
                return OrderRequest(sbin, Side.BUY, 1, OrderType.LIMIT, price, Product.CNC, f"R{i}")

            placed = await asyncio.gather(*(account.place(order(i)) for i in range(ORDERS)))
        finally:
            await account.stop()
    arrivals = [call.at for call in sim.calls_of("place")]
    assert len(arrivals) == ORDERS and len(set(placed)) == ORDERS
    assert most_in_one_second(arrivals) == 10  # full use of the budget, never above it


def test_the_margin_setting_is_checked_and_named() -> None:
    base = {"_env_file": None, "telegram_bot_token": "1:abc", "telegram_allowed_users": "1"}
    assert load_settings(**base).order_rate_margin_ms == 100  # errs on the low side
    with pytest.raises(ConfigError) as err:
        load_settings(**base, order_rate_margin_ms="-5")
    assert str(err.value).startswith("ORDER_RATE_MARGIN_MS: ")
