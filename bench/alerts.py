"""How long the alert engine takes to evaluate one price for every instrument.

10,000 active alerts (above, below, crosses, move; one-shot and repeat) on 500 instruments,
each already on the side its previous price put it, then one fresh price for every instrument,
moved up to `--move` % from the previous one (0.5 % by default: a large move for one 5-second
check; `--move 2` is a market-wide jump that fires about one alert in seven). Times
`AlertEngine.evaluate` over all 500 quotes (the engine alone: no SQLite, no network) and checks
that the number of alerts that fired equals the count worked out here independently, alert by
alert, from the rules as `bot/market/alerts.py` states them. Each run builds a new engine from
the same seeded alerts; a run reports the best and the median of `--repeats` evaluations
(the machine is shared: the best is the engine's own cost).

    python bench/alerts.py [--alerts 10000] [--instruments 500] [--runs 3] [--move 0.5]
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.market.alerts import Alert, AlertEngine, AlertKind, Evaluation, Side
from brokers.models import Quote

NOW = datetime(2026, 4, 1, 5, 0, tzinfo=UTC)
TICK = Decimal("0.05")
KINDS = list(AlertKind)


def on_tick(value: float) -> Decimal:
    return (Decimal(str(value)) / TICK).to_integral_value() * TICK


def expected_fire(
    kind: AlertKind, level: Decimal, ref: Decimal | None, old: Decimal, new: Decimal
) -> bool:
    """The rules, written out directly: did the move from `old` to `new` fire this alert?"""
    if kind is AlertKind.ABOVE:
        return old < level <= new
    if kind is AlertKind.BELOW:
        return new <= level < old
    if kind is AlertKind.CROSSES:
        return old < level < new or new < level < old
    assert ref is not None
    low, high = ref - ref * level / 100, ref + ref * level / 100

    def zone(p: Decimal) -> int:
        return 1 if p >= high else -1 if p <= low else 0

    return zone(new) != 0 and zone(new) != zone(old)


def side_before(kind: AlertKind, level: Decimal, ref: Decimal | None, old: Decimal) -> Side:
    """Where the previous price left the alert (what the store would have reloaded)."""
    if kind is AlertKind.ABOVE:
        return Side.ABOVE if old >= level else Side.BELOW
    if kind is AlertKind.BELOW:
        return Side.BELOW if old <= level else Side.ABOVE
    if kind is AlertKind.CROSSES:
        return Side.ABOVE if old > level else Side.BELOW
    assert ref is not None
    low, high = ref - ref * level / 100, ref + ref * level / 100
    return Side.ABOVE if old >= high else Side.BELOW if old <= low else Side.INSIDE


def scenario(
    alerts: int, instruments: int, seed: int, move: float
) -> tuple[list[Alert], list[Quote], int]:
    """Alerts as the previous prices left them, the new prices, and how many should fire. A
    one-shot alert past its level would have fired and be gone, so one-shots start armed."""
    rng = random.Random(seed)
    keys = [f"NSE:STOCK{n:03d}" for n in range(instruments)]
    old = {k: on_tick(rng.uniform(50, 5000)) for k in keys}
    new = {k: on_tick(float(old[k]) * (1 + rng.uniform(-move, move) / 100)) for k in keys}
    made: list[Alert] = []
    expected = 0
    for n in range(alerts):
        key, kind, repeat = keys[n % instruments], KINDS[n % len(KINDS)], n % 2 == 0
        price = float(old[key])
        ref: Decimal | None = None
        if kind is AlertKind.MOVE:  # the reference within 1 %: a one-shot's band is wider
            ref = on_tick(price * (1 + rng.uniform(-0.01, 0.01)))
            level = Decimal(rng.choice(("0.5", "1", "2", "3") if repeat else ("1.5", "2", "3")))
        elif kind is AlertKind.ABOVE and not repeat:
            level = on_tick(price * (1 + rng.uniform(0, 0.03))) + TICK
        elif kind is AlertKind.BELOW and not repeat:
            level = on_tick(price * (1 - rng.uniform(0, 0.03))) - TICK
        else:
            level = on_tick(price * (1 + rng.uniform(-0.03, 0.03)))
            if kind is AlertKind.CROSSES and level == old[key]:
                level += TICK  # a crosses alert with a previous price has a side
        made.append(
            Alert(
                id=n + 1,
                user_id=1,
                chat_id=1,
                key=key,
                kind=kind,
                level=level,
                reference=ref,
                repeat=repeat,
                side=side_before(kind, level, ref, old[key]),
            )
        )
        expected += expected_fire(kind, level, ref, old[key], new[key])
    quotes = [Quote(key=k, ltp=new[k], at=NOW) for k in keys]
    return made, quotes, expected


def evaluate_once(alerts: list[Alert], quotes: list[Quote]) -> tuple[float, Evaluation]:
    """A new engine holding `alerts`, then one timed evaluation (ms) of `quotes`."""
    engine = AlertEngine(max_age=timedelta(minutes=5))
    for alert in alerts:
        engine.add(alert)
    gc.collect()  # the building's garbage is not the engine's cost (bench/gc_pause.py)
    start = time.perf_counter()
    result = engine.evaluate(quotes, NOW)
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alerts", type=int, default=10_000)
    parser.add_argument("--instruments", type=int, default=500)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=7, help="evaluations per run")
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--move", type=float, default=0.5, help="largest price move, in %%")
    args = parser.parse_args()
    alerts, quotes, expected = scenario(args.alerts, args.instruments, args.seed, args.move)
    print(
        f"{args.alerts} alerts on {args.instruments} instruments, one price each, moved up to "
        f"{args.move} %; each run: {args.repeats} evaluations, each on a new engine"
    )
    for run in range(1, args.runs + 1):
        times = []
        for _ in range(args.repeats):
            took, result = evaluate_once(alerts, quotes)
            times.append(took)
            if len(result.fired) != expected:
                print(f"MISMATCH: fired {len(result.fired)}, expected {expected}")
                sys.exit(1)
        print(
            f"run {run}: evaluate best {min(times):.3f} ms, median {statistics.median(times):.3f}"
            f" ms (target < 2 ms); fired {len(result.fired)} = expected {expected}; "
            f"states to save {len(result.states)}"
        )


if __name__ == "__main__":
    main()
