"""The compact instrument cache gives back exactly what was saved, only for the same format and
stamp, ignores a damaged file, is owner-only; and the Kotak master uses it on a same-day
restart, parsing again when it is damaged or its CSVs changed."""

from __future__ import annotations

import base64
import json
import os
import tracemalloc
from array import array
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from brokers import compact_cache
from brokers.kotak.master import COMPACT_NAME, ScripMaster, build_master
from brokers.models import Instrument, InstrumentKind
from tests.fakes.kotak_sim import KotakSimulator

INSTRUMENTS = [
    Instrument("NSE", "SBIN", "STATE BANK OF INDIA", InstrumentKind.EQUITY, Decimal("0.05"),
               broker_ref="nse_cm|3045|SBIN-EQ"),
    Instrument("NFO", "NIFTY22SEP2621000PE", "NIFTY", InstrumentKind.PUT, Decimal("0.05"), 65,
               1800, date(2026, 9, 22), Decimal(21000), "NIFTY", "nse_fo|52100|NIFTY2692221000PE"),
    Instrument("NFO", "IDEA22SEP269.5CE", "IDEA", InstrumentKind.CALL, Decimal("0.01"), 7000,
               None, date(2026, 9, 22), Decimal("9.5"), "IDEA", "nse_fo|60001|IDEA26SEP9.5CE"),
    Instrument("CDS", "USDINR22SEP26FUT", "USDINR", InstrumentKind.FUTURE, Decimal("0.0025"),
               1000, None, date(2026, 9, 22), None, "USDINR", "cde_fo|1|USDINR26SEPFUT"),
    Instrument("NSE_INDEX", "NIFTY", "Nifty 50", InstrumentKind.INDEX, Decimal("0.05"),
               broker_ref="nse_cm|Nifty 50|"),
]  # fmt: skip


