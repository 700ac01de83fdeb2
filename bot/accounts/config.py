"""Which broker accounts the bot serves, and who may use each (issue 14).

Without ACCOUNTS_FILE nothing changes: today's single-account variables (BROKER, BROKER_API_KEY...)
make one account named after the broker. With it, a TOML file holds one `[accounts.NAME]` table
per account, with the same keys as those variables minus `BROKER_` (see accounts.example.toml).

Each value is written in the file or named as `{ env = "VARIABLE" }`, read from the environment or
`.env`. A file holding any secret inline must be owner-only (`chmod 600`), like `.env` from
run.sh; a file of references only may be readable by others, since it then holds no secret. No
other user may write it in any case: its `users` tables say who may trade.

Every value goes through the same rule as its variable (`bot.settings.check_*`), so a wrong MPIN
reads the same in both places; every problem is one line naming the file, the account and the
key, and never the value.
"""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

from dotenv import dotenv_values
from pydantic import SecretStr

from bot.errors import ConfigError
from bot.settings import (
    BROKERS,
    Role,
    Settings,
    check_broker,
    check_ip,
    check_label,
    check_mobile,
    check_mpin,
    check_totp_secret,
)

__all__ = [
    "KOTAK_NEEDS",
    "MSTOCK_NEEDS",
    "AccountConfig",
    "account_secrets",
    "load_accounts",
    "paper_state_path",
    "single_account",
]

# Which key carries which Kotak credential (the names follow OpenAlgo's .env, minus BROKER_).
KOTAK_NEEDS = (
    ("mobile", "the registered mobile number"),
    ("api_key", "the UCC (client code)"),
    ("api_secret", "the access token from the Neo API dashboard"),
    ("mpin", "the MPIN"),
    ("totp_secret", "the base32 TOTP secret"),
)

# mStock's factors, as OpenAlgo's mStock set-up page names them (api_key = client code).
MSTOCK_NEEDS = (
    ("api_key", "the mStock client code (login id)"),
    ("api_secret", "the Type B API key from Trading APIs"),
    ("password", "the trading password"),
    ("totp_secret", "the base32 TOTP secret from Generate TOTP"),
)

_NEEDS: dict[str, tuple[tuple[str, str], ...]] = {
    "paper": (),
    "kotak": KOTAK_NEEDS,
    "mstock": MSTOCK_NEEDS,
}

_NAME = re.compile(r"[a-z][a-z0-9-]{0,15}")
# Words the chat commands use where an account name may stand (`/orders all`, `/notify on`).
_RESERVED = frozenset({"all", "on", "off", "help"})

_SECRET_KEYS = ("api_key", "api_secret", "totp_secret", "mpin", "mobile", "password")
_PLAIN_KEYS = ("broker", "label", "static_ip_primary", "static_ip_secondary")
# The daily limits an account may set for itself (else DAILY_MAX_LOSS & co. apply; 0 = none).
LIMIT_KEYS = ("daily_max_loss", "daily_max_orders", "max_order_value")
_KEYS = (*_PLAIN_KEYS, *_SECRET_KEYS, *LIMIT_KEYS, "users")

_SECRET_RULES: dict[str, Callable[[SecretStr | None], SecretStr | None]] = {
    "mpin": check_mpin,
    "mobile": check_mobile,
    "totp_secret": check_totp_secret,
}


@dataclass(frozen=True, slots=True)
class AccountConfig:
    """One broker account as configured: its broker's factors, its whitelisted IPs and who may
    use it. The factors mean what the BROKER_* variables of the same name mean."""

    name: str
    broker: str
    api_key: SecretStr | None
    api_secret: SecretStr | None
    totp_secret: SecretStr | None
    mpin: SecretStr | None
    mobile: SecretStr | None
    password: SecretStr | None
    static_ip_primary: str | None
    static_ip_secondary: str | None
    users: Mapping[int, Role] = field(hash=False)
    label: str
    # The account's own daily limits by LIMIT_KEYS name; a key left out takes the setting's.
    limits: Mapping[str, int] = field(default_factory=dict, hash=False)


