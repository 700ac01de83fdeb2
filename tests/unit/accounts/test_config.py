"""ACCOUNTS_FILE: several broker accounts from one TOML file, or the single-account settings
when it is not set. Every problem is one line naming the file, the account and the key."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
from pydantic import SecretStr

from bot.accounts import (
    AccountConfig,
    account_secrets,
    load_accounts,
    paper_state_path,
    single_account,
)
from bot.errors import ConfigError
from bot.settings import Role, Settings, load_settings

TOKEN = "123456:ABC-def_GHI"
SEED = "JBSWY3DPEHPK3PXP"

FOUR = """
[accounts.me-kotak]
broker = "kotak"
label = "Me (Kotak)"
api_key = "AB1234"
api_secret = { env = "ME_KOTAK_TOKEN" }
mobile = "9876543210"
mpin = { env = "ME_KOTAK_MPIN" }
totp_secret = { env = "ME_KOTAK_TOTP" }
static_ip_primary = "203.0.113.7"
static_ip_secondary = "203.0.113.8"
[accounts.me-kotak.users]
111111 = "admin"
222222 = "viewer"

[accounts.wife]
broker = "kotak"
api_key = { env = "WIFE_UCC" }
api_secret = { env = "WIFE_TOKEN" }
mobile = { env = "WIFE_MOBILE" }
mpin = { env = "WIFE_MPIN" }
totp_secret = { env = "WIFE_TOTP" }
static_ip_primary = "203.0.113.7"

[accounts.huf]
broker = "mstock"
label = "Family HUF"
api_key = { env = "HUF_CLIENT" }
api_secret = { env = "HUF_KEY" }
password = { env = "HUF_PASSWORD" }
totp_secret = { env = "HUF_TOTP" }
[accounts.huf.users]
111111 = "trader"

