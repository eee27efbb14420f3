#!/usr/bin/env bash
# Start the local stack, seed demo keys, and run the four apis and workers until Ctrl-C.
# A process that crashes is started again (scripts/supervise.py) while the others keep serving;
# Kafka and the store stop only when this script ends, and only if it started them.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/.local/venv/bin:$PATH"
# The local stack seals personal data with the published development key (no MASTER_KEY here).
export FAZHI_DEV=1

# `make run CLUSTER=3` (FAZHI_KAFKA_NODES=3): three brokers; every service is given all three,
# and its worker's own topics replication 3, as in production.
if [[ ${FAZHI_KAFKA_NODES:-1} != 1 ]]; then
  brokers=127.0.0.1:9092,127.0.0.1:9094,127.0.0.1:9096
  export FAZHI_KAFKA_BOOTSTRAP=$brokers
  for prefix in $(python -c 'from fazhi import topology; print(*(s.env_prefix for s in topology.SERVICES))'); do
    export "${prefix}KAFKA_BOOTSTRAP=$brokers" "${prefix}KAFKA_TOPIC_REPLICATION=3"
  done
fi

# shellcheck source=scripts/lib-stack.sh
. scripts/lib-stack.sh
stack_start_owned
fazhi keys demo --out .local/demo-keys.json
cat <<'TXT'

Fazhi is starting:
  supervision        http://127.0.0.1:8001/docs   worker metrics http://127.0.0.1:8011/metrics
  petition-mediation http://127.0.0.1:8002/docs   worker metrics http://127.0.0.1:8012/metrics
  emergency          http://127.0.0.1:8003/docs   worker metrics http://127.0.0.1:8013/metrics
  open-government    http://127.0.0.1:8004/docs   worker metrics http://127.0.0.1:8014/metrics
  deliveries         (webhooks to the units' systems)  metrics http://127.0.0.1:8021/metrics
  health             /healthz  /readyz  /metrics on every api
  demo API keys      .local/demo-keys.json
A crashed api or worker is restarted; Ctrl-C stops everything.

TXT
mkdir -p .local/run
python - <<'PY' | tee .local/run/pages.txt
import json

keys = json.load(open(".local/demo-keys.json"))
roles = keys["roles"]
print(f"""Pages (paste the key into the page's form):
  public portal          http://127.0.0.1:8004/
  emergency console      http://127.0.0.1:8003/console    staff key ({roles["staff"]["unit"]}): {roles["staff"]["key"]}
  supervision dashboard  http://127.0.0.1:8001/dashboard  supervisor key ({roles["supervisor"]["unit"]}): {roles["supervisor"]["key"]}
  operator key           {keys["operator"]}
""")
PY
python scripts/supervise.py Procfile || true
