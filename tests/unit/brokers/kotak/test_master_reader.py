"""The fast master reader reads what the csv module reads, and the file parse maps rows exactly
as the csv-row parse does: generated nse_fo rows (the simulator's `fo_row`, with `%g` strikes
and paise ticks) plus the edge cases the live files have or could have."""

from __future__ import annotations

import csv
import io
import tempfile
from datetime import date
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from brokers.kotak.master import (
    ScripMaster,
    file_rows,
    index_instruments,
    parse_master_file,
    parse_master_rows,
    read_rows,
)
from brokers.models import Instrument
from tests.fakes.kotak_sim import CM_HEADER, FO_HEADER, fo_row, master_row


def csv_rows(text: str) -> list[list[str]]:
    """What the old parser read: the csv module over the file (blank lines dropped)."""
    return [row for row in csv.reader(io.StringIO(text, newline="")) if row]


def write_csv(rows: list[list[str]], lineterminator: str = "\n") -> str:
    out = io.StringIO()
    csv.writer(out, lineterminator=lineterminator).writerows(rows)
    return out.getvalue()


FIELD = st.text(alphabet=st.sampled_from('ab1 ,"\n\r;-.'), max_size=8)


@given(st.lists(st.lists(FIELD, min_size=1, max_size=6), min_size=1, max_size=8))
def test_reader_reads_what_the_csv_module_reads(rows: list[list[str]]) -> None:
    for ending in ("\n", "\r\n"):
        text = write_csv(rows, ending)
        assert list(read_rows(io.StringIO(text, newline=""))) == csv_rows(text)


@given(
    st.lists(st.lists(FIELD, min_size=1, max_size=6), min_size=1, max_size=8),
    st.integers(min_value=1, max_value=40),
    st.booleans(),
)
def test_block_reader_reads_what_the_csv_module_reads(
    rows: list[list[str]], block_chars: int, final_newline: bool
) -> None:
    """Blocks end anywhere: inside a line, a quoted field or a CRLF."""
    for ending in ("\n", "\r\n"):
        text = write_csv(rows, ending)
        if not final_newline:
            text = text.removesuffix(ending)
        got = list(file_rows(io.StringIO(text, newline=""), block_chars))
        assert got == csv_rows(text)


def test_reader_edge_cases() -> None:
    """Each text as a file opened with `newline=""` gives its lines to both readers."""
    cases = [
        "a,b,c\n1,2,3\n",
        "a,b,c\n1,2,3",  # no final newline
        'a,b\n1,"MAHINDRA & MAHINDRA, LTD"\n2,x\n',  # a quoted comma (the cash files)
        'a,b\n1,"say ""hi"""\n',  # a quoted quote
        'a,b\n1,"two\nlines"\n2,x\n',  # a quoted field over two lines
        'a,b\n1,"unterminated\n',  # a quote never closed: the csv module's reading
        "a,b\r\n1,2\r\n",  # CRLF
        "a,b\r1,2\r",  # bare CR line ends
        "a,b\n\n1,2\n\n",  # blank lines
        'a,b\r\n1,"x\r\ny"\r\n',  # CRLF inside a quoted field
        "a,b\n1,x\ry\n",  # a bare CR inside a line
        "a,,b\n,,\n",  # empty fields
    ]
    for text in cases:
        assert list(read_rows(io.StringIO(text, newline=""))) == csv_rows(text), text
        for block_chars in (1, 3, 5, 1 << 20):
            assert list(file_rows(io.StringIO(text, newline=""), block_chars)) == csv_rows(text)


