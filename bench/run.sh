#!/usr/bin/env bash
# Runs both benchmarks, one after the other, and prints one JSON object
# {"ingest": {...}, "projection": {...}} on stdout (progress on stderr). A copy is written to
# .local/bench/<UTC time>.json.
#
# They run on the benchmarks' own stack (Kafka 127.0.0.1:19092, FerretDB 127.0.0.1:19017, state
# in .local/bench-stack, the same jars and binary as the local stack), so their events never reach
# the local stack's consumer groups. This script starts it if it is not running and stops it again
# at the end in that case only. Needs `scripts/stack.sh install` to have run once.
#
#   bench/run.sh
#   INGEST_ARGS="--events 5000" PROJECTION_ARGS="--paced-seconds 0" bench/run.sh
set -Eeuo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd -P)
cd "$ROOT"
PY=${FAZHI_PYTHON:-$ROOT/.local/venv/bin/python}
OUT=$ROOT/.local/bench
mkdir -p "$OUT"
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
TMP=$(mktemp -d)
STARTED_STACK=0

cleanup() {
	rm -rf -- "$TMP"
	if [[ $STARTED_STACK == 1 ]]; then
		"$PY" bench/common.py stack stop >&2 || true
	fi
}
trap cleanup EXIT

if ! "$PY" bench/common.py stack status >/dev/null 2>&1; then
	STARTED_STACK=1
	"$PY" bench/common.py stack start >&2
fi

# shellcheck disable=SC2086 # word splitting of the *_ARGS knobs is intended
"$PY" bench/ingest.py ${INGEST_ARGS:-} >"$TMP/ingest.json"
# shellcheck disable=SC2086
"$PY" bench/projection.py ${PROJECTION_ARGS:-} >"$TMP/projection.json"

"$PY" - "$TMP/ingest.json" "$TMP/projection.json" <<'PY' | tee "$OUT/$STAMP.json"
import json
import sys

ingest, projection = (json.load(open(path, encoding="utf-8")) for path in sys.argv[1:3])
print(json.dumps({"ingest": ingest, "projection": projection}, ensure_ascii=False, indent=2))
PY
echo "[bench] saved $OUT/$STAMP.json" >&2
