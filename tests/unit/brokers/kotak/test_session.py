"""KotakBroker session export/resume (`brokers.base.ResumableSession`) against the simulator.

Ref §2.6: a session is the access token, trade token, trade sid, baseUrl, dataCenter and ucc (plus
optional feed URLs). All of it is exported so a restart can skip the TOTP + MPIN login, except the
access token itself, a long-lived credential: only its SHA-256, to recognise the configuration.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import AsyncIterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path

import pytest

from brokers.base import ResumableSession
from brokers.errors import SessionExpired
from brokers.kotak import KotakBroker
from brokers.models import OrderRequest, OrderType, Product, Side
from tests.fakes.kotak_sim import SIM_TOTP, KotakSimulator, kotak_config

TOTP = SIM_TOTP
REQUIRED = ("access_token_sha256", "token", "sid", "base_url", "ucc", "created_at")


@pytest.fixture
async def fresh(sim: KotakSimulator, tmp_path: Path) -> AsyncIterator[KotakBroker]:
    """A second broker, as after a restart: same config, no session."""
    b = KotakBroker(kotak_config(sim, tmp_path / "master2"))
    yield b
    await b.close()


@pytest.fixture
async def saved(broker: KotakBroker) -> dict[str, str]:
    await broker.login(TOTP)
    data = broker.export_session()
    assert data is not None
    return data


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _secrets(sim: KotakSimulator, data: dict[str, str]) -> list[str]:
    return [sim.access_token, data["token"], data["sid"]]


async def test_is_resumable(broker: KotakBroker) -> None:
    assert isinstance(broker, ResumableSession)


async def test_export_before_login_is_none(broker: KotakBroker) -> None:
    assert broker.export_session() is None


async def test_export_after_login_has_every_field(sim: KotakSimulator, broker: KotakBroker) -> None:
    info = await broker.login(TOTP)
    data = broker.export_session()
    assert data is not None
    assert all(isinstance(v, str) for v in data.values())
    assert set(REQUIRED) | {"data_center"} <= set(data)
    assert data["access_token_sha256"] == _sha256(sim.access_token)
    assert sim.access_token not in data.values() and "access_token" not in data
    validate = sim.calls_of("validate")[0]
    assert data["token"].startswith("trade-")
    assert data["token"] != validate.headers["auth"]  # the trade pair, not the view pair
    assert data["base_url"] == sim.url
    assert data["data_center"] == sim.data_center
    assert data["ucc"] == sim.ucc
    assert datetime.fromisoformat(data["created_at"]) == info.created_at


async def test_export_after_close_is_none(saved: dict[str, str], broker: KotakBroker) -> None:
    await broker.close()
    assert broker.export_session() is None


async def test_resumed_broker_works_without_logging_in(
    sim: KotakSimulator, saved: dict[str, str], fresh: KotakBroker
) -> None:
    info = await fresh.resume_session(dict(saved))
    assert info.account == sim.ucc
    assert info.created_at == datetime.fromisoformat(saved["created_at"])
    assert fresh.session_created_at == info.created_at

    assert await fresh.orders() == []
    funds = await fresh.funds()
    assert funds is not None
    assert len(sim.calls_of("login")) == 1  # only the first broker's tradeApiLogin
    assert len(sim.calls_of("validate")) == 1
    for call in sim.calls_of("orders") + sim.calls_of("limits"):
        assert call.headers["auth"] == saved["token"]
        assert call.headers["sid"] == saved["sid"]
    assert fresh.export_session() == saved  # round-trips unchanged


async def test_resumed_broker_can_place_orders(
    sim: KotakSimulator, saved: dict[str, str], fresh: KotakBroker
) -> None:
    await fresh.resume_session(saved)
    inst = await fresh.resolve("NSE:RELIANCE")
    request = OrderRequest(
        instrument=inst,
        side=Side.BUY,
        quantity=1,
        order_type=OrderType.LIMIT,
        price=Decimal("100"),
        product=Product.CNC,
        tag="resume1",
    )
    order_id = await fresh.place_order(request)
    assert order_id in sim.orders
    assert sim.calls_of("place")[0].headers["authorization"] == sim.access_token


async def test_expired_saved_session_raises_session_expired(
    sim: KotakSimulator, saved: dict[str, str], fresh: KotakBroker
) -> None:
    await fresh.resume_session(saved)
    sim.expire_sessions()
    with pytest.raises(SessionExpired):
        await fresh.orders()


@pytest.mark.parametrize("missing", REQUIRED)
async def test_incomplete_session_raises(
    sim: KotakSimulator, saved: dict[str, str], fresh: KotakBroker, missing: str
) -> None:
    data = {k: v for k, v in saved.items() if k != missing}
    with pytest.raises(SessionExpired, match="saved session is incomplete") as caught:
        await fresh.resume_session(data)
    assert not any(secret in str(caught.value) for secret in _secrets(sim, saved))
    assert fresh.export_session() is None  # nothing adopted


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("token", "  "),
        ("created_at", "yesterday"),
        ("created_at", "2025-01-22T09:15:00"),  # naive: no offset
        ("base_url", "ftp://example.invalid"),
    ],
)
async def test_unusable_values_raise(
    saved: dict[str, str], fresh: KotakBroker, key: str, value: str
) -> None:
    with pytest.raises(SessionExpired, match="saved session is incomplete"):
        await fresh.resume_session({**saved, key: value})
    assert fresh.export_session() is None


async def test_empty_dict_raises(fresh: KotakBroker) -> None:
    with pytest.raises(SessionExpired, match="saved session is incomplete"):
        await fresh.resume_session({})


async def test_session_for_another_config_is_refused(
    saved: dict[str, str], fresh: KotakBroker
) -> None:
    with pytest.raises(SessionExpired) as caught:
        await fresh.resume_session({**saved, "access_token_sha256": _sha256("other-access-token")})
    assert "different access token" in str(caught.value)
    with pytest.raises(SessionExpired):
        await fresh.resume_session({**saved, "ucc": "ZZOTHER"})
    assert fresh.export_session() is None


async def test_a_session_saved_with_the_plain_access_token_is_not_resumed(
    sim: KotakSimulator, saved: dict[str, str], fresh: KotakBroker
) -> None:
    """Files written before the hash held the access token itself: they are refused (the
    account then logs in and writes the new form over them), without echoing the value."""
    old = {k: v for k, v in saved.items() if k != "access_token_sha256"}
    old["access_token"] = sim.access_token
    with pytest.raises(SessionExpired, match="old format") as caught:
        await fresh.resume_session(old)
    assert sim.access_token not in str(caught.value)
    assert fresh.export_session() is None


async def test_no_secret_in_repr_or_logs(
    sim: KotakSimulator,
    saved: dict[str, str],
    fresh: KotakBroker,
    broker: KotakBroker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    await fresh.resume_session(saved)
    await fresh.orders()
    texts = [repr(broker), repr(fresh), repr(fresh._session), caplog.text]
    for secret in _secrets(sim, saved):
        for text in texts:
            assert secret not in text
