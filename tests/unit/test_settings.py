"""Settings: defaults, the allowlist grammar, and config errors that name the variable."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from bot.errors import ConfigError
from bot.orders.lpp import DEFAULT_LPP
from bot.orders.protection import Band
from bot.settings import Role, Settings, load_settings, parse_allowed_users

TOKEN = "123456:ABC-def_GHI"


def test_minimal_settings_default_to_paper() -> None:
    s = load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="42")
    assert s.broker == "paper"
    assert s.allowed_users == {42: Role.ADMIN}
    assert s.confirm_ttl_seconds == 60
    assert s.telegram_base_url == "https://api.telegram.org/bot"


def test_allowed_users_roles() -> None:
    assert parse_allowed_users(" 1, 2:viewer ,3:TRADER,4:admin") == {
        1: Role.ADMIN,
        2: Role.VIEWER,
        3: Role.TRADER,
        4: Role.ADMIN,
    }
    assert Role.ADMIN.allows(Role.TRADER) and not Role.VIEWER.allows(Role.TRADER)


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"telegram_allowed_users": "abc"}, "TELEGRAM_ALLOWED_USERS: expected comma-separated"),
        ({"telegram_allowed_users": "1:boss"}, "'boss' is not a role"),
        ({"telegram_allowed_users": ""}, "TELEGRAM_ALLOWED_USERS: expected"),
        ({"broker": "zerodha"}, "BROKER: expected paper, kotak or mstock, e.g. BROKER=paper."),
        ({"confirm_ttl_seconds": "1"}, "CONFIRM_TTL_SECONDS:"),
        ({"static_ip_primary": "300.1.1.1"}, "STATIC_IP_PRIMARY: expected the public IPv4 or IPv6"),
        ({"log_level": "LOUD"}, "LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR."),
    ],
)
def test_bad_values_name_the_variable(overrides: dict[str, str], expected: str) -> None:
    values = {"telegram_bot_token": TOKEN, "telegram_allowed_users": "1", **overrides}
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **values)
    assert expected in str(err.value)


def test_a_bad_token_is_reported_without_echoing_it() -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None, telegram_bot_token="not a token s3cr3t", telegram_allowed_users="1"
        )
    assert "TELEGRAM_BOT_TOKEN" in str(err.value)
    assert "s3cr3t" not in str(err.value)


def python_m_bot(cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`python -m bot` as a user starts it; these tests expect it to stop at the settings."""
    return subprocess.run(
        [sys.executable, "-m", "bot"], cwd=cwd, env=env, capture_output=True, text=True,
        timeout=60, check=False,
    )  # fmt: skip