def test_round_trip_is_exact(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    compact_cache.write(path, INSTRUMENTS, "2026-09-01;a")
    back = compact_cache.read(path, "2026-09-01;a")
    assert back == INSTRUMENTS
    assert back is not None
    assert [i.key for i in back] == [i.key for i in INSTRUMENTS]
    assert [str(i.tick_size) for i in back] == ["0.05", "0.05", "0.01", "0.0025", "0.05"]
    assert str(back[2].strike) == "9.5"
    assert os.stat(path).st_mode & 0o777 == 0o600
    assert not path.with_name(path.name + ".part").exists()


def test_another_stamp_or_format_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    compact_cache.write(path, INSTRUMENTS, "2026-09-01;a")
    assert compact_cache.read(path, "2026-09-02;a") is None
    document = json.loads(path.read_text())
    document["format"] = "instruments/0"
    path.write_text(json.dumps(document))
    assert compact_cache.read(path, "2026-09-01;a") is None
    assert compact_cache.read(tmp_path / "absent.json", "2026-09-01;a") is None


def test_an_empty_list_and_a_newline_in_a_symbol(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    compact_cache.write(path, [], "s")
    assert compact_cache.read(path, "s") == []
    odd = Instrument("NSE", "A\nB", "A", InstrumentKind.EQUITY, Decimal("0.05"))
    with pytest.raises(ValueError, match="newline"):
        compact_cache.write(path, [odd], "s")


def test_a_damaged_file_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "instruments.json"
    compact_cache.write(path, INSTRUMENTS, "s")
    whole = path.read_bytes()
    document = json.loads(whole)
    short = json.loads(whole)
    short["joined"]["symbol"] = short["joined"]["symbol"].rpartition("\n")[0]
    wrong_type = json.loads(whole)
    wrong_type["tables"]["name"][0] = 7
    bad_index = json.loads(whole)
    bad_index["indexes"]["kind"] = base64.b64encode(array("I", [99] * 5).tobytes()).decode()
    few_indexes = json.loads(whole)
    few_indexes["indexes"]["lot_size"] = base64.b64encode(array("I", [0] * 4).tobytes()).decode()
    not_base64 = json.loads(whole)
    not_base64["indexes"]["expiry"] = "*not base64*"
    bad_kind = json.loads(whole)
    bad_kind["tables"]["kind"][0] = "SWAP"
    bad_tick = json.loads(whole)
    bad_tick["tables"]["tick_size"][0] = "five paise"
    damaged = [
        whole[: len(whole) // 2],
        b"\x00\xff garbage",
        b"[]",
        json.dumps({**document, "joined": []}).encode(),
        *(
            json.dumps(d).encode()
            for d in (short, wrong_type, bad_index, few_indexes, not_base64, bad_kind, bad_tick)
        ),
    ]
    for content in damaged:
        path.write_bytes(content)
        assert compact_cache.read(path, "s") is None, content[:80]


def master_files(tmp_path: Path) -> dict[str, Path]:
    sim = KotakSimulator(stock_count=20, today=date(2026, 9, 1))
    day_dir = tmp_path / "2026-09-01"
    day_dir.mkdir()
    files = {}
    for segment, name in (("nse_cm", "nse_cm-v1.csv"), ("nse_fo", "nse_fo.csv")):
        files[segment] = day_dir / f"{segment}.csv"
        files[segment].write_bytes(sim._files[name])
    return files


def parse_and_save(files: dict[str, Path]) -> ScripMaster:
    """`build_master` as `MasterCache.load` runs it, its deferred write included."""
    master, save = build_master(files, date(2026, 9, 1))
    if save is not None:
        save()
    return master


def test_a_same_day_restart_loads_the_compact_copy(tmp_path: Path) -> None:
    files = master_files(tmp_path)
    first = parse_and_save(files)
    compact = tmp_path / "2026-09-01" / COMPACT_NAME
    assert compact.is_file()
    # The CSVs now say something else, but with the same size and time: only the compact copy
    # can give the first parse's instruments back.
    fo = files["nse_fo"]
    stat = fo.stat()
    fo.write_bytes(fo.read_bytes().replace(b"NIFTY", b"NIFTZ"))
    os.utime(fo, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    again = parse_and_save(files)
    assert again.instruments == first.instruments
    assert again.by_token == first.by_token
    assert again.by_trading_symbol == first.by_trading_symbol
    nifty = next(k for k in first.by_key if k.startswith("NFO:NIFTY"))
    assert again.resolve(nifty) == first.resolve(nifty)


def test_a_damaged_or_stale_compact_copy_is_parsed_again(tmp_path: Path) -> None:
    files = master_files(tmp_path)
    first = parse_and_save(files)
    compact = tmp_path / "2026-09-01" / COMPACT_NAME
    compact.write_bytes(compact.read_bytes()[:1000])
    again = parse_and_save(files)
    assert again.instruments == first.instruments
    assert compact_cache.read(compact, "") is None  # rewritten whole: its stamp is not ""
    assert json.loads(compact.read_bytes())["count"] == len(first.instruments)
    # A CSV downloaded again (another size or time) is parsed, not read from the copy.
    fo = files["nse_fo"]
    fo.write_bytes(fo.read_bytes().replace(b"NIFTY", b"NIFTZ"))
    changed = parse_and_save(files)
    assert any(k.startswith("NFO:NIFTZ") for k in changed.by_key)


def test_the_copy_is_written_a_piece_at_a_time(tmp_path: Path) -> None:
    """It is written in a bot that is up: a document made whole in memory (twice, as text and
    bytes) would leave its size in the heap for good, so at most a fraction of it is held."""
    many = [
        Instrument("NFO", f"NIFTY{day:02d}SEP26{strike}CE", "NIFTY", InstrumentKind.CALL,
                   Decimal("0.05"), 65, 1800, date(2026, 9, day), Decimal(strike), "NIFTY",
                   f"nse_fo|{day}{strike}|NIFTY269{day:02d}{strike}CE")
        for day in range(1, 31)
        for strike in range(10_000, 60_000, 50)
    ]  # fmt: skip
    path = tmp_path / "instruments.json"
    tracemalloc.start()
    try:
        compact_cache.write(path, many, "s")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < path.stat().st_size / 2
    assert compact_cache.read(path, "s") == many
