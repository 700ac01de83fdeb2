"""Scrip-master bench: parse a 150,000-row nse_fo-shaped CSV, index it, resolve 100,000 symbols,
then build the core's instrument index over it and time /search.

Targets: load (parse + index) < 2 s, lookup < 20 µs, peak memory < 200 MB, search well under a
millisecond on the event loop (a query with very many candidates is checked in a thread).
Run: `.venv/bin/python bench/scrip_master.py [--rows N] [--lookups N] [--tracemalloc]`.
Rows use the simulator's generator, so the header, units and symbol shapes are Kotak's (ref §10).
`--tracemalloc` measures Python allocations precisely but slows parsing ~10x, so the timing run
and the tracemalloc run are separate; peak RSS (ru_maxrss) is always printed.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.market.follow import keep_out_of_gc
from bot.market.instruments import InstrumentIndex
from brokers.kotak.master import ScripMaster, index_instruments, parse_master_file
from tests.fakes.kotak_sim import FO_HEADER, fo_row


def generate(path: Path, rows: int) -> None:
    """`rows` option/future rows: many underlyings x 3 expiries x strikes x CE/PE."""
    today = date.today()
    expiries = [today + timedelta(days=7 * k + 1) for k in (0, 4, 8)]
    strikes_per_side = 125
    per_name = len(expiries) * (strikes_per_side * 2 + 1)
    names = [f"STK{i:03d}" for i in range(rows // per_name + 1)]
    token = 40000
    written = 0
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(FO_HEADER)
        for n, name in enumerate(names):
            base = 100 + n * 10
            for expiry in expiries:
                for k in range(-1, strikes_per_side):
                    for option in ("XX",) if k < 0 else ("CE", "PE"):
                        if written >= rows:
                            return
                        token += 1
                        row, _, _ = fo_row(
                            FO_HEADER,
                            token=token,
                            name=name,
                            expiry=expiry,
                            option=option,
                            strike=None if option == "XX" else base + k * 5,
                            lot=500,
                            tick_paise=5,
                            weekly=False,
                            freeze=10000,
                        )
                        writer.writerow(row)
                        written += 1


def load(path: Path) -> ScripMaster:
    master = ScripMaster(index_instruments(), date.today())
    parse_master_file(path, "nse_fo", master)
    return master


def search_queries(master: ScripMaster, count: int, rng: random.Random) -> list[str]:
    """What users type: an underlying, an expiry, a strike, a side, in some combination."""
    queries = []
    for inst in rng.sample(master.instruments, count):
        parts = [inst.name.lower()]
        if inst.expiry is not None and rng.random() < 0.5:
            parts.append(inst.expiry.strftime("%d%b").lower())
        if inst.strike is not None:
            parts.append(format(inst.strike, "f"))
        if inst.kind.value in ("CE", "PE") or rng.random() < 0.5:
            parts.append(inst.symbol[-2:].lower())
        queries.append(" ".join(parts))
    return queries


async def time_searches(index: InstrumentIndex, queries: list[str]) -> list[float]:
    """Microseconds per search, as the handler awaits it."""
    spans = []
    for text in queries:
        started = time.perf_counter()
        await index.search(text)
        spans.append((time.perf_counter() - started) * 1e6)
    return spans


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=150_000)
    parser.add_argument("--lookups", type=int, default=100_000)
    parser.add_argument("--tracemalloc", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nse_fo.csv"
        started = time.perf_counter()
        generate(path, args.rows)
        size_mb = path.stat().st_size / 1e6
        print(
            f"generated {args.rows:,} rows ({size_mb:.1f} MB) in "
            f"{time.perf_counter() - started:.1f} s"
        )

        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        started = time.perf_counter()
        master = load(path)
        load_s = time.perf_counter() - started
        rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

        keys = [i.key for i in master.instruments]
        rng = random.Random(7)
        wanted = [rng.choice(keys) for _ in range(args.lookups)]
        started = time.perf_counter()
        for key in wanted:
            master.resolve(key)
        lookup_us = (time.perf_counter() - started) / len(wanted) * 1e6

        print(f"instruments indexed: {len(master):,}")
        print(f"load (parse + index): {load_s:.2f} s   [target < 2 s]")
        print(f"lookup: {lookup_us:.2f} µs per resolve over {len(wanted):,}   [target < 20 µs]")
        print(
            f"peak RSS: {rss_after:.0f} MB (process; {rss_before:.0f} MB before load)   "
            "[target < 200 MB]"
        )

        started = time.perf_counter()
        index = InstrumentIndex(master.instruments)
        print(f"core instrument index build: {time.perf_counter() - started:.2f} s (in a thread)")
        keep_out_of_gc()  # as the bot does once the master and the index are loaded
        typed = sorted(asyncio.run(time_searches(index, search_queries(master, 1000, rng))))
        print(
            f"search, 1,000 typed queries: median {typed[len(typed) // 2]:.0f} µs, "
            f"p99 {typed[int(len(typed) * 0.99)]:.0f} µs, max {typed[-1]:.0f} µs"
        )
        broad = ["ce", "pe 5", "lt", "fut", "xyzzy"]
        for text, span in zip(broad, asyncio.run(time_searches(index, broad)), strict=True):
            print(f"search {text!r}: {span:.0f} µs")

        if args.tracemalloc:
            del master
            tracemalloc.start()
            load(path)
            _, peak = tracemalloc.get_traced_memory()
            tracemalloc.stop()
            print(f"tracemalloc peak during load: {peak / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