def single_account(settings: Settings) -> AccountConfig:
    """Without ACCOUNTS_FILE: today's single-account variables, as one account named after the
    broker."""
    return AccountConfig(
        name=settings.broker,
        broker=settings.broker,
        api_key=settings.broker_api_key,
        api_secret=settings.broker_api_secret,
        totp_secret=settings.broker_totp_secret,
        mpin=settings.broker_mpin,
        mobile=settings.broker_mobile,
        password=settings.broker_password,
        static_ip_primary=settings.static_ip_primary,
        static_ip_secondary=settings.static_ip_secondary,
        users=MappingProxyType(dict(settings.allowed_users)),
        label=settings.account_label or settings.broker,
    )


def load_accounts(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> list[AccountConfig]:
    """The accounts of ACCOUNTS_FILE in file order, else `[single_account(settings)]`.

    `environ` answers `{ env = ... }` references; by default the environment, then `.env` in
    the working directory (the file Settings reads), since pydantic-settings does not export
    `.env` to the environment. Raise ConfigError with one line per problem."""
    path = settings.accounts_file
    if path is None:
        return [single_account(settings)]
    if environ is None:
        environ = _environment()
    document = _read(path)
    reader = _Reader(f"ACCOUNTS_FILE {path}", environ, settings.allowed_users)
    accounts = reader.accounts(document)
    reader.check_permissions(path)
    if reader.problems:
        raise ConfigError("\n".join(reader.problems))
    return accounts


def account_secrets(accounts: Sequence[AccountConfig]) -> list[str]:
    """Every secret value of every account, for the log redaction filter."""
    return [
        value.get_secret_value()
        for account in accounts
        for key in _SECRET_KEYS
        if (value := getattr(account, key)) is not None
    ]


def users_of(accounts: Sequence[AccountConfig]) -> dict[int, Role]:
    """Every user of any account, with the highest role they have on one (who may talk to the
    bot at all, and who gets bot-wide notices)."""
    found: dict[int, Role] = {}
    for account in accounts:
        for user, role in account.users.items():
            if user not in found or role.allows(found[user]):
                found[user] = role
    return found


def paper_state_path(settings: Settings, account: AccountConfig) -> Path:
    """Where a paper account keeps its state: PAPER_STATE_PATH for the single account, and
    `paper-NAME.json` in DATA_DIR for each account of the file, so two never share one."""
    if settings.accounts_file is None:
        return settings.paper_state_path
    return settings.data_dir / f"paper-{account.name}.json"


def _environment() -> dict[str, str]:
    """The environment over `.env`, as Settings sees them (empty values count as unset)."""
    dotenv = Path(".env")
    found = {k: v for k, v in dotenv_values(dotenv).items() if v} if dotenv.is_file() else {}
    return {**found, **os.environ}


def _read(path: Path) -> dict[str, object]:
    """The file's TOML, or ConfigError in one line. A syntax error gives its position only:
    the line itself may hold a secret."""
    where = f"ACCOUNTS_FILE {path}"
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{where} does not exist; create it (see accounts.example.toml) or unset ACCOUNTS_FILE."
        ) from None
    except IsADirectoryError:
        raise ConfigError(f"{where} is a folder; expected the accounts file.") from None
    except PermissionError:
        raise ConfigError(f"{where} cannot be read: no permission; make it yours.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where} is not UTF-8 text; save it as UTF-8.") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        spot = re.search(r"line (\d+), column (\d+)", str(exc))
        at = f" at line {spot[1]}, column {spot[2]}" if spot else ""
        raise ConfigError(
            f"{where} is not valid TOML{at}; check the quotes, `=` and brackets there."
        ) from None


