"""What the account does after each class of order-call failure, counted at the simulator.

The rule (`bot/accounts/calls.py`): an IP refusal proves nothing was placed (a new session and one
retry, in `test_account.py`); an expired session proves nothing, so the order book from a new
session decides; a reused tag means the order exists; nothing else is ever sent twice.
"""

from __future__ import annotations

import pytest

from brokers.errors import (
    BrokerUnavailable,
    InvalidQuantity,
    OutcomeCause,
    Throttled,
    UnknownOutcome,
)
from brokers.models import ModifyRequest, OrderStatus
from tests.unit.accounts.rig import Rig


def tags_sent(rig: Rig) -> list[str]:
    return [str((call.jdata or {}).get("ig")) for call in rig.sim.calls_of("place")]


# --------------------------------------------------------------------------- place


async def test_an_expired_session_with_no_order_in_the_book_sends_once_more(rig: Rig) -> None:
    rig.sim.expire_sessions()
    order_id = await rig.account.place(await rig.order("EXP1"))
    assert rig.places() == 2 and tags_sent(rig) == ["EXP1", "EXP1"]  # the same tag again
    assert list(rig.sim.orders) == [order_id]
    assert rig.logins() == 2
    book_reads = [c for c in rig.sim.calls if c.kind == "orders"]
    assert book_reads and book_reads[-1].at < rig.sim.calls_of("place")[-1].at  # looked first


async def test_an_expired_session_after_the_order_went_in_adopts_it(rig: Rig) -> None:
    rig.sim.fail_next("place", "expired_after")  # the order is made, then 100022
    order_id = await rig.account.place(await rig.order("EXP2"))
    assert rig.places() == 1  # found in the book from the new session: never sent again
    assert list(rig.sim.orders) == [order_id]
    assert rig.logins() == 2


async def test_an_expired_session_whose_login_fails_is_an_unknown_outcome(rig: Rig) -> None:
    rig.sim.fail_next("place", "expired_after")
    rig.sim.mpin = "135790"  # and logging in again fails: the book cannot be read
    with pytest.raises(UnknownOutcome) as caught:
        await rig.account.place(await rig.order("EXP3"))
    assert caught.value.cause is OutcomeCause.UNCHECKED
    assert rig.places() == 1 and len(rig.sim.orders) == 1


async def test_throttled_is_not_retried(rig: Rig) -> None:
    rig.sim.fail_next("place", "throttle")
    with pytest.raises(Throttled):
        await rig.account.place(await rig.order("THR1"))
    assert rig.places() == 1 and rig.sim.orders == {}


@pytest.mark.parametrize(
    ("mode", "cause", "made"),
    [
        ("timeout", OutcomeCause.TIMEOUT, 1),  # the order is made; its reply never comes
        ("http500", OutcomeCause.SERVER_ERROR, 0),
        ("html", OutcomeCause.BAD_REPLY, 0),
        ("malformed", OutcomeCause.BAD_REPLY, 0),
        ("odd_code", OutcomeCause.UNKNOWN_CODE, 0),
    ],
)
async def test_an_unknown_outcome_is_not_retried(
    rig: Rig, mode: str, cause: OutcomeCause, made: int
) -> None:
    rig.sim.fail_next("place", mode)
    with pytest.raises(UnknownOutcome) as caught:
        await rig.account.place(await rig.order("UNK1"))
    assert caught.value.cause is cause
    assert rig.places() == 1 and len(rig.sim.orders) == made  # for the tracker to reconcile


async def test_an_unreachable_broker_is_not_retried(rig: Rig) -> None:
    request = await rig.order("OFF1")
    await rig.sim.go_offline()
    with pytest.raises(BrokerUnavailable, match="nothing was sent"):
        await rig.account.place(request)
    assert rig.places() == 0
    await rig.sim.go_online()
    assert await rig.account.place(request)  # the tag was never used
    assert rig.places() == 1


async def test_a_rejection_is_not_retried(rig: Rig) -> None:
    option = rig.sim.untraded_key  # a NIFTY option: lots of 65
    with pytest.raises(InvalidQuantity):
        await rig.account.place(await rig.order("REJ1", key=option, qty=1))
    assert rig.places() == 1 and rig.sim.orders == {}


@pytest.mark.parametrize("code", [32, 5204])
async def test_a_reused_tag_adopts_the_order_that_has_it(rig: Rig, code: int) -> None:
    rig.sim.duplicate_tag_code = code
    first = await rig.account.place(await rig.order("DUP1"))
    await rig.account.cancel(first)  # tags stay taken after a cancel (kotak-neo.md §4.1)
    again = await rig.account.place(await rig.order("DUP1"))
    assert again == first
    assert rig.places() == 2 and list(rig.sim.orders) == [first]


async def test_a_reused_tag_that_the_book_cannot_show_is_an_unknown_outcome(rig: Rig) -> None:
    await rig.account.place(await rig.order("DUP2"))
    rig.sim.fail_next("orders", "http500")
    with pytest.raises(UnknownOutcome) as caught:
        await rig.account.place(await rig.order("DUP2"))
    assert caught.value.cause is OutcomeCause.UNCHECKED
    assert rig.places() == 2 and len(rig.sim.orders) == 1  # never a third send


# --------------------------------------------------------------------------- modify, cancel


async def _modification(rig: Rig, order_id: str) -> ModifyRequest:
    placed = await rig.order()
    return ModifyRequest(
        order_id,
        placed.instrument,
        placed.side,
        2,
        placed.order_type,
        placed.price - 1,
        placed.product,
    )


async def test_a_modify_refused_by_an_expired_session_is_sent_again_while_not_shown(
    rig: Rig,
) -> None:
    order_id = await rig.account.place(await rig.order("MOD1"))
    change = await _modification(rig, order_id)
    rig.sim.expire_sessions()
    assert await rig.account.modify(change) == order_id
    assert len(rig.sim.calls_of("modify")) == 2  # the book still showed the old values
    order = rig.sim.orders[order_id]
    assert (order.qty, order.price) == (2, change.price)


async def test_a_modify_the_book_already_shows_is_not_sent_again(rig: Rig) -> None:
    order_id = await rig.account.place(await rig.order("MOD2"))
    change = await _modification(rig, order_id)
    rig.sim.fail_next("modify", "expired_after")
    assert await rig.account.modify(change) == order_id
    assert len(rig.sim.calls_of("modify")) == 1


async def test_a_cancel_the_book_already_shows_is_not_sent_again(rig: Rig) -> None:
    order_id = await rig.account.place(await rig.order("CAN1"))
    rig.sim.fail_next("cancel", "expired_after")
    assert await rig.account.cancel(order_id) == order_id
    assert len(rig.sim.calls_of("cancel")) == 1
    [order] = [o for o in await rig.account.orders() if o.order_id == order_id]
    assert order.status is OrderStatus.CANCELLED


async def test_a_cancel_refused_by_an_expired_session_is_sent_again_while_open(rig: Rig) -> None:
    order_id = await rig.account.place(await rig.order("CAN2"))
    rig.sim.expire_sessions()
    assert await rig.account.cancel(order_id) == order_id
    assert len(rig.sim.calls_of("cancel")) == 2
    assert rig.sim.orders[order_id].status == "cancelled"