def fo_rows() -> tuple[list[list[str]], list[str]]:
    """Generated nse_fo rows and the keys they must map to, with odd rows among them."""
    rows, keys = [], []
    expiry = date(2026, 9, 22)
    for token, (name, strike, option, tick) in enumerate(
        [
            ("NIFTY", 21000, "PE", 5),  # strike 2.1e+06 paise
            ("NIFTY", 24050, "CE", 5),  # 2.405e+06
            ("NIFTY", None, "XX", 10),  # a future, strike -1
            ("IDEA", 9, "CE", 1),  # 900 paise, written plainly
            ("M&M", 2750, "CE", 50),
        ],
        start=40000,
    ):
        row, _, ours = fo_row(
            FO_HEADER, token=token, name=name, expiry=expiry, option=option, strike=strike,
            lot=65, tick_paise=tick, weekly=False, freeze=1800,
        )  # fmt: skip
        rows.append(row)
        keys.append(f"NFO:{ours}")
    index = {name: i for i, name in enumerate(FO_HEADER)}

    def odd(**values: str) -> list[str]:
        row = list(rows[0])
        for name, value in values.items():
            row[index[name]] = value
        return row

    frac = odd(**{"pSymbol": "50001", "pTrdSymbol": "IDEA26SEP9.5CE", "pSymbolName": "idea "})
    frac[index["dStrikePrice;"]] = "950"  # 9.5 rupees
    frac[index["pOptionType"]] = "CE"
    rows.append(frac)
    keys.append("NFO:IDEA22SEP269.5CE")
    rows.append(odd(pSymbol="50002", pTrdSymbol="X1", **{"dStrikePrice;": ""}))  # no strike
    rows.append(odd(pSymbol="50003", pTrdSymbol="X2", **{"dTickSize ": "-1"}))  # no tick
    rows.append(odd(pSymbol="50004", pTrdSymbol="X3", **{"lExpiryDate ": ""}))  # no expiry
    rows.append(odd(pSymbol="", pTrdSymbol="X4"))  # no token
    odd_tick = odd(pSymbol="50005", pTrdSymbol="USDINR26SEPFUT", pSymbolName="USDINR")
    odd_tick[index["pOptionType"]] = "XX"
    odd_tick[index["dTickSize "]] = "25.000000"
    odd_tick[index["lPrecision"]] = "4"  # ₹0.0025
    odd_tick[index["lLotSize"]] = ""  # no lot: 1
    odd_tick[index["lFreezeQty"]] = "-1"  # no freeze limit
    rows.append(odd_tick)
    keys.append("NFO:USDINR22SEP26FUT")
    quoted = odd(pSymbol="50006", pTrdSymbol="TATA26SEP100CE", pSymbolName="TATA")
    quoted[index["dStrikePrice;"]] = "10000"
    quoted[index["pDesc"]] = 'TATA "MOTORS", LTD'  # written quoted: the csv path
    rows.append(quoted)
    keys.append("NFO:TATA22SEP26100PE")
    rows.append(list(rows[0]))  # a duplicate: the first row wins
    rows.append(["1", "2"])  # a short row
    return rows, keys


def test_file_parse_maps_rows_as_the_csv_parse(tmp_path: Path) -> None:
    rows, keys = fo_rows()
    text = write_csv([FO_HEADER, *rows])
    path = tmp_path / "nse_fo.csv"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # with a BOM, as utf-8-sig allows

    fast = ScripMaster(index_instruments(), None)
    parsed = parse_master_file(path, "nse_fo", fast)
    slow = ScripMaster(index_instruments(), None)
    expected = parse_master_rows(csv.reader(io.StringIO(text, newline="")), "nse_fo", slow)

    assert [i.key for i in parsed] == keys
    assert parsed == expected
    assert [(i.key, i.broker_ref, i.tick_size, i.lot_size, i.freeze_qty) for i in parsed] == [
        (i.key, i.broker_ref, i.tick_size, i.lot_size, i.freeze_qty) for i in expected
    ]
    assert fast.by_token == slow.by_token
    assert fast.by_trading_symbol == slow.by_trading_symbol
    assert fast.key_for("nse_fo", "40001") == "NFO:NIFTY22SEP2624050CE"
    assert fast.key_for("nse_fo", "", "IDEA26SEP9.5CE") == "NFO:IDEA22SEP269.5CE"
    usd = fast.by_key["NFO:USDINR22SEP26FUT"]
    assert (str(usd.tick_size), usd.lot_size, usd.freeze_qty) == ("0.0025", 1, None)
    assert fast.by_key["NFO:IDEA22SEP269.5CE"].name == "IDEA"
    assert str(fast.by_key["NFO:NIFTY22SEP2624050CE"].strike) == "24050"


