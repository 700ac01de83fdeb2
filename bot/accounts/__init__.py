"""One broker account: the IP gate, the session, the call policy and the order-rate limiter,
composed by `Account`, the only door from the core to a broker session; and which accounts
there are (`load_accounts`: ACCOUNTS_FILE, or the single-account settings)."""

from bot.accounts.account import Account
from bot.accounts.calls import ip_refusal
from bot.accounts.config import (
    KOTAK_NEEDS,
    MSTOCK_NEEDS,
    AccountConfig,
    account_secrets,
    load_accounts,
    paper_state_path,
    single_account,
    users_of,
)
from bot.accounts.egress import EgressChecker, EgressReading, IPAddress, parse_ip
from bot.accounts.gate import Whitelist
from bot.accounts.limiter import SlidingWindowLimiter
from bot.accounts.session import IST
from bot.accounts.session_file import SavedSession, SessionFile
from bot.accounts.status import NO_WHITELIST_WARNING, SessionStatus
from bot.accounts.totp import TotpClock, TotpSource, check_seed

__all__ = [
    "IST",
    "KOTAK_NEEDS",
    "MSTOCK_NEEDS",
    "NO_WHITELIST_WARNING",
    "Account",
    "AccountConfig",
    "EgressChecker",
    "EgressReading",
    "IPAddress",
    "SavedSession",
    "SessionFile",
    "SessionStatus",
    "SlidingWindowLimiter",
    "TotpClock",
    "TotpSource",
    "Whitelist",
    "account_secrets",
    "check_seed",
    "ip_refusal",
    "load_accounts",
    "paper_state_path",
    "parse_ip",
    "single_account",
    "users_of",
]
