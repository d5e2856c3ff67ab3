#!/usr/bin/env bash
# One command: set up, then run the Tecator demo (ranked preprocessing x PLS chains) into ./nirdag-demo.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HAMILTON_AUTOLOAD_EXTENSIONS=0
.venv/bin/nirdag demo --workspace nirdag-demo "$@"
