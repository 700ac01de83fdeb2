"""Scrip-master parsing on the real header and units (ref §10), symbol mapping, file choice and
the on-disk cache."""

from __future__ import annotations

import csv
import io
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from brokers.errors import InstrumentNotFound
from brokers.kotak.master import (
    COMPACT_NAME,
    MasterCache,
    ScripMaster,
    expiry_date,
    fo_symbol,
    index_instruments,
    parse_master_file,
    parse_master_rows,
    pick_files,
    strike_rupees,
    tick_rupees,
)
from brokers.models import InstrumentKind
from tests.fakes.kotak_sim import CM_HEADER, FO_HEADER, master_row

# rules.md §3.6 validation regex for options.
OPT = re.compile(
    r"^(?P<root>[A-Z0-9&_-]+?)(?P<dd>\d{2})(?P<mon>JAN|FEB|MAR|APR|MAY|JUN|JUL|AUG|SEP|OCT|NOV|DEC)"
    r"(?P<yy>\d{2})(?P<strike>\d+(?:\.\d+)?)(?P<right>CE|PE)$"
)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def _csv(header: list[str], rows: list[dict[str, str]]) -> list[list[str]]:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(header)
    writer.writerows(master_row(header, r) for r in rows)
    return list(csv.reader(io.StringIO(text.getvalue())))


# The worked example of ref §10.4, with the 2026-08 nse_fo lot (65) and tick (5) of §10.2/§10.3.
NIFTY_PE = {
    "pSymbol": "52100",
    "pGroup": "XX",
    "pExchSeg": "nse_fo",
    "pInstType": "OPTIDX",
    "pSymbolName": "NIFTY",
    "pTrdSymbol": "NIFTY2692221000PE",
    "pOptionType": "PE",
    "pScripRefKey": "NIFTY22SEP2621000.00PE",
    "dTickSize ": "5",
    "lLotSize": "65",
    "lExpiryDate ": "1474554600",
    "lPrecision": "2",
    "dStrikePrice;": "2.1e+06",
    "lFreezeQty": "1801",
}


def test_reference_nse_fo_row() -> None:
    [inst] = parse_master_rows(_csv(FO_HEADER, [NIFTY_PE]), "nse_fo")
    assert inst.key == "NFO:NIFTY22SEP2621000PE"
    assert inst.kind is InstrumentKind.PUT
    assert inst.tick_size == Decimal("0.05")
    assert inst.strike == Decimal("21000")
    assert str(inst.strike) == "21000"
    assert inst.lot_size == 65
    assert inst.expiry == date(2026, 9, 22)  # 1474554600 + 315513000 (1980 epoch)
    assert inst.underlying == "NIFTY"
    assert inst.freeze_qty == 1801
    assert inst.broker_ref == "nse_fo|52100|NIFTY2692221000PE"  # `ts` comes from the master


def test_reference_mcx_row_unix_epoch() -> None:
    """ref §10.3: mcx `1.485e+07` -> 148500 (GOLDM25SEP26148500CE), `1790380799` = 2026-09-25."""
    row = {
        **NIFTY_PE,
        "pSymbol": "445566",
        "pExchSeg": "mcx_fo",
        "pSymbolName": "GOLDM",
        "pTrdSymbol": "GOLDM25SEP148500CE",
        "pOptionType": "CE",
        "dTickSize ": "50",
        "lLotSize": "1",
        "lExpiryDate ": "1790380799",
        "dStrikePrice;": "1.485e+07",
    }
    [inst] = parse_master_rows(_csv(FO_HEADER, [row]), "mcx_fo")
    assert inst.key == "MCX:GOLDM25SEP26148500CE"
    assert inst.tick_size == Decimal("0.5")
    assert inst.expiry == date(2026, 9, 25)
    assert inst.strike == Decimal(148500)