[accounts.mom]
broker = "paper"
"""

ENV = {
    "ME_KOTAK_TOKEN": "tok-me-1",
    "ME_KOTAK_MPIN": "123456",
    "ME_KOTAK_TOTP": SEED,
    "WIFE_UCC": "WF999",
    "WIFE_TOKEN": "tok-wife-2",
    "WIFE_MOBILE": "+919812345678",
    "WIFE_MPIN": "4321",
    "WIFE_TOTP": "JBSW Y3DP EHPK 3PXQ",
    "HUF_CLIENT": "HUF01",
    "HUF_KEY": "typeb-key-3",
    "HUF_PASSWORD": "pass-word-4",
    "HUF_TOTP": SEED,
}

MINIMAL_KOTAK = """
[accounts.k]
broker = "kotak"
api_key = "AB1234"
api_secret = { env = "T" }
mobile = "9876543210"
mpin = { env = "M" }
totp_secret = { env = "S" }
"""


def settings_for(tmp_path: Path, text: str | None, *, users: str | None = "42") -> Settings:
    values: dict[str, object] = {"telegram_bot_token": TOKEN, "data_dir": tmp_path / "data"}
    if users is not None:
        values["telegram_allowed_users"] = users
    if text is not None:
        path = tmp_path / "accounts.toml"
        path.write_text(textwrap.dedent(text))
        path.chmod(0o600)
        values["accounts_file"] = path
    return load_settings(_env_file=None, **values)


def problems(settings: Settings, environ: dict[str, str] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load_accounts(settings, environ if environ is not None else {})
    return str(err.value).splitlines()


# -- without ACCOUNTS_FILE nothing changes ---------------------------------------------------


def test_without_a_file_the_single_account_settings_are_one_account(tmp_path: Path) -> None:
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1,2:viewer",
        broker="kotak",
        broker_api_key="AB1234",
        broker_mpin=" 1234 ",
        static_ip_primary="203.0.113.7",
        account_label="Family HUF",
        data_dir=tmp_path,
    )
    [account] = load_accounts(settings, {})
    assert account == single_account(settings)
    assert (account.name, account.broker, account.label) == ("kotak", "kotak", "Family HUF")
    assert account.mpin is not None and account.mpin.get_secret_value() == "1234"
    assert dict(account.users) == {1: Role.ADMIN, 2: Role.VIEWER}
    assert account.static_ip_primary == "203.0.113.7" and account.static_ip_secondary is None
    assert paper_state_path(settings, account) == settings.paper_state_path


def test_the_single_account_is_labelled_after_its_broker_by_default(tmp_path: Path) -> None:
    account = single_account(settings_for(tmp_path, None))
    assert (account.name, account.label) == ("paper", "paper")


def test_allowed_users_stay_required_without_a_file() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, telegram_bot_token=TOKEN)
    assert str(err.value) == "TELEGRAM_ALLOWED_USERS is not set; it is required."


# -- the file -----------------------------------------------------------------------------


def test_four_accounts_in_file_order(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, FOUR, users="42,43:viewer")
    accounts = load_accounts(settings, ENV)
    assert [(a.name, a.broker, a.label) for a in accounts] == [
        ("me-kotak", "kotak", "Me (Kotak)"),
        ("wife", "kotak", "wife"),
        ("huf", "mstock", "Family HUF"),
        ("mom", "paper", "mom"),
    ]
    me, wife, huf, mom = accounts
    assert dict(me.users) == {111111: Role.ADMIN, 222222: Role.VIEWER}
    assert dict(huf.users) == {111111: Role.TRADER}
    # No users table: TELEGRAM_ALLOWED_USERS, so an owner lists himself once.
    assert dict(wife.users) == dict(mom.users) == {42: Role.ADMIN, 43: Role.VIEWER}
    assert me.api_secret == SecretStr("tok-me-1") and me.api_key == SecretStr("AB1234")
    assert (me.static_ip_primary, me.static_ip_secondary) == ("203.0.113.7", "203.0.113.8")
    assert wife.mobile == SecretStr("+919812345678") and wife.mpin == SecretStr("4321")
    assert huf.password == SecretStr("pass-word-4") and huf.mpin is None
    assert mom.api_key is None and mom.totp_secret is None
    assert paper_state_path(settings, mom) == tmp_path / "data" / "paper-mom.json"
    assert set(account_secrets(accounts)) == {"AB1234", "9876543210", *ENV.values()}


def test_a_file_makes_allowed_users_optional(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, FOUR, users=None)
    assert settings.allowed_users == {} and settings.warnings() == []
    accounts = {a.name: a for a in load_accounts(settings, ENV)}
    assert dict(accounts["mom"].users) == {}  # allowed nowhere: simply not allowed
    assert dict(accounts["huf"].users) == {111111: Role.TRADER}


def test_no_user_in_any_account_is_refused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, '[accounts.mom]\nbroker = "paper"\n', users=None)
    assert problems(settings) == [
        f"ACCOUNTS_FILE {settings.accounts_file}: no account has a user; add an "
        "[accounts.NAME.users] table or set TELEGRAM_ALLOWED_USERS."
    ]


def test_a_relative_path_is_taken_from_the_working_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, accounts_file="accounts.toml", data_dir="d"
    )
    assert settings.accounts_file == tmp_path / "accounts.toml"


def test_references_are_read_from_the_environment_and_dotenv(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = settings_for(tmp_path, MINIMAL_KOTAK)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".env").write_text(f"T=from-dotenv\nM=1111\nS={SEED}\n")
    monkeypatch.setenv("M", "2222")  # the environment wins over .env, as for Settings
    [account] = load_accounts(settings)
    assert account.api_secret == SecretStr("from-dotenv") and account.mpin == SecretStr("2222")


# -- one line per problem, naming the account and the key ---------------------------------


def test_every_problem_has_its_line(tmp_path: Path) -> None:
    text = """
    extra = 1
    [accounts.Mom]
    broker = "paper"
    [accounts.all]
    broker = "paper"
    [accounts.k]
    broker = "kotak"
    apikey = "AB1234"
    api_secret = { env = "UNSET_TOKEN" }
    mobile = "12345"
    mpin = { env = "K_MPIN" }
    totp_secret = { variable = "X" }
    static_ip_primary = "300.1.1.1"
    label = "Mom"
    [accounts.k.users]
    12ab = "admin"
    7 = "boss"
    [accounts.m]
    broker = "zerodha"
    [accounts.s]
    broker = "mstock"
    api_key = "C1"
    [accounts.nob]
    label = "x"
    """
    settings = settings_for(tmp_path, text)
    lines = problems(settings, {"K_MPIN": "12"})
    f = f"ACCOUNTS_FILE {settings.accounts_file}"
    expected = [
        f"{f}, extra: unknown key; the file holds only [accounts.NAME] tables.",
        f'{f}, account "Mom": expected a short name: a lower-case letter',
        f'{f}, account "all": expected a short name',
        f'{f}, account "k", apikey: unknown key; allowed keys: broker, label, static_ip_primary',
        f'{f}, account "k", api_secret: environment variable UNSET_TOKEN is not set or empty.',
        f'{f}, account "k", totp_secret: expected a quoted value or {{ env = "VARIABLE" }}.',
        f'{f}, account "k", mpin: expected your 4- or 6-digit MPIN, digits only (e.g. 123456).',
        f'{f}, account "k", mobile: expected the 10-digit mobile number registered with the',
        f'{f}, account "k", api_key: not set; broker kotak needs the UCC (client code).',
        f'{f}, account "k", static_ip_primary: expected the public IPv4 or IPv6 address',
        f'{f}, account "k", users: \'12ab\' is not a Telegram user id; e.g. 111111 = "admin".',
        f"{f}, account \"k\", users.7: 'boss' is not a role; expected viewer, trader, admin.",
        f'{f}, account "m", broker: expected paper, kotak or mstock, e.g. BROKER=paper.',
        f'{f}, account "s", api_secret: not set; broker mstock needs the Type B API key from',
        f'{f}, account "s", password: not set; broker mstock needs the trading password.',
        f'{f}, account "s", totp_secret: not set; broker mstock needs the base32 TOTP secret',
        f'{f}, account "nob", broker: not set; expected paper, kotak, mstock.',
    ]
    assert len(lines) == len(expected), "\n".join(lines)
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), (line, start)


def test_duplicate_labels_are_refused(tmp_path: Path) -> None:
    text = '[accounts.me]\nbroker = "paper"\nlabel = "Mom"\n[accounts.mom]\nbroker = "paper"\n'
    settings = settings_for(tmp_path, text)
    assert problems(settings) == [
        f'ACCOUNTS_FILE {settings.accounts_file}, account "mom", label: "mom" is also the label '
        'of account "me"; give each its own.'
    ]


def test_a_wrong_totp_seed_gets_the_settings_sentence(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, MINIMAL_KOTAK)
    [line] = problems(settings, {"T": "t", "M": "1234", "S": "123456"})
    assert line.endswith(
        'account "k", totp_secret: that looks like a 6-digit code, not the TOTP secret; '
        "expected the seed shown when you set up TOTP, e.g. JBSWY3DPEHPK3PXP."
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "names no account; add one"),
        ("[accounts]\n", "names no account; add one"),
        ("accounts = 3\n", "names no account; add one"),
        ("[accounts.x]\nbroker = paper\n", "is not valid TOML at line 2, column 10; check"),
        ('[accounts.x]\nbroker = "paper"\n[accounts.x]\n', "is not valid TOML at line 3"),
        ('[accounts.x]\nbroker = "paper"\nusers = {}\n', 'account "x", users: expected a table'),
    ],
)
def test_file_shapes(tmp_path: Path, text: str, expected: str) -> None:
    [line] = problems(settings_for(tmp_path, text))
    assert expected in line


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, '[accounts.x]\nbroker = "paper"\n')
    assert settings.accounts_file is not None
    settings.accounts_file.unlink()
    assert problems(settings) == [
        f"ACCOUNTS_FILE {settings.accounts_file} does not exist; create it (see "
        "accounts.example.toml) or unset ACCOUNTS_FILE."
    ]


# -- permissions and secrets --------------------------------------------------------------


def test_a_readable_file_with_a_secret_inline_is_refused(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, MINIMAL_KOTAK)
    assert settings.accounts_file is not None
    environ = {"T": "t", "M": "1234", "S": SEED}
    assert [a.name for a in load_accounts(settings, environ)] == ["k"]  # 0600
    settings.accounts_file.chmod(0o644)
    assert problems(settings, environ) == [
        f"ACCOUNTS_FILE {settings.accounts_file}: other users may read it (mode 0644) and it "
        'holds secrets inline (account "k", api_key; account "k", mobile); run chmod 600 '
        f'{settings.accounts_file}, or give each secret as {{ env = "VARIABLE" }}.'
    ]


def test_a_readable_file_of_references_only_is_fine(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, FOUR.replace('"AB1234"', '{ env = "ME_UCC" }'))
    assert settings.accounts_file is not None
    text = settings.accounts_file.read_text().replace('"9876543210"', '{ env = "ME_MOBILE" }')
    settings.accounts_file.write_text(text)
    settings.accounts_file.chmod(0o644)
    environ = {**ENV, "ME_UCC": "AB1234", "ME_MOBILE": "9876543210"}
    assert len(load_accounts(settings, environ)) == 4


def test_a_file_others_may_write_is_refused_even_without_secrets(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, '[accounts.x]\nbroker = "paper"\n')
    assert settings.accounts_file is not None
    settings.accounts_file.chmod(0o666)
    assert problems(settings) == [
        f"ACCOUNTS_FILE {settings.accounts_file}: other users may change it (mode 0666); "
        f"run chmod 600 {settings.accounts_file}."
    ]


def test_secrets_never_appear_in_the_messages(tmp_path: Path) -> None:
    text = """
    [accounts.k]
    broker = "kotak"
    api_key = "AB1234"
    api_secret = [ "inline-s3cret-token" ]
    mobile = "55555-s3cret"
    mpin = { env = "M" }
    totp_secret = "s3cret-seed-0"
    [accounts.bad]
    broker = "paper"
    label = "x"
    nope = "inline-s3cret-token"
    """
    settings = settings_for(tmp_path, text)
    assert settings.accounts_file is not None
    settings.accounts_file.chmod(0o644)
    message = "\n".join(problems(settings, {"M": "98s3cret12"}))
    for secret in ("s3cret", "AB1234", "55555", "98s3cret12"):
        assert secret not in message
    assert 'account "k", mpin: expected your 4- or 6-digit MPIN' in message
    assert 'account "k", api_secret: expected a quoted value' in message


def test_a_syntax_error_never_shows_the_line(tmp_path: Path) -> None:
    settings = settings_for(tmp_path, '[accounts.k]\nbroker = "kotak"\nmpin = 12s3cret34\n')
    [line] = problems(settings)
    assert "s3cret" not in line and "line 3" in line


def test_account_configs_are_frozen(tmp_path: Path) -> None:
    account = single_account(settings_for(tmp_path, None))
    with pytest.raises(AttributeError):
        account.name = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        account.users[1] = Role.ADMIN  # type: ignore[index]
    assert isinstance(account, AccountConfig)


def test_single_account_variables_beside_a_file_are_named_as_unused(tmp_path: Path) -> None:
    path = tmp_path / "accounts.toml"
    path.write_text('[accounts.me]\nbroker = "paper"\n')
    path.chmod(0o600)
    settings = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="42",
        data_dir=tmp_path / "data",
        accounts_file=path,
        broker_api_key="AB1234",
        static_ip_primary="203.0.113.7",
    )
    [warning] = [w for w in settings.warnings() if "ACCOUNTS_FILE" in w]
    assert "BROKER_API_KEY, STATIC_IP_PRIMARY are not used" in warning
    assert "AB1234" not in warning
    assert not [w for w in settings_for(tmp_path, None).warnings() if "ACCOUNTS_FILE" in w]


def test_the_example_file_loads_as_documented(tmp_path: Path) -> None:
    """accounts.example.toml is what a user copies: it must load, references filled in."""
    example = Path(__file__).resolve().parents[3] / "accounts.example.toml"
    text = example.read_text()
    settings = settings_for(tmp_path, text)
    variables = set(re.findall(r'env = "([A-Z_]+)"', text))
    values = {name: "x" for name in variables}
    values.update({n: "JBSWY3DPEHPK3PXPJBSWY3DP" for n in variables if n.endswith("TOTP")})
    values.update({n: "123456" for n in variables if n.endswith("MPIN")})
    accounts = load_accounts(settings, values)
    assert [a.name for a in accounts][:3] == ["me-kotak", "huf", "mom"]
    assert accounts[0].limits == {
        "daily_max_loss": 5000,
        "daily_max_orders": 100,
        "max_order_value": 200000,
    }
