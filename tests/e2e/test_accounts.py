"""Several broker accounts in one bot (issue 14), end to end: one process, one ACCOUNTS_FILE with
two Kotak accounts (two simulators: one is the bot's own build from KOTAK_LOGIN_URL, the other a
Kotak adapter given for it, since the login URL is one setting), one mStock account (built by the
bot from MSTOCK_BASE_URL) and one paper account. Orders land where they are named, a user sees
and confirms only his accounts, one account's broker trouble leaves the others trading, and each
account has its own 10-per-second limiter (measured at the simulators' arrival times)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyotp
import pytest

from bot.app import run
from brokers.base import Broker
from brokers.kotak import KotakBroker
from tests.e2e.harness import ADMIN, TRADER, BotHarness
from tests.fakes.ip_echo import FakeIPEcho
from tests.fakes.kotak_sim import KotakSimulator, kotak_config
from tests.fakes.mstock_sim import MStockSimulator
from tests.fakes.telegram_server import FakeTelegram, StoredMessage
from tests.fakes.totp_clock import SkipAheadClock

PRIMARY, SECONDARY, ELSEWHERE = "203.0.113.10", "203.0.113.11", "198.51.100.99"
SEEDS = {name: pyotp.random_base32() for name in ("me", "wife", "huf")}
# ADMIN administers every account; TRADER trades the paper account "mom" only.
LABELS = {"me": "Me Kotak", "wife": "Wife Kotak", "huf": "Family HUF", "mom": "Mom paper"}


def accounts_toml(me: KotakSimulator, wife: KotakSimulator, huf: MStockSimulator) -> str:
    def kotak(name: str, sim: KotakSimulator) -> str:
        return (
            f'[accounts.{name}]\nbroker = "kotak"\nlabel = "{LABELS[name]}"\n'
            f'api_key = "{sim.ucc}"\napi_secret = "{sim.access_token}"\n'
            f'mobile = "9876543210"\nmpin = "{sim.mpin}"\ntotp_secret = "{SEEDS[name]}"\n'
            f'static_ip_primary = "{PRIMARY}"\nstatic_ip_secondary = "{SECONDARY}"\n'
            f'[accounts.{name}.users]\n{ADMIN} = "admin"\n\n'
        )

    return (
        kotak("me", me)
        + kotak("wife", wife)
        + f'[accounts.huf]\nbroker = "mstock"\nlabel = "{LABELS["huf"]}"\n'
        f'api_key = "{huf.client_code}"\napi_secret = "{huf.api_key}"\n'
        f'password = "{huf.password}"\ntotp_secret = "{SEEDS["huf"]}"\n'
        f'static_ip_primary = "{PRIMARY}"\n'
        f'[accounts.huf.users]\n{ADMIN} = "admin"\n\n'
        f'[accounts.mom]\nbroker = "paper"\nlabel = "{LABELS["mom"]}"\n'
        f'[accounts.mom.users]\n{ADMIN} = "admin"\n{TRADER} = "trader"\n'
    )


class AccountsHarness(BotHarness):
    """`BotHarness` with brokers given by account name (`run(brokers=...)`); the others are
    built by the bot from the accounts file, as in production."""

    def __init__(self, tmp: Path, brokers: Mapping[str, Broker], **kwargs: Any) -> None:
        super().__init__(tmp, **kwargs)
        self.brokers = dict(brokers)

    async def start(self) -> None:
        assert self.settings is not None
        self._stop = asyncio.Event()
        task = asyncio.create_task(
            run(self.settings, self._stop, brokers=self.brokers, totp_clock=self._totp_clock)
        )
        self._task = task
        await self.telegram.wait_for(
            lambda t: bool(t.calls_of("getUpdates")) or task.done(),
            timeout=30,
            what="the bot to start polling",
        )
        if task.done():
            task.result()


@dataclass
class World:
    h: AccountsHarness
    me: KotakSimulator
    wife: KotakSimulator
    huf: MStockSimulator

    def places(self) -> dict[str, int]:
        return {
            "me": len(self.me.calls_of("place")),
            "wife": len(self.wife.calls_of("place")),
            "huf": len(self.huf.calls_of("place")),
        }


@pytest.fixture
async def world(tmp_path: Path, totp_clock: SkipAheadClock) -> AsyncIterator[World]:
    async with (
        KotakSimulator(expected_totp=totp_clock.verifies(SEEDS["me"])) as me,
        KotakSimulator(
            expected_totp=totp_clock.verifies(SEEDS["wife"]),
            ucc="YSIM02",
            access_token="sim-access-token-wife",
        ) as wife,
        MStockSimulator(expected_totp=totp_clock.verifies(SEEDS["huf"])) as huf,
        FakeIPEcho(PRIMARY) as echo,
    ):
        me.egress_ip = wife.egress_ip = huf.egress_ip = PRIMARY
        path = tmp_path / "accounts.toml"
        path.write_text(accounts_toml(me, wife, huf))
        path.chmod(0o600)
        # The same master folder the bot gives its own Kotak account: one master per broker.
        wife_broker = KotakBroker(kotak_config(wife, tmp_path / "kotak-master"))
        async with AccountsHarness(
            tmp_path,
            {"wife": wife_broker},
            totp_clock=totp_clock,
            accounts_file=path,
            kotak_login_url=me.login_url,
            mstock_base_url=huf.url,
            mstock_ws_url=huf.ws_url,
            ip_check_urls=echo.url,
        ) as h:
            yield World(h, me, wife, huf)


def confirm_data(card: StoredMessage) -> str:
    return BotHarness.confirm_button(card)


async def ask_card(h: BotHarness, text: str) -> StoredMessage:
    """Send `text` as ADMIN and return the confirmation card it gets, passing over pushes that
    arrive meanwhile (an account's IP notice)."""
    before = len(h.telegram.messages(ADMIN))
    h.telegram.send_text(ADMIN, text)

    def cards(t: FakeTelegram) -> StoredMessage | None:
        return next((m for m in t.messages(ADMIN)[before:] if "cf:" in str(m.reply_markup)), None)

    card: StoredMessage = await h.telegram.wait_for(
        cards,
        timeout=10,
        what=f"the card for {text}",
    )
    return card


async def test_orders_land_in_the_named_account_only(world: World) -> None:
    h = world.h
    for name, sim_counts in (("me", (1, 0, 0)), ("wife", (1, 1, 0)), ("huf", (1, 1, 1))):
        card = await h.say(ADMIN, f"/buy {name} NSE:SBIN 10")
        assert f"Account {LABELS[name]} · 💰 live" in card.plain
        assert confirm_data(card).endswith(f"@{name}")
        placed = await h.confirm(ADMIN, card)
        assert f"Account {LABELS[name]} · 💰 live" in placed.plain
        assert tuple(world.places().values()) == sim_counts, name

    for name, sim in (("me", world.me), ("wife", world.wife), ("huf", world.huf)):
        [order_no] = sim.orders
        listed = (await h.say(ADMIN, f"/orders {name}")).plain
        assert listed.count("BUY 10 NSE:SBIN") == 1 and order_no in listed, listed
        assert f"Account {LABELS[name]}" in listed

    card = await h.say(ADMIN, "/buy mom NSE:SBIN 10")
    assert f"Account {LABELS['mom']} · 📝 paper" in card.plain
    await h.confirm(ADMIN, card)
    assert tuple(world.places().values()) == (1, 1, 1)  # paper placed nothing at a simulator


async def test_a_user_neither_sees_nor_confirms_an_account_not_his(world: World) -> None:
    h = world.h
    listed = (await h.say(TRADER, "/account")).plain
    assert LABELS["mom"] in listed
    assert not any(LABELS[n] in listed for n in ("me", "wife", "huf"))

    refused = (await h.say(TRADER, "/positions me")).plain
    assert "You have no account called 'me'" in refused
    assert refused.replace("'me'", "'nosuch'") == (await h.say(TRADER, "/account nosuch")).plain
    assert LABELS["me"] not in refused

    every = (await h.say(TRADER, "/positions all")).plain
    assert not any(LABELS[n] in every for n in ("me", "wife", "huf"))
    assert LABELS["me"] in (await h.say(ADMIN, "/positions all")).plain

    # A Confirm naming an account that is not his: refused as if the bot were not his.
    card = await h.say(ADMIN, "/buy me NSE:SBIN 10")
    data = confirm_data(card)
    own = await h.say(TRADER, "/account")  # a message of the bot's in his own chat to tap
    answer = await h.tap(TRADER, own, data)
    assert answer.get("text") == "Sorry, this is a private bot.", answer
    # The same intent, its data made to name an account of his (or, for the owner, another
    # account of the owner's): not valid there.
    invalid = "This confirmation is not valid; nothing was sent."
    answer = await h.tap(TRADER, own, data.rpartition("@")[0] + "@mom")
    assert answer.get("text") == invalid, answer
    answer = await h.tap(ADMIN, card, data.rpartition("@")[0] + "@wife")
    assert answer.get("text") == invalid, answer
    assert world.places() == {"me": 0, "wife": 0, "huf": 0}
    # The owner's own tap still works: the refusals did not spend the card.
    await h.confirm(ADMIN, card)
    assert world.places() == {"me": 1, "wife": 0, "huf": 0}


async def test_one_accounts_broker_trouble_leaves_the_others_trading(world: World) -> None:
    h = world.h
    world.wife.egress_ip = ELSEWHERE  # the wife's broker sees the order from an unlisted IP
    card = await h.say(ADMIN, "/buy wife NSE:SBIN 10")
    await h.tap(ADMIN, card, confirm_data(card))
    wife_card = await h.telegram.wait_for_edit(
        ADMIN, card.message_id, lambda t: not t.startswith("Confirm"), timeout=10
    )
    assert "Not placed" in wife_card.plain and "IP address is not whitelisted" in wife_card.plain
    assert wife_card.plain.endswith(f"Account {LABELS['wife']} · 💰 live")

    # "me"'s session ends at the broker, and the login that would renew it is refused.
    world.me.expected_totp = lambda code: False
    world.me.expire_sessions()
    card = await ask_card(h, "/buy me NSE:SBIN 10")
    await h.tap(ADMIN, card, confirm_data(card))
    me_card = await h.telegram.wait_for_edit(
        ADMIN, card.message_id, lambda t: not t.startswith("Confirm"), timeout=20
    )
    assert "Not placed" in me_card.plain and "Logging in to the broker failed" in me_card.plain
    assert me_card.plain.endswith(f"Account {LABELS['me']} · 💰 live")
    assert world.me.orders == {} and world.wife.orders == {}

    # The others trade on: the mStock and the paper account.
    placed = await h.confirm(ADMIN, await ask_card(h, "/buy huf NSE:SBIN 10"))
    [huf_order] = world.huf.orders
    assert huf_order in placed.plain
    placed = await h.confirm(ADMIN, await ask_card(h, "/buy mom NSE:SBIN 10"))
    assert "PAPER" in placed.plain
    assert world.me.orders == {} and world.wife.orders == {}


async def test_each_account_has_its_own_rate_limit(world: World) -> None:
    h = world.h
    # One order each first, so the burst measures the limiters rather than the first order's
    # one-off work (a master to read, connections to open) in this one shared event loop.
    for name in ("me", "wife"):
        await h.confirm(ADMIN, await h.say(ADMIN, f"/buy {name} NSE:SBIN 1"))
    before = {"me": len(world.me.calls), "wife": len(world.wife.calls)}
    per_account = 11  # one more than a second's budget: each limiter must hold one back
    cards: list[StoredMessage] = []
    for name in ("me", "wife"):
        for _ in range(per_account):
            cards.append(await h.say(ADMIN, f"/buy {name} NSE:SBIN 1"))
    for card in cards:
        h.telegram.tap(ADMIN, card.message_id, confirm_data(card), chat_id=card.chat_id)
    await h.telegram.wait_for(
        lambda t: (
            len(world.me.calls_of("place")) + len(world.wife.calls_of("place"))
            == 2 * per_account + 2
        ),
        timeout=20,
        what="every order at the simulators",
    )
    me = [c.at for c in world.me.calls[before["me"] :] if c.kind == "place"]
    wife = [c.at for c in world.wife.calls[before["wife"] :] if c.kind == "place"]
    assert max_in_a_second(me) <= 10 and max_in_a_second(wife) <= 10
    assert max_in_a_second(me + wife) > 10  # one shared limiter would allow 10


def max_in_a_second(times: list[float]) -> int:
    """The most arrivals in any sliding one-second window (each window starts at an arrival)."""
    ordered = sorted(times)
    return max(sum(1 for t in ordered if start <= t < start + 1.0) for start in ordered)


async def test_the_account_button_changes_what_a_bare_buy_acts_on(world: World) -> None:
    h = world.h
    listing = await h.say(ADMIN, "/account")
    assert "▶️ me" in listing.plain
    answer = await h.tap(ADMIN, listing, h.button(listing, "Use wife"))
    assert answer.get("text") == f"Commands now act on {LABELS['wife']}."
    card = await h.say(ADMIN, "/buy NSE:SBIN 10")
    assert f"Account {LABELS['wife']} · 💰 live" in card.plain
    await h.confirm(ADMIN, card)
    assert world.places() == {"me": 0, "wife": 1, "huf": 0}


async def test_account_with_a_name_switches_and_a_stranger_account_is_refused(
    world: World,
) -> None:
    h = world.h
    switched = await h.say(ADMIN, "/account huf")
    assert "▶️ huf" in switched.plain
    card = await h.say(ADMIN, "/buy NSE:SBIN 10")
    assert f"Account {LABELS['huf']} · 💰 live" in card.plain
    refused = await h.say(TRADER, "/account me")
    assert refused.plain.startswith("You have no account called 'me'. Yours: mom")