def test_cash_rows_series_and_indices() -> None:
    rows = [
        {
            "pSymbol": "2885",
            "pGroup": "EQ",
            "pExchSeg": "nse_cm",
            "pSymbolName": "RELIANCE",
            "pTrdSymbol": "RELIANCE-EQ",
            "pISIN": "INE002A01018",
            "pDesc": "RELIANCE INDUSTRIES LTD",
            "dTickSize ": "5",
            "lLotSize": "1",
            "lExpiryDate ": "-1",
            "dStrikePrice;": "-1",
            "dHighPriceRange ": "259105",
            "lFreezeQty": "-1",
        },
        {
            "pSymbol": "2031",
            "pGroup": "EQ",
            "pExchSeg": "nse_cm",
            "pSymbolName": "M&M",
            "pTrdSymbol": "M&M-EQ",
            "pISIN": "INE101A01026",
            "pDesc": "MAHINDRA & MAHINDRA, LTD",
            "dTickSize ": "1",
            "lLotSize": "1",
            "lExpiryDate ": "-1",
            "dStrikePrice;": "-1",
        },
        {
            "pSymbol": "3812",
            "pGroup": "BE",
            "pExchSeg": "nse_cm",
            "pSymbolName": "ZEEL",
            "pTrdSymbol": "ZEEL-BE",
            "pISIN": "INE256A01028",
            "dTickSize ": "1",
            "lLotSize": "1",
            "lExpiryDate ": "-1",
            "dStrikePrice;": "-1",
        },
        # index row: empty pISIN/pGroup, dTickSize -1 (ref §10.2): quotes only, not listed here
        {
            "pSymbol": "26000",
            "pExchSeg": "nse_cm",
            "pSymbolName": "NIFTY",
            "pTrdSymbol": "NIFTY",
            "dTickSize ": "-1",
            "lLotSize": "1",
            "lExpiryDate ": "-1",
            "dStrikePrice;": "-1",
        },
    ]
    parsed = {i.key: i for i in parse_master_rows(_csv(CM_HEADER, rows), "nse_cm")}
    assert set(parsed) == {"NSE:RELIANCE", "NSE:M&M", "NSE:ZEEL-BE"}
    rel = parsed["NSE:RELIANCE"]
    assert (rel.tick_size, rel.lot_size, rel.kind) == (Decimal("0.05"), 1, InstrumentKind.EQUITY)
    assert rel.expiry is None and rel.strike is None and rel.freeze_qty is None
    assert rel.broker_ref == "nse_cm|2885|RELIANCE-EQ"
    assert parsed["NSE:M&M"].name == "MAHINDRA & MAHINDRA, LTD"  # quoted comma survives
    assert parsed["NSE:M&M"].tick_size == Decimal("0.01")


def test_header_with_stripped_names_parses_too() -> None:
    stripped = [h.strip().rstrip(";") for h in FO_HEADER]
    rows = _csv(FO_HEADER, [NIFTY_PE])
    [inst] = parse_master_rows([stripped, *rows[1:]], "nse_fo")
    assert inst.key == "NFO:NIFTY22SEP2621000PE"


def test_futures_fractional_strikes_duplicates_and_junk() -> None:
    fut = {
        **NIFTY_PE,
        "pSymbol": "52000",
        "pTrdSymbol": "NIFTY26SEPFUT",
        "pOptionType": "XX",
        "dStrikePrice;": "-1",
        "dTickSize ": "10",
    }
    frac = {
        **NIFTY_PE,
        "pSymbol": "60001",
        "pSymbolName": "IDEA",
        "pTrdSymbol": "IDEA26SEP9.5CE",
        "pOptionType": "CE",
        "dStrikePrice;": "950",
    }
    dup = {**NIFTY_PE, "pSymbol": "99999"}
    short = ["1", "2"]
    rows = _csv(FO_HEADER, [NIFTY_PE, fut, frac, dup])
    parsed = parse_master_rows([*rows, short], "nse_fo")
    keys = [i.key for i in parsed]
    assert keys == ["NFO:NIFTY22SEP2621000PE", "NFO:NIFTY22SEP26FUT", "NFO:IDEA22SEP269.5CE"]
    assert parsed[1].kind is InstrumentKind.FUTURE and parsed[1].strike is None
    assert parsed[1].tick_size == Decimal("0.1")
    assert parsed[0].broker_ref.split("|")[1] == "52100"  # first row wins on a duplicate


def test_unit_helpers() -> None:
    assert strike_rupees("2.925e+04") == Decimal("292.5")
    assert strike_rupees("-1") is None and strike_rupees("") is None
    assert tick_rupees("25.000000", "4") == Decimal("0.0025")  # cde_fo reading of §10.3
    assert tick_rupees("-1", "2") is None
    assert expiry_date("-1", "nse_fo") is None
    assert expiry_date("1474554600", "cde_fo") == date(2026, 9, 22)
    assert expiry_date("1790067600", "bse_fo") == date(2026, 9, 22)  # Unix for bse_fo


def test_missing_columns_is_unavailable() -> None:
    from brokers.errors import BrokerUnavailable

    with pytest.raises(BrokerUnavailable, match="missing columns"):
        parse_master_rows([["pSymbol", "pTrdSymbol"], ["1", "X"]], "nse_cm")
    assert parse_master_rows([], "nse_cm") == []