class _Reader:
    """Reads the parsed file into accounts, collecting one line per problem."""

    def __init__(self, where: str, environ: Mapping[str, str], fallback: Mapping[int, Role]):
        self._where = where
        self._environ = environ
        self._fallback = fallback
        self.problems: list[str] = []
        self._inline: list[str] = []  # "account "x", key" of each secret written in the file
        self._flagged: set[tuple[str | None, str | None]] = set()

    def _say(self, name: str | None, key: str | None, text: str) -> None:
        self._flagged.add((name, key))
        where = self._where + (f', account "{name}"' if name is not None else "")
        self.problems.append(f"{where}, {key}: {text}." if key else f"{where}: {text}.")

    def accounts(self, document: Mapping[str, object]) -> list[AccountConfig]:
        for key in document:
            if key != "accounts":
                self._say(None, key, "unknown key; the file holds only [accounts.NAME] tables")
        tables = document.get("accounts")
        if not isinstance(tables, dict) or not tables:
            self._say(None, None, 'names no account; add one, e.g. [accounts.me] broker = "paper"')
            return []
        accounts = []
        for name, table in tables.items():
            account = self._account(name, table)
            if account is not None:
                accounts.append(account)
        self._check_labels(accounts)
        if accounts and not any(a.users for a in accounts):
            self._say(
                None,
                None,
                "no account has a user; add an [accounts.NAME.users] table or set "
                "TELEGRAM_ALLOWED_USERS",
            )
        return accounts

    def check_permissions(self, path: Path) -> None:
        """Group or other users may never write the file (it grants roles), nor read it when it
        holds a secret inline."""
        mode = stat.S_IMODE(path.stat().st_mode)
        fix = f"run chmod 600 {path}"
        if mode & 0o022:
            self._say(None, None, f"other users may change it (mode {mode:04o}); {fix}")
        elif mode & 0o044 and self._inline:
            self._say(
                None,
                None,
                f"other users may read it (mode {mode:04o}) and it holds secrets inline "
                f"({'; '.join(self._inline)}); {fix}, or give each secret as "
                '{ env = "VARIABLE" }',
            )

    def _account(self, name: str, table: object) -> AccountConfig | None:
        before = len(self.problems)
        if not _NAME.fullmatch(name) or name in _RESERVED:
            self._say(
                name,
                None,
                "expected a short name: a lower-case letter, then up to 15 lower-case letters, "
                "digits or dashes, not all, on, off or help (e.g. mom or me-kotak)",
            )
        if not isinstance(table, dict):
            self._say(name, None, 'expected a table, e.g. [accounts.me] broker = "paper"')
            return None
        for key in table:
            if key not in _KEYS:
                self._say(name, key, f"unknown key; allowed keys: {', '.join(_KEYS)}")
        broker = self._broker(name, table)
        secrets = {key: self._secret(name, key, table) for key in _SECRET_KEYS}
        for key, what in _NEEDS.get(broker or "", ()):
            # A value with its own line (bad form, unset variable) is not "not set" as well.
            if secrets[key] is None and (name, key) not in self._flagged:
                self._say(name, key, f"not set; broker {broker} needs {what}")
        primary = self._ip(name, "static_ip_primary", table)
        secondary = self._ip(name, "static_ip_secondary", table)
        label = self._label(name, table)
        users = self._users(name, table)
        limits = {key: n for key in LIMIT_KEYS if (n := self._limit(name, key, table)) is not None}
        if len(self.problems) > before or broker is None:
            return None
        return AccountConfig(
            name=name,
            broker=broker,
            api_key=secrets["api_key"],
            api_secret=secrets["api_secret"],
            totp_secret=secrets["totp_secret"],
            mpin=secrets["mpin"],
            mobile=secrets["mobile"],
            password=secrets["password"],
            static_ip_primary=primary,
            static_ip_secondary=secondary,
            users=MappingProxyType(users),
            label=label or name,
            limits=MappingProxyType(limits),
        )

    def _limit(self, name: str, key: str, table: Mapping[str, object]) -> int | None:
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            what = "orders" if key == "daily_max_orders" else "rupees"
            self._say(name, key, f"expected a whole number of {what}, 0 for none (e.g. 5000)")
            return None
        return value

    def _text(self, name: str, key: str, table: Mapping[str, object]) -> str | None:
        """The key's text: written in the file, or read from the variable it names. A number is
        taken as its digits (`mpin = 123456`)."""
        value = table.get(key)
        if value is None:
            return None
        if isinstance(value, dict):
            variable = value.get("env")
            if set(value) != {"env"} or not isinstance(variable, str) or not variable:
                self._say(name, key, 'expected a quoted value or { env = "VARIABLE" }')
                return None
            found = self._environ.get(variable, "")
            if not found.strip():
                self._say(name, key, f"environment variable {variable} is not set or empty")
                return None
            return found
        if isinstance(value, int) and not isinstance(value, bool) and key in _SECRET_KEYS:
            value = str(value)
        if not isinstance(value, str):
            self._say(name, key, 'expected a quoted value or { env = "VARIABLE" }')
            return None
        if key in _SECRET_KEYS and value.strip():
            self._inline.append(f'account "{name}", {key}')
        return value

    def _secret(self, name: str, key: str, table: Mapping[str, object]) -> SecretStr | None:
        text = self._text(name, key, table)
        if text is None or not text.strip():
            return None
        rule = _SECRET_RULES.get(key)
        try:
            return rule(SecretStr(text)) if rule else SecretStr(text.strip())
        except ValueError as exc:
            self._say(name, key, str(exc))
            return None

    def _broker(self, name: str, table: Mapping[str, object]) -> str | None:
        text = self._text(name, "broker", table)
        if text is None:
            if "broker" not in table:
                self._say(name, "broker", f"not set; expected {', '.join(BROKERS)}")
            return None
        try:
            return check_broker(text)
        except ValueError as exc:
            self._say(name, "broker", str(exc))
            return None

    def _ip(self, name: str, key: str, table: Mapping[str, object]) -> str | None:
        try:
            return check_ip(self._text(name, key, table))
        except ValueError as exc:
            self._say(name, key, str(exc))
            return None

    def _label(self, name: str, table: Mapping[str, object]) -> str:
        try:
            return check_label(self._text(name, "label", table) or "")
        except ValueError as exc:
            self._say(name, "label", str(exc))
            return ""

    def _users(self, name: str, table: Mapping[str, object]) -> dict[int, Role]:
        """The account's `users` table, or TELEGRAM_ALLOWED_USERS when it has none."""
        listed = table.get("users")
        if listed is None:
            return dict(self._fallback)
        example = 'e.g. 111111 = "admin"'
        if not isinstance(listed, dict) or not listed:
            self._say(name, "users", f"expected a table of user id = role, {example}")
            return {}
        users: dict[int, Role] = {}
        roles = ", ".join(role.value for role in Role)
        for uid, role in listed.items():
            if not uid.isdigit():
                self._say(name, "users", f"{uid!r} is not a Telegram user id; {example}")
                continue
            if int(uid) in users:
                self._say(name, "users", f"user id {int(uid)} is listed twice; give each id once")
                continue
            try:
                users[int(uid)] = Role(str(role).strip().lower())
            except ValueError:
                self._say(name, f"users.{uid}", f"{role!r} is not a role; expected {roles}")
        return users

    def _check_labels(self, accounts: Sequence[AccountConfig]) -> None:
        """Two accounts shown under one label could not be told apart in chat."""
        seen: dict[str, str] = {}
        for account in accounts:
            other = seen.setdefault(account.label.casefold(), account.name)
            if other != account.name:
                self._say(
                    account.name,
                    "label",
                    f'"{account.label}" is also the label of account "{other}"; give each its own',
                )