def test_cash_file_with_a_quoted_name(tmp_path: Path) -> None:
    rows = [
        master_row(CM_HEADER, {"pSymbol": "2031", "pGroup": "EQ", "pExchSeg": "nse_cm",
                               "pSymbolName": "M&M", "pTrdSymbol": "M&M-EQ",
                               "pISIN": "INE101A01026", "pDesc": "MAHINDRA & MAHINDRA, LTD",
                               "dTickSize ": "5",
                               "lLotSize": "1", "lExpiryDate ": "-1", "dStrikePrice;": "-1"}),
        master_row(CM_HEADER, {"pSymbol": "26000", "pExchSeg": "nse_cm", "pSymbolName": "NIFTY",
                               "pTrdSymbol": "NIFTY", "dTickSize ": "-1", "lLotSize": "1",
                               "lExpiryDate ": "-1", "dStrikePrice;": "-1"}),
    ]  # fmt: skip
    text = write_csv([CM_HEADER, *rows])
    path = tmp_path / "nse_cm.csv"
    path.write_text(text)
    [inst] = parse_master_file(path, "nse_cm")
    assert (inst.key, inst.name) == ("NSE:M&M", "MAHINDRA & MAHINDRA, LTD")
    assert [inst] == parse_master_rows(csv.reader(io.StringIO(text, newline="")), "nse_cm")


def test_tables_built_from_instruments_match_the_parse(tmp_path: Path) -> None:
    """`ScripMaster(instruments)` (the compact cache's way in) indexes as the parse does, a
    `|` inside a trading symbol and an index's name for a token included."""
    rows, _ = fo_rows()
    index = {name: i for i, name in enumerate(FO_HEADER)}
    rows[1][index["pTrdSymbol"]] = "NIFTY|ODD"
    path = tmp_path / "nse_fo.csv"
    path.write_text(write_csv([FO_HEADER, *rows]))
    parsed = ScripMaster(index_instruments(), None)
    parse_master_file(path, "nse_fo", parsed)
    rebuilt = ScripMaster(parsed.instruments, None)
    assert rebuilt.by_token == parsed.by_token
    assert rebuilt.by_trading_symbol == parsed.by_trading_symbol
    assert rebuilt.key_for("nse_fo", "", "NIFTY|ODD") == "NFO:NIFTY22SEP2624050CE"
    assert rebuilt.key_for("nse_cm", "Nifty 50") == "NSE_INDEX:NIFTY"  # a name for a token


@settings(max_examples=25)
@given(st.integers(min_value=200, max_value=4000), st.booleans())
def test_rows_cut_to_their_wanted_columns_map_as_whole_rows(
    block_chars: int, final_newline: bool
) -> None:
    """Blocks of rows of the header's width are cut to the wanted columns from both ends; a
    block with a short or a long row (an unquoted comma in a name) is split whole instead."""
    rows, _ = fo_rows()
    index = {name: i for i, name in enumerate(FO_HEADER)}
    clean = [row for row in rows if '"' not in ",".join(row) and len(row) == len(FO_HEADER)]
    long = list(clean[1])
    long[index["pInstName"]] = "OPT,IDX"  # unquoted: one column more, between the wanted ones
    long[index["pSymbol"]] = "49999"
    long[index["dStrikePrice;"]] = "9990000"  # another contract than the row it copies
    text = ",".join(FO_HEADER) + "\n" + "".join(",".join(row) + "\n" for row in clean * 3)
    text += ",".join(long) + "\n" + "1,2\n" + "".join(",".join(row) + "\n" for row in clean)
    if not final_newline:
        text = text.removesuffix("\n")
    picked = parse_master_file_text(text, block_chars)
    expected = parse_master_rows(csv.reader(io.StringIO(text, newline="")), "nse_fo")
    assert picked == expected
    assert [i.freeze_qty for i in picked] == [i.freeze_qty for i in expected]
    assert any(i.broker_ref.startswith("nse_fo|49999|") for i in picked)


def parse_master_file_text(text: str, block_chars: int) -> list[Instrument]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nse_fo.csv"
        path.write_text(text)
        return parse_master_file(path, "nse_fo", block_chars=block_chars)
