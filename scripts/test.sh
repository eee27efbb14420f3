#!/usr/bin/env bash
# `make test`: lint and type checks, then unit, integration and e2e tests on the real local
# stack (started here if it is not running, and stopped again afterwards).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.local/venv/bin:$PATH"
# The tests' services seal with the published development key (no MASTER_KEY here).
export FAZHI_DEV=1

ruff check .
ruff format --check .
mypy libs/fazhi/src services/supervision/src services/petition-mediation/src \
  services/emergency/src services/open-government/src bench scripts faults

# shellcheck source=scripts/lib-stack.sh
. scripts/lib-stack.sh
stack_start_owned

# The slowest tests are listed at the end, to keep the run within its budget.
if (($# == 0)); then
  # The contract tests fuzz the running services over HTTP: no code the coverage report counts
  # runs in their process, and coverage's tracer would slow schemathesis' generation by half.
  python -m pytest tests/contract -p no:cacheprovider --durations=10
  python -m pytest tests --ignore=tests/contract -p no:cacheprovider --cov --cov-report= --durations=25
else
  python -m pytest tests -p no:cacheprovider --cov --cov-report= --durations=25 "$@"
fi

# The domain core (pure rules) must stay covered; the services run as separate processes in the
# integration and e2e tests, so their infrastructure code is covered there, not counted here.
echo "Coverage of the domain core (clocks, calendar, redaction, search, units, catalogue, state machines):"
coverage report --show-missing --fail-under=95 --include="$(tr '\n' ',' <<'LIST'
*/fazhi/rules/*
*/supervision/plan.py
*/supervision/domain.py
*/emergency/domain.py
*/petition_mediation/domain/*
*/open_government/domain.py
LIST
)"
