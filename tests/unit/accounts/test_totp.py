"""TOTP seeds as authenticator apps take them (16 characters and up, spaces, lower case, no
padding), codes checked against RFC 6238 computed here with hmac, and refusals that say what is
wrong without ever repeating the seed."""

from __future__ import annotations

import base64
import hashlib
import hmac
import struct

import pytest

from bot.accounts import TotpSource
from bot.errors import ConfigError
from bot.settings import load_settings


def reference_code(key: bytes, at: float, digits: int = 6) -> str:
    """RFC 6238 (SHA-1, 30 s steps) over RFC 4226's dynamic truncation, written out here so
    the test does not check pyotp against itself."""
    digest = hmac.new(key, struct.pack(">Q", int(at // 30)), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(number % 10**digits).zfill(digits)


class FixedClock:
    def __init__(self, at: float) -> None:
        self.at = at

    def __call__(self) -> float:
        return self.at

    async def sleep(self, seconds: float, /) -> None:
        self.at += seconds


def test_the_reference_matches_rfc_6238_appendix_b() -> None:
    key = b"12345678901234567890"
    assert reference_code(key, 59, digits=8) == "94287082"
    assert reference_code(key, 1111111109, digits=8) == "07081804"


@pytest.mark.parametrize(
    "written",
    [
        "JBSWY3DPEHPK3PXP",  # 16 characters, the common app seed pyotp refuses by default
        "jbsw y3dp ehpk 3pxp",  # as shown in groups, lower case
        "JBSWY3DPEHPK3PXP====",
        "JBSW-Y3DP-EHPK-3PXP",
    ],
)
async def test_a_16_character_seed_gives_rfc_6238_codes(written: str) -> None:
    key = base64.b32decode("JBSWY3DPEHPK3PXP")
    clock = FixedClock(1_700_000_000.0)
    source = TotpSource(written, clock=clock, sleep=clock.sleep)
    assert await source.fresh_code() == reference_code(key, 1_700_000_000.0)


async def test_rfc_key_and_an_odd_length_seed() -> None:
    rfc = base64.b32encode(b"12345678901234567890").decode()  # 32 characters
    clock = FixedClock(59.0)
    assert await TotpSource(rfc, clock=clock, sleep=clock.sleep).fresh_code() == "287082"
    # 17 characters is not strict base32; the apps drop the leftover bits, and so do we.
    odd = "JBSWY3DPEHPK3PXPA"
    clock = FixedClock(59.0)
    code = await TotpSource(odd, clock=clock, sleep=clock.sleep).fresh_code()
    assert code == reference_code(base64.b32decode("JBSWY3DPEHPK3PXP"), 59.0)


def settings_error(seed: str) -> str:
    with pytest.raises(ConfigError) as err:
        load_settings(
            _env_file=None,
            telegram_bot_token="1:abc",
            telegram_allowed_users="1",
            broker_totp_secret=seed,
        )
    return str(err.value)


@pytest.mark.parametrize(
    ("seed", "says"),
    [
        ("492817", "BROKER_TOTP_SECRET: that looks like a 6-digit code, not the TOTP secret"),
        ("JBSWY3DPEHPK3PX1", "BROKER_TOTP_SECRET: that is not base32;"),
        ("OXQWE0RTYUIOPASD", "BROKER_TOTP_SECRET: that is not base32;"),
        ("KRUGS4ZANFZSA4TF", None),  # 16 valid characters: accepted
        ("KRUGS4ZANFZ", "BROKER_TOTP_SECRET: that TOTP secret is too short (11 characters)"),
    ],
)
def test_each_kind_of_bad_seed_has_its_own_sentence_without_the_seed(
    seed: str, says: str | None
) -> None:
    if says is None:
        load_settings(
            _env_file=None,
            telegram_bot_token="1:abc",
            telegram_allowed_users="1",
            broker_totp_secret=seed,
        )
        return
    text = settings_error(seed)
    assert says in text
    assert "JBSWY3DPEHPK3PXP" in text  # an example of the expected form
    assert seed not in text and seed.lower() not in text
    assert "Traceback" not in text and "\n" not in text
