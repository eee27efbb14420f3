# shellcheck shell=bash
# Sourced by run.sh and test.sh: start the local stack, and on exit stop only the servers
# that were not already running before (a stack someone else started is left alone).
STACK_STOPPING=${FAZHI_LOCAL:-.local}/run/make-stop
# Holds this script's pid while `make stop` (scripts/stack.sh stop) ends it: that stop stops the
# whole stack itself once this script has ended, so the servers are left to it (a stop of our
# own would wait on its lock, and then could stop what a start after it brought up).

stack_start_owned() {
  local status
  status=$(scripts/stack.sh status 2>&1 || true)
  STACK_OWNED=()
  grep -q "kafka .*running" <<<"$status" || STACK_OWNED+=(kafka)
  grep -q "ferretdb .*running" <<<"$status" || STACK_OWNED+=(ferretdb)
  # after ferretdb: stack_stop_owned stops in this order, and FerretDB needs PostgreSQL
  grep -q "postgres .*running" <<<"$status" || STACK_OWNED+=(postgres)
  trap stack_stop_owned EXIT
  scripts/stack.sh start
}

stack_stop_owned() {
  local server
  [[ $(cat "$STACK_STOPPING" 2>/dev/null) == "$$" ]] && return 0
  for server in "${STACK_OWNED[@]}"; do
    scripts/stack.sh "$server-stop"
  done
}
