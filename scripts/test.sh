#!/usr/bin/env bash
# `make test`: lint and type checks, then unit, integration and e2e tests on the real local
# stack (started here if it is not running, and stopped again afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.local/venv/bin:$PATH"

ruff check .
ruff format --check .
mypy libs/fazhi/src services/supervision/src services/petition-mediation/src \
  services/emergency/src services/open-government/src

started_stack=0
if ! scripts/stack.sh running >/dev/null 2>&1; then started_stack=1; fi
cleanup() {
  if [ "$started_stack" = 1 ]; then scripts/stack.sh stop; fi
}
trap cleanup EXIT
scripts/stack.sh start

python -m pytest tests -p no:cacheprovider \
  --cov --cov-report=term-missing:skip-covered --cov-fail-under=80 "$@"
