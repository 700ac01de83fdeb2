"""scripts/install.sh installs once, then skips pip while pyproject.toml and the flavour are
unchanged; an old or broken .venv is rebuilt with one line; no usable Python is one line. Run
with a fake Python that logs what pip would do (a real install needs the network)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

FAKE = """#!/bin/sh
# A Python {dotted} stand-in: answers the version question, creates venvs as copies of itself,
# logs pip commands, and hands any other -c to the real interpreter.
case "$1" in
  -c) case "$2" in *version_info*) echo {number}; exit 0;; esac; exec {real} "$@";;
  -m) if [ "$2" = venv ]; then mkdir -p "$3/bin"; cp "$0" "$3/bin/python"; exit 0; fi
      echo "$*" >> "$PIP_LOG"; exit 0;;
esac
exit 2
"""


def fake_python(path: Path, number: int) -> Path:
    dotted = f"{number // 100}.{number % 100}"
    path.write_text(FAKE.format(dotted=dotted, number=number, real=sys.executable))
    path.chmod(0o755)
    return path


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "install.sh", tmp_path / "scripts" / "install.sh")
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\n')
    return tmp_path


def install(checkout: Path, flavour: str = "", *, python: Path) -> tuple[int, str, list[str]]:
    """Run install.sh; return its status, its output and the pip commands it ran this time."""
    log = checkout / "pip.log"
    log.unlink(missing_ok=True)
    env = {"PATH": os.environ["PATH"], "PIP_LOG": str(log), "PYTHON": str(python)}
    script = str(checkout / "scripts" / "install.sh")
    result = subprocess.run(  # noqa: S603 (our own script, in a temporary copy)
        ["/bin/sh", script, flavour], env=env, capture_output=True, text=True, timeout=60,
        check=False,
    )  # fmt: skip
    pip = log.read_text().splitlines() if log.exists() else []
    return result.returncode, result.stdout + result.stderr, pip


def test_installs_once_then_only_when_pyproject_or_flavour_changes(checkout: Path) -> None:
    py = fake_python(checkout / "python3.12", 312)
    status, out, pip = install(checkout, python=py)
    assert status == 0 and out == ""
    assert pip[-1].endswith("install --quiet --disable-pip-version-check -e .")
    assert install(checkout, python=py) == (0, "", [])  # nothing changed: no pip at all

    status, _, pip = install(checkout, "dev", python=py)
    assert status == 0 and pip[-1].endswith("-e .[dev]")
    assert install(checkout, "dev", python=py) == (0, "", [])
    assert install(checkout, python=py) == (0, "", [])  # a dev install covers a run

    (checkout / "pyproject.toml").write_text('[project]\nname = "x"\nversion = "2"\n')
    status, _, pip = install(checkout, python=py)
    assert status == 0 and pip[-1].endswith("-e .")


def test_a_venv_from_python_3_10_is_rebuilt_with_one_line(checkout: Path) -> None:
    (checkout / ".venv" / "bin").mkdir(parents=True)
    fake_python(checkout / ".venv" / "bin" / "python", 310)
    status, out, pip = install(checkout, python=fake_python(checkout / "python3.11", 311))
    assert status == 0
    assert out.splitlines() == [
        "install: .venv was made with Python 3.10; 3.11 or newer is needed, rebuilding .venv."
    ]
    assert "version_info[0] * 100" not in out and pip
    assert "echo 311" in (checkout / ".venv" / "bin" / "python").read_text()


def test_no_suitable_python_is_one_line(checkout: Path) -> None:
    status, out, pip = install(checkout, python=fake_python(checkout / "python3.10", 310))
    assert status == 1 and pip == []
    assert out.strip().splitlines() == [
        f"install: no Python 3.11 or newer found (PYTHON={checkout / 'python3.10'}); install "
        "one, or set PYTHON=/path/to/python3.11."
    ]


def test_run_sh_gives_a_fresh_checkout_an_env_file_and_never_overwrites_one(checkout: Path) -> None:
    """The README's first command on a fresh clone: `.env` is made from `.env.example`
    (owner-only, it will hold the token) so the two required values have a place to go."""
    shutil.copy(ROOT / "scripts" / "run.sh", checkout / "scripts" / "run.sh")
    shutil.copy(ROOT / ".env.example", checkout / ".env.example")
    py = fake_python(checkout / "python3.12", 312)
    env = {"PATH": os.environ["PATH"], "PIP_LOG": str(checkout / "pip.log"), "PYTHON": str(py)}

    def run_sh() -> subprocess.CompletedProcess[str]:
        return subprocess.run(  # noqa: S603 (our own script, in a temporary copy)
            ["/bin/sh", str(checkout / "scripts" / "run.sh")], env=env, capture_output=True,
            text=True, timeout=60, check=False,
        )  # fmt: skip

    first = run_sh()
    assert first.returncode == 0, first.stderr
    made = checkout / ".env"
    assert made.read_text() == (ROOT / ".env.example").read_text()
    assert made.stat().st_mode & 0o777 == 0o600
    assert "Created .env from .env.example" in first.stderr
    assert "-m bot" in (checkout / "pip.log").read_text()  # then the bot was started

    made.write_text("TELEGRAM_BOT_TOKEN=mine\n")
    second = run_sh()
    assert second.returncode == 0 and "Created .env" not in second.stderr
    assert made.read_text() == "TELEGRAM_BOT_TOKEN=mine\n"
