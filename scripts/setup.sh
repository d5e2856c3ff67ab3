#!/usr/bin/env bash
# Set up nirdag in ./.venv: system packages (Graphviz `dot`, python3-venv) when we can install them, then pip.
# Usage: bash scripts/setup.sh [dev]    ("dev" also installs the test tools, the serve extra (FastAPI, uvicorn)
#                                       and chromium + chromedriver for the report's and the server's browser tests)
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
if ! command -v "$PY" >/dev/null 2>&1; then
  echo "error: $PY not found; install Python 3.11 or newer (Debian/Ubuntu: apt-get install -y python3 python3-venv)" >&2
  exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
  echo "error: nirdag needs Python >= 3.11, $PY is $("$PY" -V 2>&1)" >&2
  exit 1
fi

need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
"$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=("python3-venv")
if [ "${1:-}" = "dev" ]; then  # the report and the server's pages are opened in a real headless browser by the tests
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fi
# System packages only as root, never through sudo, and never when NIRDAG_NO_APT=1; always said before it is done.
if [ ${#need_apt[@]} -gt 0 ]; then
  if [ "${NIRDAG_NO_APT:-0}" != 1 ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing system packages with apt-get: ${need_apt[*]} (set NIRDAG_NO_APT=1 to skip)"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "note: not installing system packages (not root, or NIRDAG_NO_APT=1); to have them:" >&2
    echo "      sudo apt-get install -y ${need_apt[*]}" >&2
    echo "      (without graphviz, 'nirdag dag' can still write .dot files; without chromium the browser test of the" >&2
    echo "      report is skipped, and fails under CI=true)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extra=""
[ "${1:-}" = "dev" ] && extra="[dev]"
# pip's own progress on a terminal; one line per step in logs (CI)
quiet=()
[ -t 1 ] || quiet=(--quiet)
echo "setting up .venv: pip, then nirdag${extra} and its dependencies (a minute or two on a fresh machine)"
.venv/bin/python -m pip install "${quiet[@]}" --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install "${quiet[@]}" --disable-pip-version-check -e ".${extra}"
echo "set up: .venv/bin/nirdag $(.venv/bin/nirdag --version | cut -d' ' -f2)"
