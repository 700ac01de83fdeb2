"""Kotak Neo wire constants: paths, header values, stCodes, state map, limits.

Everything here is copied from `shared/reference/kotak-neo.md` (cited per block as "ref §n").
Nothing outside `brokers.kotak` may import these names: they are the broker's wire vocabulary.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import time
from enum import StrEnum
from types import MappingProxyType
from typing import Final

from brokers.amo import STANDARD
from brokers.models import AmoWindow
from brokers.wire import IST as IST  # re-exported: one definition for both adapters

DEFAULT_LOGIN_URL: Final = "https://mis.kotaksecurities.com"  # ref §1 (fixed login host)
NEO_FIN_KEY: Final = "neotradeapi"  # ref §2.1: static; sent on the two login calls only (§2.4)
ORDER_SOURCE: Final = "NEOTRADEAPI"  # ref §4.1 `os`
USER_AGENT: Final = "tradebot-kotak/0.1"  # ref §2.5: "use your own User-Agent"

# Paths (ref §12). Login-host paths first, then baseUrl paths.
PATH_LOGIN: Final = "/login/1.0/tradeApiLogin"
PATH_VALIDATE: Final = "/login/1.0/tradeApiValidate"
PATH_CLIENT_IP: Final = "/login/1.0/get-client-ip"
PATH_PLACE: Final = "/quick/order/rule/ms/place"
PATH_MODIFY: Final = "/quick/order/vr/modify"
PATH_CANCEL: Final = "/quick/order/cancel"
PATH_ORDER_BOOK: Final = "/quick/user/orders"
PATH_ORDER_HISTORY: Final = "/quick/order/history"
PATH_TRADE_BOOK: Final = "/quick/user/trades"
# Positions live on two paths (ref §6.1): SDK 3.0.9 uses v2; SDK 3.0.1, OpenAlgo, Postman and
# Kotak's docs use the /quick path. The adapter tries v2 and falls back when it is not served.
PATH_POSITIONS: Final = "/portfolio/v2/positions"
PATH_POSITIONS_QUICK: Final = "/quick/user/positions"
PATH_HOLDINGS: Final = "/portfolio/v1/holdings"
PATH_LIMITS: Final = "/quick/user/limits"
PATH_CHECK_MARGIN: Final = "/quick/user/check-margin"
PATH_QUOTES: Final = "/script-details/1.0/quotes/neosymbol"
PATH_FILE_PATHS: Final = "/script-details/1.0/masterscrip/file-paths"


# check-margin constants and bracket-order keys, always null (ref §6.4 table, [SDK-wire]).
MARGIN_BROKER_NAME: Final = "KOTAK"
MARGIN_BRANCH_ID: Final = "ONLINE"
MARGIN_BRACKET_KEYS: Final = (
    "slAbsOrTks",
    "slVal",
    "sqrOffAbsOrTks",
    "sqrOffVal",
    "trailSL",
    "tSLTks",
)
RMS_VALIDATED: Final = "OK"  # `rmsVldtd` when the RMS passes the order (ref §6.4 sample)


class CallKind(StrEnum):
    """Which credential headers a call carries (ref §2.4 table). Also picks the timeout class."""

    LOGIN = "login"
    VALIDATE = "validate"
    CLIENT_IP = "client_ip"
    ORDERS = "orders"  # place, modify, cancel: IP-checked (ref §11), outcome unknown on timeout
    REPORTS = "reports"  # books, history, positions, holdings, limits, margin: Auth + Sid only
    MARKET_DATA = "market_data"  # quotes, file-paths: Authorization (access token) only
    CDN = "cdn"  # scrip-master CSV: no credentials at all (ref §7.2)


# stCodes (ref §8 table). These get a specific class. Any other Not_Ok is a rejection, except
# on a place, where only `PLACE_REJECTIONS` prove that nothing was placed (see below).
ST_OK: Final = 200
ST_CLIENT_IP_OK: Final = 1000
ST_NO_DATA: Final = 5203
ST_INVALID_QTY: Final = 1009  # on place; the same code means "invalid instrument" on quotes (§7.1)
ST_ORDER_COMPLETED: Final = 1021
ST_INVALID_SESSION: Final = 100022
ST_IP_NOT_WHITELISTED: Final = 100008
ST_SESSION_IP_MISMATCH: Final = 1037
# "Client OrderID already exists": the `ig` tag was used before, even by a cancelled order
# (ref §4.1): 32 ("error from core", v2 SDK era) and 5204 (older). The text is matched too.
ST_DUPLICATE_TAG: Final = frozenset({"32", "5204"})
DUPLICATE_TAG_TEXT: Final = "client orderid already exists"
# The codes a refused place may carry that are known to mean "nothing was placed" (ref §8 table:
# bad input, exchange, symbol, quantity, algo/access type, blank fields). A place refused with any
# other code is an unknown outcome: a new code is not proof that no order exists. 1005 "Internal
# Error" is left out on purpose: an internal error says nothing about the order.
PLACE_REJECTIONS: Final = frozenset({"400", "1006", "1007", "1009", "1017", "5202", "100021"})
GATEWAY_THROTTLED: Final = "900802"  # WSO2 fault code with HTTP 429 (ref §8 shape 3, [3P])
GATEWAY_INVALID_CREDENTIALS: Final = "900901"

QUOTE_BATCH: Final = 50  # ref §7.1: at most 50 instruments per quotes call, enforced by the backend
QUOTE_TYPE: Final = "all"  # carries ltp, ohlc, depth and the circuit band (ref §7.1)

# Expiry epochs (ref §10.3): nse_fo and cde_fo count from 1980-01-01; OpenAlgo adds this offset.
EPOCH_1980_OFFSET: Final = 315513000
SEGMENTS_1980_EPOCH: Final = frozenset({"nse_fo", "cde_fo"})

# Exchange <-> segment (ref §10.4). bcs_fo spelling is unsettled (ref §14 q3).
SEGMENT_TO_EXCHANGE: Final = {
    "nse_cm": "NSE",
    "bse_cm": "BSE",
    "nse_fo": "NFO",
    "bse_fo": "BFO",
    "cde_fo": "CDS",
    "bcs_fo": "BCD",
    "mcx_fo": "MCX",
}
EXCHANGE_TO_SEGMENT: Final = {v: k for k, v in SEGMENT_TO_EXCHANGE.items()}
CASH_SEGMENTS: Final = frozenset({"nse_cm", "bse_cm"})
DEFAULT_SEGMENTS: Final = ("nse_cm", "bse_cm", "nse_fo", "bse_fo")

# Indices are quoted by exact, case-sensitive name in place of a token (ref §7.1, from [OA]).
# Our symbol (rules.md §3.6) -> (segment, Kotak quote name).
INDEX_QUOTE_NAMES: Final = {
    ("NSE_INDEX", "NIFTY"): ("nse_cm", "Nifty 50"),
    ("NSE_INDEX", "BANKNIFTY"): ("nse_cm", "Nifty Bank"),
    ("NSE_INDEX", "FINNIFTY"): ("nse_cm", "Nifty Fin Service"),
    ("NSE_INDEX", "MIDCPNIFTY"): ("nse_cm", "Nifty Mid Select"),
    ("NSE_INDEX", "INDIAVIX"): ("nse_cm", "India VIX"),
    ("BSE_INDEX", "SENSEX"): ("bse_cm", "SENSEX"),
    ("BSE_INDEX", "BANKEX"): ("bse_cm", "BANKEX"),
}

# `ordSt` is lower-case free text (ref §5.1; OpenAlgo's status map). "open" with a partial fill is
# promoted to PARTIALLY_FILLED by the mapper; anything not listed is treated as pending.
ORDER_STATUS: Final = {
    "complete": "COMPLETE",
    "rejected": "REJECTED",
    "cancelled": "CANCELLED",
    "cancelled after market order": "CANCELLED",
    "open": "OPEN",
    "modified": "OPEN",
    "trigger pending": "TRIGGER_PENDING",
    "put order req received": "PENDING",
    "validation pending": "PENDING",
    "open pending": "PENDING",
    "modify validation pending": "PENDING",
    "modify pending": "PENDING",
    "cancel pending": "PENDING",
    "after market order req received": "PENDING",
    "modify after market order req received": "PENDING",
}

# Our order types -> `pt` (ref §4.1). SL-M is deliberately absent: API sessions get it rejected
# with "Market order with Algo Id not allowed" (ref §11, [OA] observed live 2026-07-28).
PRICE_TYPE: Final = {"LIMIT": "L", "MARKET": "MKT", "SL": "SL"}
PRICE_TYPE_BACK: Final = {"L": "LIMIT", "LMT": "LIMIT", "MKT": "MARKET", "SL": "SL", "SL-M": "SL-M"}
SIDE: Final = {"BUY": "B", "SELL": "S"}
SIDE_BACK: Final = {"B": "BUY", "S": "SELL", "BUY": "BUY", "SELL": "SELL"}
# `pc` products beyond ours (ref §4.1: MTF, CO, BO, INTRADAY) folded to the nearest one we model.
PRODUCT_BACK: Final = {
    "CNC": "CNC",
    "MTF": "CNC",
    "NRML": "NRML",
    "MIS": "MIS",
    "INTRADAY": "MIS",
    "CO": "MIS",
    "BO": "MIS",
}

# The AMO flag (`am`) of place, modify and cancel (ref §4.1–4.3): "YES" on an after-market
# order and on every later modify or cancel of it.
AMO_YES: Final = "YES"
AMO_NO: Final = "NO"

# When Kotak takes AMOs (IST). Its own page for equity (kotaksecurities.com "What is AMO and its
# benefits", read 2026-12): NSE 15:45 to 08:57, BSE 15:45 to 08:59 on the next trading day.
# Other segments: the common broker practice (brokers.amo, UNCONFIRMED for Kotak).
AMO_WINDOWS: Final[Mapping[str, AmoWindow]] = MappingProxyType(
    {
        **STANDARD,
        "NSE": AmoWindow(opens=time(15, 45), closes=time(8, 57)),
        "BSE": AmoWindow(opens=time(15, 45), closes=time(8, 59)),
    }
)