def test_missing_settings_stop_start_up_with_one_line_each(tmp_path) -> None:  # type: ignore[no-untyped-def]
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_ALLOWED_USERS": "1:root"}
    result = python_m_bot(tmp_path, env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "TELEGRAM_BOT_TOKEN is not set; it is required." in result.stderr
    assert "TELEGRAM_ALLOWED_USERS: expected comma-separated" in result.stderr


def test_env_example_documents_every_setting() -> None:
    example = (Path(__file__).resolve().parents[2] / ".env.example").read_text()
    documented = set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", example, re.MULTILINE))
    assert {name.upper() for name in Settings.model_fields} == documented


# -- a first copy of .env.example (issue 11) ------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / ".env.example"


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No setting leaks in from the environment the tests run in."""
    for name in Settings.model_fields:
        monkeypatch.delenv(name.upper(), raising=False)
    return monkeypatch


def test_an_unedited_copy_of_env_example_gives_valid_settings(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    shutil.copy(EXAMPLE, tmp_path / ".env")
    clean_env.chdir(tmp_path)
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_ALLOWED_USERS", "42")
    s = load_settings()
    assert s.paper_seed is None and s.protection_grid is None and s.broker == "paper"
    assert s.database_path == tmp_path / "data" / "tradebot.db"
    assert s.paper_state_path == tmp_path / "data" / "paper.json"
    assert s.warnings() == []


def test_the_copy_without_the_required_two_names_them(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    shutil.copy(EXAMPLE, tmp_path / ".env")
    clean_env.chdir(tmp_path)
    with pytest.raises(ConfigError) as err:
        load_settings()
    assert str(err.value).splitlines() == [
        "TELEGRAM_BOT_TOKEN is not set; it is required.",
        "TELEGRAM_ALLOWED_USERS is not set; it is required.",
    ]


def docker_env_file(path: Path) -> dict[str, str]:
    """What `docker run --env-file` passes: every KEY=VALUE line as is, comments skipped."""
    pairs = {}
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition("=")
            pairs[key] = value
    return pairs


def dockerfile_env() -> dict[str, str]:
    text = (ROOT / "Dockerfile").read_text()
    return dict(re.findall(r"(?:^ENV|\s)([A-Z_]+)=(\S+)", text, re.MULTILINE))


def test_docker_env_file_keeps_the_images_data_volume(
    tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    image = dockerfile_env()
    assert image["DATA_DIR"] == "/data"
    passed = docker_env_file(EXAMPLE)
    assert not set(image) & set(passed), "the example would override the image's ENV"
    volume = tmp_path / "volume"  # stands in for /data
    clean_env.chdir(tmp_path)
    for key, value in {**passed, "DATA_DIR": str(volume)}.items():
        clean_env.setenv(key, value)
    clean_env.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    clean_env.setenv("TELEGRAM_ALLOWED_USERS", "42")
    s = load_settings(_env_file=None)
    assert (s.database_path, s.paper_state_path) == (volume / "tradebot.db", volume / "paper.json")


def test_an_empty_variable_is_not_set_for_every_optional_setting(
    clean_env: pytest.MonkeyPatch,
) -> None:
    for name, field in Settings.model_fields.items():
        if not field.is_required():
            clean_env.setenv(name.upper(), "")
    s = load_settings(_env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1")
    defaults = Settings.model_construct()
    for name, field in Settings.model_fields.items():
        if not field.is_required() and name not in (
            "data_dir",
            "database_path",
            "paper_state_path",
        ):
            assert getattr(s, name) == getattr(defaults, name), name


def test_relative_paths_are_inside_data_dir_and_absolute_ones_stay(tmp_path: Path) -> None:
    s = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1",
        data_dir=tmp_path / "d", database_path="db/bot.db", paper_state_path=tmp_path / "p.json",
    )  # fmt: skip
    assert s.database_path == tmp_path / "d" / "db" / "bot.db"
    assert s.paper_state_path == tmp_path / "p.json"


def test_a_path_under_a_file_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    base = {"_env_file": None, "telegram_bot_token": TOKEN, "telegram_allowed_users": "1"}
    with pytest.raises(ConfigError) as err:
        load_settings(**base, data_dir=tmp_path / "taken")
    assert str(err.value) == f"DATA_DIR: {tmp_path / 'taken'} is a file, not a folder."
    with pytest.raises(ConfigError) as err:
        load_settings(**base, data_dir=tmp_path, database_path="taken/x/bot.db")
    assert str(err.value) == (
        f"DATABASE_PATH: cannot create {tmp_path / 'taken/x/bot.db'}: {tmp_path / 'taken'} is a "
        "file, not a folder."
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_a_folder_without_permission_is_one_line(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1",
            data_dir=tmp_path, database_path=locked / "db" / "bot.db",
        )  # fmt: skip
    assert str(err.value).startswith("DATABASE_PATH: cannot create or write ")
    assert "no permission" in str(err.value)


def test_a_path_problem_stops_python_m_bot_without_a_traceback(tmp_path: Path) -> None:
    (tmp_path / "taken").write_text("")
    env = {"PATH": "/usr/bin:/bin", "TELEGRAM_BOT_TOKEN": TOKEN, "TELEGRAM_ALLOWED_USERS": "1",
           "DATA_DIR": str(tmp_path / "taken"), "PYTHONPATH": str(ROOT)}  # fmt: skip
    result = python_m_bot(tmp_path, env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert f"DATA_DIR: {tmp_path / 'taken'} is a file, not a folder." in result.stderr


# -- numbers as people write them, and errors in our words ----------------------------------


@pytest.mark.parametrize(
    ("name", "written", "value"),
    [
        ("paper_capital", "10,00,000", 1_000_000),
        ("paper_capital", "₹5000", 5000),
        ("paper_capital", "Rs. 2,50,000", 250_000),
        ("paper_capital", "1_000_000", 1_000_000),
        ("session_check_seconds", "60s", 60.0),
        ("confirm_ttl_seconds", "90 s", 90),
        ("order_rate_margin_ms", "100ms", 100),
        ("paper_tick_seconds", "0.5", 0.5),
        ("paper_seed", "42", 42),
    ],
)
def test_numbers_with_grouping_and_the_right_unit(name: str, written: str, value: float) -> None:
    s = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1", **{name: written}
    )
    assert getattr(s, name) == value


@pytest.mark.parametrize(
    ("name", "written", "line"),
    [
        ("order_rate_margin_ms", "1s", "ORDER_RATE_MARGIN_MS: expected a whole number of "
         "milliseconds from 0 to 1000, e.g. 100 or 100ms."),
        ("session_check_seconds", "100ms", "SESSION_CHECK_SECONDS: expected a number of seconds "
         "from 1 to 3600, e.g. 60 or 60s."),
        ("confirm_ttl_seconds", "1", "CONFIRM_TTL_SECONDS: expected a whole number of seconds "
         "from 5 to 3600, e.g. 60 or 60s."),
        ("order_rate_limit", "ten", "ORDER_RATE_LIMIT: expected a whole number of at least 1, "
         "e.g. 10."),
        ("paper_capital", "$5000", "PAPER_CAPITAL: expected a whole number of rupees above 0, "
         "e.g. 1000000 or ₹1,000,000."),
        ("registered_algo", "maybe", "REGISTERED_ALGO: expected true or false, e.g. false."),
        ("broker", "Zerodha", "BROKER: expected paper, kotak or mstock, e.g. BROKER=paper."),
        ("log_level", "LOUD", "LOG_LEVEL: expected DEBUG, INFO, WARNING or ERROR."),
        ("static_ip_primary", "203.0.113", "STATIC_IP_PRIMARY: expected the public IPv4 or IPv6 "
         "address you whitelisted, e.g. 203.0.113.7."),
        ("mstock_freeze_qty", "NIFTY=1800", "MSTOCK_FREEZE_QTY: expected comma-separated "
         "UNDERLYING:UNITS pairs, e.g. NIFTY:1800,BANKNIFTY:600; 'NIFTY=1800' is not one."),
    ],
)  # fmt: skip
def test_errors_give_the_expected_form_not_pydantics_words(
    name: str, written: str, line: str
) -> None:
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1", **{name: written}
        )
    assert str(err.value) == line
    assert "Input should" not in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "line"),
    [
        ({"telegram_allowed_users": "5,6:viewer,5:trader"}, "TELEGRAM_ALLOWED_USERS: user id 5 is "
         "listed twice; give each id once, with its role (e.g. 12345,67890:viewer)."),
        ({"broker_mpin": "80417"}, "BROKER_MPIN: expected your 4- or 6-digit MPIN, digits only "
         "(e.g. 123456)."),
        ({"broker_mpin": "80a417"}, "BROKER_MPIN: expected your 4- or 6-digit MPIN, digits only "
         "(e.g. 123456)."),
        ({"broker_mobile": "98765 4321"}, "BROKER_MOBILE: expected the 10-digit mobile number "
         "registered with the broker, e.g. 9876543210 or +919876543210."),
        ({"broker_mobile": "+1 415 555 0100"}, "BROKER_MOBILE: expected the 10-digit mobile "
         "number registered with the broker, e.g. 9876543210 or +919876543210."),
    ],
)  # fmt: skip
def test_missing_checks_are_errors_without_the_value(overrides: dict[str, str], line: str) -> None:
    values = {"telegram_bot_token": TOKEN, "telegram_allowed_users": "1", **overrides}
    with pytest.raises(ConfigError) as err:
        load_settings(_env_file=None, **values)
    assert str(err.value) == line
    for secret in ("80417", "80a417", "98765 4321", "415 555"):
        assert secret not in str(err.value)


@pytest.mark.parametrize(
    ("mpin", "mobile"),
    [("1234", "9876543210"), ("918273", "+91 98765-43210"), ("0000", "09876543210")],
)
def test_good_mpins_and_mobiles(mpin: str, mobile: str) -> None:
    s = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1",
        broker_mpin=mpin, broker_mobile=mobile,
    )  # fmt: skip
    assert s.broker_mpin is not None and s.broker_mpin.get_secret_value() == mpin


def test_warnings_no_admin_and_lan_addresses() -> None:
    s = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="7:viewer,8:trader",
        static_ip_primary="192.168.1.20", static_ip_secondary="127.0.0.1",
    )  # fmt: skip
    found = s.warnings()
    assert len(found) == 3
    assert found[0].startswith("TELEGRAM_ALLOWED_USERS names no admin, so nobody gets session")
    assert found[1].startswith("STATIC_IP_PRIMARY is 192.168.1.20, a private or loopback address")
    assert found[2].startswith("STATIC_IP_SECONDARY is 127.0.0.1, a private or loopback address")
    fine = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="7",
        static_ip_primary="8.8.4.4", static_ip_secondary="2001:4860::8888",
    )  # fmt: skip
    assert fine.warnings() == []


def test_ip_check_urls_off_means_none() -> None:
    s = load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1", ip_check_urls="off"
    )
    assert s.ip_check_url_list == []


def test_lpp_settings_replace_one_family_each_and_keep_the_rest() -> None:
    s = load_settings(
        _env_file=None,
        telegram_bot_token=TOKEN,
        telegram_allowed_users="1",
        lpp_stock_futures="*:5%",
        lpp_index_underlyings="nifty, banknifty",
    )
    assert s.lpp.stock_futures == (Band(None, percent=Decimal(5)),)
    assert s.lpp.options == DEFAULT_LPP.options
    assert s.lpp.index_underlyings == frozenset({"NIFTY", "BANKNIFTY"})
    assert load_settings(
        _env_file=None, telegram_bot_token=TOKEN, telegram_allowed_users="1"
    ).lpp == (DEFAULT_LPP)
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None,
            telegram_bot_token=TOKEN,
            telegram_allowed_users="1",
            lpp_options="50:20",
        )
    assert "LPP_OPTIONS" in str(err.value) and "open-ended" in str(err.value)
