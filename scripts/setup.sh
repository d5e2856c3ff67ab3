#!/usr/bin/env bash
# Set up nirdag in ./.venv: system packages (Graphviz `dot`, python3-venv) when we can install them, then pip.
# Usage: bash scripts/setup.sh [dev]    ("dev" also installs the test tools, and chromium + chromedriver for the
#                                       report's browser test)
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

as_root() {
  if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then sudo "$@"; else return 1; fi
}
need_apt=()
command -v dot >/dev/null 2>&1 || need_apt+=(graphviz)
"$PY" -c 'import ensurepip, venv' >/dev/null 2>&1 || need_apt+=("python3-venv")
if [ "${1:-}" = "dev" ]; then  # the report is opened in a real headless browser by the tests (system binaries)
  command -v chromium >/dev/null 2>&1 || need_apt+=(chromium)
  command -v chromedriver >/dev/null 2>&1 || need_apt+=(chromium-driver)
fi
if [ ${#need_apt[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null 2>&1 && as_root true; then
    echo "installing system packages: ${need_apt[*]}"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
  else
    echo "note: cannot install system packages here; run: sudo apt-get install -y ${need_apt[*]}" >&2
    echo "      (without graphviz, 'nirdag dag' can still write .dot files; without chromium the browser test of the" >&2
    echo "      report is skipped, and fails under CI=true)" >&2
  fi
fi

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
fi
extra=""
[ "${1:-}" = "dev" ] && extra="[dev]"
.venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
.venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".${extra}"