@given(
    paise=st.integers(min_value=1, max_value=10**8),
    day=st.dates(min_value=date(2024, 1, 1), max_value=date(2035, 12, 31)),
    right=st.sampled_from(["CE", "PE"]),
)
def test_option_symbols_match_the_openalgo_shape(paise: int, day: date, right: str) -> None:
    strike = strike_rupees(f"{paise:.6g}" if paise % 7 else str(paise))
    assert strike is not None
    symbol = fo_symbol("NIFTY", day, right, strike)
    match = OPT.match(symbol)
    assert match is not None, symbol
    assert Decimal(match["strike"]) == strike
    assert not match["strike"].endswith(".0") and "E" not in match["strike"]
    assert (match["dd"], match["right"]) == (f"{day.day:02d}", right)


def test_pick_files_by_exact_name() -> None:
    base = "https://lapi.kotaksecurities.com/wso2-scripmaster/v1/prod/2026-07-14"
    urls = [
        f"{base}/transformed/nse_com.csv",
        f"{base}/transformed/nse_fo.csv",
        f"{base}/transformed/nse_cm.csv",
        f"{base}/transformed-v1/nse_cm-v1.csv",
        f"{base}/transformed/mcx_fo.csv",
    ]
    chosen = pick_files(urls, ["nse_cm", "nse_fo", "bse_cm"])
    assert chosen == {"nse_cm": urls[3], "nse_fo": urls[1]}


def test_index_lookup_and_resolve() -> None:
    rows = _csv(FO_HEADER, [NIFTY_PE])
    master = ScripMaster(index_instruments(), date(2026, 9, 1))
    parse_master_rows(rows, "nse_fo", master)
    assert master.resolve("nfo:nifty22sep2621000pe").strike == Decimal(21000)
    assert master.resolve("NSE_INDEX:NIFTY").broker_ref == "nse_cm|Nifty 50|"  # quoted by name
    assert master.key_for("nse_fo", "52100") == "NFO:NIFTY22SEP2621000PE"
    assert master.key_for("nse_fo", "", "NIFTY2692221000PE") == "NFO:NIFTY22SEP2621000PE"
    assert master.key_for("nse_fo", "1", "GONE26SEPFUT") == "NFO:GONE26SEPFUT"
    with pytest.raises(InstrumentNotFound, match="NFO:NIFTY22SEP2621000PE"):
        master.resolve("NFO:NIFTY22SEP2621000CE")
    again = ScripMaster(master.instruments, master.day)  # rebuild from broker_ref
    assert again.by_token.keys() == master.by_token.keys()


async def test_cache_downloads_once_per_day_and_prunes(tmp_path: Path) -> None:
    content = "\n".join(",".join(r) for r in _csv(FO_HEADER, [NIFTY_PE])).encode()
    listed: list[int] = []
    fetched: list[str] = []

    async def list_files() -> list[str]:
        listed.append(1)
        return ["https://cdn.test/x/transformed/nse_fo.csv"]

    async def download(url: str) -> bytes:
        fetched.append(url)
        return content

    cache = MasterCache(tmp_path, ["nse_fo", "nse_cm"])
    day1, day2 = date(2026, 9, 1), date(2026, 9, 2)
    first = await cache.load(day1, list_files, download)
    second = await cache.load(day1, list_files, download)
    assert len(first) == len(second) == 1 + len(index_instruments())
    assert (len(listed), len(fetched)) == (1, 1)
    await cache.load(day2, list_files, download)
    assert (len(listed), len(fetched)) == (2, 2)
    assert _names(tmp_path) == ["2026-09-02"]
    assert parse_master_file(tmp_path / "2026-09-02" / "nse_fo.csv", "nse_fo")[0].lot_size == 65


async def test_the_compact_copy_is_written_after_the_load_returns(tmp_path: Path) -> None:
    """The parse's compact copy is written later, off the start-up path (bench/startup.py),
    and a restart of the same day then loads it; a cache closed first writes none."""
    content = "\n".join(",".join(r) for r in _csv(FO_HEADER, [NIFTY_PE])).encode()

    async def list_files() -> list[str]:
        return ["https://cdn.test/x/transformed/nse_fo.csv"]

    async def download(url: str) -> bytes:
        return content

    day = date(2026, 9, 1)
    compact = tmp_path / "2026-09-01" / COMPACT_NAME
    closed = MasterCache(tmp_path, ["nse_fo"], save_after=60)
    await closed.load(day, list_files, download)
    await closed.close()
    assert not compact.exists()
    cache = MasterCache(tmp_path, ["nse_fo"], save_after=0)
    first = await cache.load(day, list_files, download)
    assert cache.saving is not None and not compact.exists()  # not on the load's path
    await cache.saving
    assert compact.stat().st_mode & 0o777 == 0o600
    restarted = MasterCache(tmp_path, ["nse_fo"], save_after=0)
    again = await restarted.load(day, list_files, download)
    assert restarted.saving is None  # read from the compact copy: nothing to write
    assert again.instruments == first.instruments
