"""The simulated market: current prices of every built-in instrument and how they move.

Each equity and index follows a random walk that is pulled gently back to its reference price, so
a bot left running for weeks keeps spot near the middle of the fixed strike grid and far from the
circuits. Futures and options are re-priced from their index after every move. Everything here is
synchronous and in memory; the broker decides when to move and when to persist.
"""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from brokers.models import Instrument, InstrumentKind, Quote
from brokers.paper.instruments import REFERENCE_PRICES, has_traded, underlying_key
from brokers.paper.pricing import circuit_limits, future_price, option_price, to_tick

STEP_SIGMA = 0.0005  # σ of one tick's log return (0.05 %)
REVERSION = 0.0005  # share of the log distance to the reference price recovered each tick


@dataclass(slots=True)
class _Tape:
    """One instrument's session so far. `close` is the previous close; `ltp` None = not traded."""

    close: Decimal | None
    ltp: Decimal | None = None
    open: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    at: datetime | None = None

    def print(self, price: Decimal, at: datetime) -> None:
        self.ltp, self.at = price, at
        if self.open is None:
            self.open = price
        self.high = price if self.high is None else max(self.high, price)
        self.low = price if self.low is None else min(self.low, price)


class Market:
    """Prices for `instruments`. `closes` and `prices` give the previous close and the current
    price of each equity and index (keys not in the list are ignored; missing ones start at the
    reference price). `clock` stamps every price (the broker's clock, so tests can move time)."""

    def __init__(
        self,
        instruments: Sequence[Instrument],
        today: date,
        rng: random.Random,
        closes: Mapping[str, Decimal],
        prices: Mapping[str, Decimal],
        clock: Callable[[], datetime],
    ) -> None:
        self._today = today
        self._clock = clock
        self._rng = rng
        self._instruments = {instrument.key: instrument for instrument in instruments}
        # Index key → its traded derivatives (untraded strikes are never priced).
        self._derivatives: dict[str, list[Instrument]] = defaultdict(list)
        for instrument in instruments:
            if (key := underlying_key(instrument)) is not None and has_traded(instrument):
                self._derivatives[key].append(instrument)
        self._walk = {
            key: float(prices.get(key, REFERENCE_PRICES[key]))
            for key in self._instruments
            if key in REFERENCE_PRICES
        }
        self._tapes = {key: _Tape(close=None) for key in self._instruments}
        for key in self._walk:
            close = closes.get(key, REFERENCE_PRICES[key])
            self._tapes[key].close = close
            for derivative in self._derivatives[key]:
                self._tapes[derivative.key].close = self._model(derivative, close)
        now = self._clock()
        for key in self._walk:
            self._publish(key, prices.get(key, REFERENCE_PRICES[key]), now)

    def instrument(self, key: str) -> Instrument | None:
        return self._instruments.get(key)

    def ltp(self, key: str) -> Decimal | None:
        tape = self._tapes.get(key)
        return tape.ltp if tape else None

    def spot(self, instrument: Instrument) -> Decimal:
        """The price of what `instrument` is priced from: its index, or itself for an equity."""
        ltp = self._tapes[underlying_key(instrument) or instrument.key].ltp
        assert ltp is not None  # equities and indices always have a price
        return ltp

    def underlying_prices(self) -> dict[str, Decimal]:
        """Current equity and index prices: what must survive a restart (derivatives follow)."""
        return {key: self.spot(self._instruments[key]) for key in self._walk}

    def underlying_closes(self) -> dict[str, Decimal]:
        return {key: close for key in self._walk if (close := self._tapes[key].close) is not None}

    def quote(self, key: str) -> Quote:
        instrument, tape = self._instruments[key], self._tapes[key]
        tick = instrument.tick_size
        lower, upper = circuit_limits(instrument, tape.close, tape.ltp)
        # An index has a price but no order book; an untraded contract has neither.
        traded = tape.ltp if instrument.kind is not InstrumentKind.INDEX else None
        return Quote(
            key=key,
            ltp=tape.ltp,
            at=tape.at,
            bid=traded - tick if traded is not None and traded > tick else None,
            ask=traded + tick if traded is not None else None,
            open=tape.open,
            high=tape.high,
            low=tape.low,
            close=tape.close,
            upper_circuit=upper,
            lower_circuit=lower,
        )

    def step(self) -> None:
        """One tick: move every equity and index, then re-price their derivatives."""
        now = self._clock()
        for key, price in self._walk.items():
            pull = REVERSION * math.log(float(REFERENCE_PRICES[key]) / price)
            self._walk[key] = moved = price * math.exp(pull + self._rng.gauss(0.0, STEP_SIGMA))
            tick = self._instruments[key].tick_size
            self._publish(key, max(to_tick(moved, tick), tick), now)

    def set_price(self, key: str, ltp: Decimal) -> None:
        """Set one instrument's LTP exactly (test and bench control). Setting an index re-prices its
        futures and options; a derivative set directly keeps the price until its index moves."""
        instrument = self._instruments.get(key)
        if instrument is None:
            raise KeyError(f"Unknown paper instrument {key}")
        if not has_traded(instrument):
            raise ValueError(f"{key} has never traded: its LTP stays None by design")
        if ltp <= 0 or ltp % instrument.tick_size:
            raise ValueError(f"{ltp} is not a positive multiple of the tick {instrument.tick_size}")
        if key in self._walk:
            self._walk[key] = float(ltp)
            self._publish(key, ltp, self._clock())
        else:
            self._tapes[key].print(ltp, self._clock())

    def _publish(self, key: str, price: Decimal, at: datetime) -> None:
        """Print an equity or index price and re-price everything derived from it."""
        self._tapes[key].print(price, at)
        for derivative in self._derivatives.get(key, ()):
            self._tapes[derivative.key].print(self._model(derivative, price), at)

    def _model(self, derivative: Instrument, spot: Decimal) -> Decimal:
        assert derivative.expiry is not None
        days = (derivative.expiry - self._today).days
        if derivative.kind is InstrumentKind.FUTURE:
            return future_price(float(spot), days, derivative.tick_size)
        assert derivative.strike is not None
        return option_price(
            derivative.kind, float(spot), float(derivative.strike), days, derivative.tick_size
        )
