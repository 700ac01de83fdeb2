#!/usr/bin/env sh
# Create .venv with Python >= 3.11 and install the project (and its dev tools with "dev").
# Installs only when needed: the hash of pyproject.toml and the flavour (run or dev) are kept in
# .venv/.tradebot-install, so a second run with nothing changed is instant and needs no network.
# PYTHON=/path/to/python3.11 chooses the interpreter for a new .venv.
set -eu
cd "$(dirname "$0")/.."
FLAVOUR=run
[ "${1:-}" = "dev" ] && FLAVOUR=dev
STAMP=.venv/.tradebot-install

# 311 for Python 3.11; nothing when "$1" is not a Python that runs.
version() { "$1" -c 'import sys; print(sys.version_info[0] * 100 + sys.version_info[1])' 2>/dev/null || true; }

if [ -e .venv ]; then
  v=$(version .venv/bin/python)
  if [ -z "$v" ]; then
    echo "install: .venv/bin/python does not run (moved or removed Python); rebuilding .venv."
    rm -rf .venv
  elif [ "$v" -lt 311 ]; then
    echo "install: .venv was made with Python $((v / 100)).$((v % 100)); 3.11 or newer is needed, rebuilding .venv."
    rm -rf .venv
  fi
fi

if [ ! -e .venv ]; then
  found=""
  for py in ${PYTHON:-python3.13 python3.12 python3.11 python3 python}; do
    v=$(version "$py")
    if [ -n "$v" ] && [ "$v" -ge 311 ]; then found=$py; break; fi
  done
  if [ -z "$found" ]; then
    echo "install: no Python 3.11 or newer found${PYTHON:+ (PYTHON=$PYTHON)}; install one, or set PYTHON=/path/to/python3.11." >&2
    exit 1
  fi
  "$found" -m venv .venv
fi

want=$(.venv/bin/python -c 'import hashlib, sys; print(hashlib.sha256(open("pyproject.toml", "rb").read()).hexdigest())')
have=$(cat "$STAMP" 2>/dev/null || true)
# A dev install includes everything a run install has.
if [ "$have" = "$want $FLAVOUR" ] || [ "$have" = "$want dev" ]; then
  exit 0
fi
rm -f "$STAMP"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
if [ "$FLAVOUR" = dev ]; then
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[dev]"
else
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e .
fi
echo "$want $FLAVOUR" > "$STAMP"
