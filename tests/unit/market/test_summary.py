"""The daily summary's schedule and data: due after its time on a weekday, once per day even
across a restart (a new `DailySummaries` on the same database), off when asked, and a broker
that cannot answer is named instead of shown as zero."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time
from decimal import Decimal
from pathlib import Path

import pytest

from bot.accounts import Account, SlidingWindowLimiter
from bot.market.summary import DailySummaries
from bot.notify.events import DailySummary
from bot.store import Store
from brokers.errors import BrokerUnavailable
from brokers.paper import PaperBroker

WEDNESDAY_16_00_IST = datetime(2026, 4, 1, 10, 30, tzinfo=UTC)
WEDNESDAY_15_44_IST = datetime(2026, 4, 1, 10, 14, tzinfo=UTC)
SATURDAY_16_00_IST = datetime(2026, 4, 4, 10, 30, tzinfo=UTC)


@pytest.fixture
async def parts(tmp_path: Path) -> AsyncIterator[tuple[Account, Store, PaperBroker]]:
    broker = PaperBroker(tmp_path / "paper.json", capital=Decimal(1_000_000), tick_seconds=0)
    store = await Store.open(tmp_path / "bot.db")
    account = Account(broker, SlidingWindowLimiter(10, 1.0))
    await account.start()
    yield account, store, broker
    await account.stop()
    await store.close()


def summaries(
    account: Account, store: Store, sent: list[DailySummary], now: datetime, at: str = "15:45"
) -> DailySummaries:
    async def deliver(summary: DailySummary) -> None:
        sent.append(summary)

    return DailySummaries(
        account,
        store.preferences,
        deliver,
        at=None if at == "off" else time.fromisoformat(at),
        label="Family",
        now=lambda: now,
    )


async def test_sent_once_a_day_even_across_a_restart(
    parts: tuple[Account, Store, PaperBroker],
) -> None:
    account, store, _ = parts
    sent: list[DailySummary] = []
    assert await summaries(account, store, sent, WEDNESDAY_16_00_IST).check()
    assert not await summaries(account, store, sent, WEDNESDAY_16_00_IST).check()  # restarted
    assert [s.day.isoformat() for s in sent] == ["2026-04-01"]
    assert sent[0].account == "Family" and sent[0].broker == "paper"


async def test_not_before_its_time_on_a_weekend_or_when_off(
    parts: tuple[Account, Store, PaperBroker],
) -> None:
    account, store, _ = parts
    sent: list[DailySummary] = []
    assert not await summaries(account, store, sent, WEDNESDAY_15_44_IST).check()
    assert not await summaries(account, store, sent, SATURDAY_16_00_IST).check()
    assert not await summaries(account, store, sent, WEDNESDAY_16_00_IST, at="off").check()
    assert sent == []


async def test_incidents_of_the_day_come_from_the_audit_log(
    parts: tuple[Account, Store, PaperBroker],
) -> None:
    account, store, _ = parts
    await store.audit.add(None, "event", "OrdersBlocked: there is no broker session (x)")
    await store.audit.add(111, "command", "/buy NSE:SBIN 1")  # not an incident
    sent: list[DailySummary] = []
    await summaries(account, store, sent, WEDNESDAY_16_00_IST).check()
    [incident] = sent[0].incidents
    assert (incident.kind, incident.detail) == ("OrdersBlocked", "there is no broker session (x)")


async def test_a_broker_that_cannot_answer_is_named_not_zero(
    parts: tuple[Account, Store, PaperBroker], monkeypatch: pytest.MonkeyPatch
) -> None:
    account, store, broker = parts

    async def down() -> list[object]:
        raise BrokerUnavailable("the broker is down for maintenance")

    monkeypatch.setattr(broker, "orders", down)
    sent: list[DailySummary] = []
    await summaries(account, store, sent, WEDNESDAY_16_00_IST).check()
    assert sent[0].unavailable == "the order book (the broker is down for maintenance)"
