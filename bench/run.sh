#!/usr/bin/env bash
# `make bench`: every benchmark on the benchmarks' own stack (Kafka 127.0.0.1:19092, FerretDB
# 127.0.0.1:19017 on PostgreSQL 127.0.0.1:19432, state in .local/bench-stack), one after the
# other. Prints one JSON object on stdout (progress on stderr), saves it as
# bench/results/<UTC date>.json and regenerates the results table of bench/README.md from it
# (bench/report.py).
#
# Installs Debian's `wrk` (the load generator) when it is missing. Starts the stack if it is not
# running, and then stops it again at the end. Needs `scripts/stack.sh install` to have run once.
#
#   bench/run.sh
#   INGEST_ARGS="--seconds 10" PROJECTION_ARGS="--sizes 1000,10000" STORE_ARGS="--samples 100" \
#   TRIGGERS_ARGS="--triggers 30 --milestones 5000 --due 100" SEARCH_ARGS="--documents 20000" \
#   ALERT_PUSH_ARGS="--alerts 50 --background 20" \
#   DELIVERIES_ARGS="--events 50 --burst 40 --subscribers 50" REPLAY_ARGS="--events 20000" bench/run.sh
set -Eeuo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
PY=${FAZHI_PYTHON:-$ROOT/.local/venv/bin/python}
RESULTS=$ROOT/bench/results
TMP=$(mktemp -d)
STARTED_STACK=0
# The benchmarks' services seal with the published development key (no MASTER_KEY here).
export FAZHI_DEV=1

cleanup() {
	rm -rf -- "$TMP"
	if [[ $STARTED_STACK == 1 ]]; then
		"$PY" bench/common.py stack stop >&2 || true
	fi
}
trap cleanup EXIT

as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		echo "[bench] root (or sudo) is needed for: $*" >&2
		exit 1
	fi
}

if ! command -v wrk >/dev/null 2>&1; then
	echo "[bench] installing wrk (apt)" >&2
	mkdir -p "$ROOT/.local/logs"
	as_root apt-get update -qq >>"$ROOT/.local/logs/apt.log" 2>&1
	as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends wrk \
		>>"$ROOT/.local/logs/apt.log" 2>&1 || {
		echo "[bench] apt-get install wrk failed; see .local/logs/apt.log" >&2
		exit 1
	}
fi

if ! "$PY" bench/common.py stack status >/dev/null 2>&1; then
	STARTED_STACK=1
	"$PY" bench/common.py stack start >&2
fi

COMMIT=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
DIRTY=$([[ -n $(git status --porcelain -- . ':!bench/results' ':!bench/README.md' 2>/dev/null) ]] && echo true || echo false)

# shellcheck disable=SC2086 # word splitting of the *_ARGS knobs is intended
"$PY" bench/ingest.py ${INGEST_ARGS:-} >"$TMP/ingest.json"
# shellcheck disable=SC2086
"$PY" bench/projection.py ${PROJECTION_ARGS:-} >"$TMP/projection.json"
# shellcheck disable=SC2086
"$PY" bench/store.py ${STORE_ARGS:-} >"$TMP/store.json"
# shellcheck disable=SC2086
"$PY" bench/triggers.py ${TRIGGERS_ARGS:-} >"$TMP/triggers.json"
# shellcheck disable=SC2086
"$PY" bench/search.py ${SEARCH_ARGS:-} >"$TMP/search.json"
# shellcheck disable=SC2086
"$PY" bench/alert_push.py ${ALERT_PUSH_ARGS:-} >"$TMP/alert_push.json"
# shellcheck disable=SC2086
"$PY" bench/deliveries.py ${DELIVERIES_ARGS:-} >"$TMP/deliveries.json"
# shellcheck disable=SC2086
"$PY" bench/log_size.py ${LOG_SIZE_ARGS:-} >"$TMP/log_size.json"
# shellcheck disable=SC2086
"$PY" bench/replay.py ${REPLAY_ARGS:-} >"$TMP/replay.json"

mkdir -p "$RESULTS"
DAY=$(date -u +%Y-%m-%d)
"$PY" bench/report.py combine --commit "$COMMIT" --dirty "$DIRTY" \
	"$TMP/ingest.json" "$TMP/projection.json" "$TMP/store.json" "$TMP/triggers.json" \
	"$TMP/search.json" "$TMP/alert_push.json" "$TMP/deliveries.json" "$TMP/log_size.json" \
	"$TMP/replay.json" \
	>"$TMP/all.json"
cp "$TMP/all.json" "$RESULTS/$DAY.json"
"$PY" bench/report.py readme "$RESULTS/$DAY.json" >&2
cat "$RESULTS/$DAY.json"
echo "[bench] saved bench/results/$DAY.json; bench/README.md regenerated" >&2
