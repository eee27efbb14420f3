#!/usr/bin/env bash
# Fazhi local stack: a single-node Apache Kafka 4.x broker (KRaft), a PostgreSQL 15 cluster of
# our own and FerretDB v1 (MongoDB wire protocol on that PostgreSQL), run as plain processes on
# this machine (no container engine needed). Everything downloaded, built or written lives under
# $FAZHI_LOCAL (default <repo>/.local, git-ignored), except the PostgreSQL cluster when root runs
# this from a directory the `postgres` user cannot enter (see below); it may be run from any
# directory.
#
# Usage: scripts/stack.sh <command>
#   font         only the CJK font for headless Chromium (see install)
#   install      fetch the Kafka jars (Maven), build FerretDB (Go) and apt-install Debian's
#                postgresql-15, chromium and prometheus (promtool) if missing, and unpack a CJK
#                font under .local/fonts where the machine has none. Idempotent; fast when
#                already done.
#   start        start PostgreSQL, Kafka and FerretDB if not running, wait until they answer,
#                create topics. PostgreSQL: initdb on the first start; the `ferretdb` database and
#                the GIN twin triggers (deploy/local/postgres/gin-twins.sql) are set up before
#                FerretDB starts.
#   stop         stop `make run`'s apis and workers if they run, then FerretDB and Kafka (exactly
#                the processes recorded in our pid files: TERM, 20 s, then KILL), then the
#                PostgreSQL server of our cluster
#   services-stop  stop just `make run`'s apis and workers (its supervisor, scripts/supervise.py)
#   status       print what is running
#   kafka-start  start just the broker(s) not running (and make sure the topics exist)
#   kafka-stop [N]  stop just the broker (tests use this to simulate the broker going away);
#                in cluster mode all brokers, or broker N only
#   kafka-kill [N]  kill -9 the broker (a crash: no controlled shutdown, nothing flushed);
#                in cluster mode all brokers, or broker N only
#   ferretdb-stop  stop just FerretDB (tests use this to simulate the store going away)
#   postgres-stop  stop just PostgreSQL (stop FerretDB first)
#   analyze      run ANALYZE on the `ferretdb` database (after a bulk load, e.g. in benchmarks;
#                autovacuum does it within seconds anyway)
#   reset        stop, then delete Kafka data, the cluster id, FerretDB state and the PostgreSQL
#                cluster (keeps jars/binaries); the next start begins with empty data
#
# Environment knobs:
#   FAZHI_LOCAL      state/cache directory (default <repo>/.local; relative paths are taken from
#                    the repo root). Holds kafka/libs, kafka/data, ferretdb/state, postgres/, bin/,
#                    run/, logs/.
#   FAZHI_PYTHON     python with aiokafka and pymongo, used for readiness checks and topic creation
#                    (default $FAZHI_LOCAL/venv/bin/python)
#   KAFKA_VERSION    org.apache.kafka:kafka_2.13 version to install (default 4.4.0, whose jars
#                    target Java 17; stay on 4.x). Changing it re-copies the jars on `install`.
#   KAFKA_HEAP_OPTS  broker heap flags (default "-Xms256m -Xmx768m")
#   KAFKA_OPTS       extra JVM flags for the broker (default empty)
#   KAFKA_BOOTSTRAP  only read by scripts/topics.py (default 127.0.0.1:9092)
#   FAZHI_SKIP_APT   set to 1 to skip the apt step of `install`
#   STACK_WAIT_SECS  how long `start` waits for each service to answer (default 90)
#   FAZHI_KAFKA_PORT, FAZHI_CONTROLLER_PORT, FAZHI_MONGO_PORT, FAZHI_PG_PORT
#                    ports on 127.0.0.1 (defaults 9092, 9093, 27017, 15432). Only for running a
#                    second, separate stack (with its own FAZHI_LOCAL); the services expect the
#                    defaults.
#   FAZHI_KAFKA_NODES  1 (default) or 3: cluster mode, three KRaft nodes (each broker and
#                    controller) on 127.0.0.1, node n on FAZHI_KAFKA_PORT + 2(n-1) (clients) and
#                    FAZHI_CONTROLLER_PORT + 2(n-1), i.e. 9092/9093, 9094/9095, 9096/9097; topics
#                    with replication 3 and min.insync.replicas 2, as in production. Its state is
#                    apart from the single broker's ($FAZHI_LOCAL/kafka/cluster-3). `make run
#                    CLUSTER=3` sets it and gives the services the three addresses.
#
# Everything listens on 127.0.0.1 only: Kafka 9092 (clients) and 9093 (KRaft controller),
# FerretDB 27017, PostgreSQL 15432 (and a unix socket in the cluster's run/ directory, not
# /var/run/postgresql); FerretDB's debug HTTP listener is disabled.
# PostgreSQL: Debian's binaries (/usr/lib/postgresql/15/bin), a cluster of our own in
# $FAZHI_LOCAL/postgres/data, superuser `postgres`, trust authentication on 127.0.0.1 and the
# socket (a local development store only). PostgreSQL refuses to run as root: when root runs this
# script, the server runs as the `postgres` system user, and if that user cannot write under
# $FAZHI_LOCAL (a checkout in root's home, mode 700), the cluster lives in
# ~postgres/fazhi-<hash of $FAZHI_LOCAL> and $FAZHI_LOCAL/postgres is a symlink to it. Any other
# caller runs it as themselves. FerretDB uses the database `ferretdb`; look at it with
#   psql -h 127.0.0.1 -p 15432 -U postgres ferretdb
# Logs: $FAZHI_LOCAL/logs/kafka.log (broker), kafka.out (JVM, storage format), ferretdb.log,
# postgres.log, mvn.log, apt.log. Pid files: $FAZHI_LOCAL/run/{kafka,ferretdb,postgres}.pid
# (PostgreSQL's own is postmaster.pid in its data directory); commands that change the stack
# take $FAZHI_LOCAL/run/stack.lock, so concurrent invocations queue up.
set -Eeuo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
cd "$ROOT"

LOCAL=${FAZHI_LOCAL:-$ROOT/.local}
mkdir -p "$LOCAL"
LOCAL=$(cd -- "$LOCAL" && pwd -P)

KAFKA_VERSION=${KAFKA_VERSION:-4.4.0}
KAFKA_HEAP_OPTS=${KAFKA_HEAP_OPTS:--Xms256m -Xmx768m}
KAFKA_OPTS=${KAFKA_OPTS:-}
JAVA_CMD=()
KAFKA_WAS_RUNNING=0
FERRET_WAS_RUNNING=0
PG_WAS_RUNNING=0
FERRETDB_MODULE=github.com/FerretDB/FerretDB
FERRETDB_VERSION=v1.24.2
# FerretDB v1 holds a pooled connection while it waits for its metadata lock, so a burst of
# requests as large as its pool (50 by default) during a collection or index creation hangs
# every one of them. A larger pool keeps such a burst far out of reach.
FERRETDB_POOL=200
PY=${FAZHI_PYTHON:-$LOCAL/venv/bin/python}
WAIT_SECS=${STACK_WAIT_SECS:-90}

HOST=127.0.0.1
KAFKA_PORT=${FAZHI_KAFKA_PORT:-9092}
CONTROLLER_PORT=${FAZHI_CONTROLLER_PORT:-9093}
MONGO_PORT=${FAZHI_MONGO_PORT:-27017}
PG_PORT=${FAZHI_PG_PORT:-15432}

KAFKA_POM=$ROOT/deploy/local/kafka/pom.xml
KAFKA_LOG4J=$ROOT/deploy/local/kafka/log4j2.properties
KAFKA_DIR=$LOCAL/kafka
KAFKA_LIBS=$KAFKA_DIR/libs
KAFKA_DATA=$KAFKA_DIR/data
KAFKA_PROPS=$KAFKA_DIR/server.properties
KAFKA_CLUSTER_ID=$KAFKA_DIR/cluster.id
NODES=${FAZHI_KAFKA_NODES:-1}
KAFKA_CLUSTER_DIR=$KAFKA_DIR/cluster-$NODES
if ((NODES > 1)); then
	KAFKA_CLUSTER_ID=$KAFKA_CLUSTER_DIR/cluster.id
	mapfile -t KAFKA_NAMES < <(seq -f 'kafka-%g' 1 "$NODES")
else
	KAFKA_NAMES=(kafka)
fi
# replication of the topics (and Kafka's own) and the fewest in-sync replicas of an acks=all write
KAFKA_RF=$((NODES > 1 ? 3 : 1))
KAFKA_MIN_ISR=$((NODES > 1 ? 2 : 1))
KAFKA_LOGS_DIR= # set per node by launch_kafka
FERRET_DIR=$LOCAL/ferretdb
PG_VERSION=15
PG_BIN=/usr/lib/postgresql/$PG_VERSION/bin
PG_SQL=$ROOT/deploy/local/postgres/gin-twins.sql
PG_ROLE=postgres # the cluster's superuser; FerretDB connects as it
PG_DB=ferretdb
# $LOCAL/postgres is the cluster's directory, or a symlink to it (see pg_prepare_dir); it holds
# data/ (PGDATA) and run/ (the unix socket). PG_DIR, PG_DATA and PG_SOCK are set by pg_locate.
PG_LINK=$LOCAL/postgres
PG_DIR=
PG_DATA=
PG_SOCK=
# the system user the server runs as: `postgres` when root runs this script, else the caller
if ((EUID == 0)); then PG_OS_USER=postgres; else PG_OS_USER=$(id -un); fi
BIN=$LOCAL/bin
RUN=$LOCAL/run
LOGS=$LOCAL/logs

log() { printf '[stack] %s\n' "$*"; }
warn() { printf '[stack] WARNING: %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
need() { command -v "$1" >/dev/null 2>&1 || die "'$1' not found on PATH${2:+ ($2)}"; }

# ---------------------------------------------------------------- process helpers

pidfile() { printf '%s/%s.pid' "$RUN" "$1"; }

# Kafka nodes: `kafka` (the single broker) or `kafka-N` (cluster mode).
node_num() { if [[ $1 == kafka ]]; then echo 1; else echo "${1#kafka-}"; fi; }
node_port() { echo $((KAFKA_PORT + 2 * ($1 - 1))); }
node_cport() { echo $((CONTROLLER_PORT + 2 * ($1 - 1))); }
node_props() { if ((NODES == 1)); then echo "$KAFKA_PROPS"; else echo "$KAFKA_CLUSTER_DIR/node-$1/server.properties"; fi; }
node_data() { if ((NODES == 1)); then echo "$KAFKA_DATA"; else echo "$KAFKA_CLUSTER_DIR/node-$1/data"; fi; }
bootstrap() {
	local name out=()
	for name in "${KAFKA_NAMES[@]}"; do out+=("$HOST:$(node_port "$(node_num "$name")")"); done
	local IFS=,
	printf '%s' "${out[*]}"
}

# alive PID: the process exists and is not a zombie (nothing may reap our detached children).
alive() {
	local state
	[[ -r /proc/$1/stat ]] || return 1
	state=$(sed -E 's/^.*\) ([A-Za-z]).*$/\1/' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

# ours NAME PID: the live process PID is the NAME process this script started (guards against
# a recycled pid).
ours() {
	local cmd
	alive "$2" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$2/cmdline" 2>/dev/null) || return 1
	case $1 in
	kafka | kafka-[0-9]*) [[ $cmd == *kafka.Kafka* && $cmd == *"$(node_props "$(node_num "$1")")"* ]] ;;
	ferretdb) [[ $cmd == "$BIN/ferretdb "* ]] ;;
	*) return 1 ;;
	esac
}

# running NAME: prints the pid if NAME runs from our pid file; drops a stale pid file.
running() {
	local f pid
	f=$(pidfile "$1")
	[[ -f $f ]] || return 1
	pid=$(tr -dc '0-9' <"$f")
	if [[ -n $pid ]] && ours "$1" "$pid"; then
		printf '%s' "$pid"
		return 0
	fi
	log "$1: removing stale pid file (pid ${pid:-?} is not running)" >&2
	rm -f "$f"
	return 1
}

port_open() { timeout 2 bash -c "exec 3<>/dev/tcp/$HOST/$1" 2>/dev/null; }

rss_mb() { awk '/^VmRSS:/ {printf "%d MB", $2/1024}' "/proc/$1/status" 2>/dev/null || true; }

# spawn NAME LOGFILE CMD...: run CMD detached (own session, stdin closed), record its pid.
spawn() {
	local name=$1 logfile=$2
	shift 2
	mkdir -p "$RUN" "$LOGS"
	printf '\n===== %s starting %s =====\n' "$(date -Is)" "$name" >>"$logfile"
	# The inner shell writes its own pid and then execs the program, so the pid file holds the
	# program's pid whether or not setsid had to fork.
	# shellcheck disable=SC2016 # expanded by the inner shell
	setsid bash -c 'printf "%s\n" "$$" >"$1"; shift; exec "$@"' spawn "$(pidfile "$name")" "$@" \
		</dev/null >>"$logfile" 2>&1 9>&- &
	local tries=50
	while ((tries-- > 0)) && [[ ! -s $(pidfile "$name") ]]; do sleep 0.1; done
	[[ -s $(pidfile "$name") ]] || die "$name: did not start (see $logfile)"
}

# stop_procs NAME...: TERM all, wait up to 20 s for each, KILL what is left, remove pid files.
kill_procs() {
	local name pid
	for name in "$@"; do
		if pid=$(running "$name"); then
			log "$name: killing (pid $pid, SIGKILL)"
			kill -KILL "$pid" 2>/dev/null || true
			while alive "$pid"; do sleep 0.1; done
			rm -f "$(pidfile "$name")"
		else
			log "$name: not running"
		fi
	done
}

stop_procs() {
	local name pid
	local -A pids=()
	for name in "$@"; do
		if pid=$(running "$name"); then
			log "$name: stopping (pid $pid)"
			kill -TERM "$pid" 2>/dev/null || true
			pids[$name]=$pid
		else
			log "$name: not running"
		fi
	done
	local deadline=$((SECONDS + 20))
	for name in "${!pids[@]}"; do
		pid=${pids[$name]}
		while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
		if alive "$pid"; then
			warn "$name: still alive after 20 s, sending SIGKILL"
			kill -KILL "$pid" 2>/dev/null || true
			sleep 0.5
		fi
		rm -f "$(pidfile "$name")"
		log "$name: stopped"
	done
}

show_tail() {
	local f
	for f in "$@"; do
		[[ -s $f ]] || continue
		printf -- '----- last lines of %s -----\n' "$f" >&2
		tail -n 40 "$f" >&2
	done
}

need_python() {
	[[ -x $PY ]] || die "python not found at $PY; create the project venv first (python 3.11 with aiokafka and pymongo in $LOCAL/venv) or set FAZHI_PYTHON"
}

# ---------------------------------------------------------------- install

install_kafka() {
	need java "Java 17 runs the broker"
	local stamp_want stamp_have=""
	stamp_want="kafka=$KAFKA_VERSION pom=$(sha256sum "$KAFKA_POM" | cut -c1-16)"
	[[ -f $KAFKA_LIBS/.stamp ]] && stamp_have=$(<"$KAFKA_LIBS/.stamp")
	if [[ $stamp_have == "$stamp_want" ]]; then
		log "kafka $KAFKA_VERSION jars already in $KAFKA_LIBS"
		return
	fi
	need mvn "Maven fetches the broker jars"
	log "kafka: fetching kafka_2.13 $KAFKA_VERSION and its runtime dependencies with Maven"
	local tmp=$KAFKA_DIR/libs.tmp
	rm -rf "$tmp"
	mkdir -p "$KAFKA_DIR"
	mkdir -p "$LOGS"
	if ! mvn -q -B -Dstyle.color=never -f "$KAFKA_POM" -Dkafka.version="$KAFKA_VERSION" \
		dependency:copy-dependencies -DoutputDirectory="$tmp" -DincludeScope=runtime >"$LOGS/mvn.log" 2>&1; then
		show_tail "$LOGS/mvn.log"
		die "kafka: mvn dependency:copy-dependencies failed (full output in $LOGS/mvn.log)"
	fi
	compgen -G "$tmp/kafka_2.13-$KAFKA_VERSION.jar" >/dev/null || die "kafka: kafka_2.13-$KAFKA_VERSION.jar missing after copy"
	printf '%s\n' "$stamp_want" >"$tmp/.stamp"
	rm -rf "$KAFKA_LIBS"
	mv "$tmp" "$KAFKA_LIBS"
	log "kafka: $(find "$KAFKA_LIBS" -name '*.jar' | wc -l) jars in $KAFKA_LIBS"
	if running kafka >/dev/null; then warn "kafka is running with the old jars; restart it (kafka-stop, kafka-start)"; fi
}

ferretdb_installed() {
	local out
	[[ -x $BIN/ferretdb ]] || return 1
	out=$("$BIN/ferretdb" --version 2>/dev/null) || return 1
	[[ $'\n'$out$'\n' == *$'\n'"version: $FERRETDB_VERSION"$'\n'* ]]
}

install_ferretdb() {
	if ferretdb_installed; then
		log "ferretdb $FERRETDB_VERSION already built ($BIN/ferretdb)"
		return
	fi
	need go "Go builds FerretDB"
	# A plain `go install $FERRETDB_MODULE/cmd/ferretdb@$FERRETDB_VERSION` builds, but the module
	# zip lacks the generated build/version/version.txt, and such a binary panics at start-up
	# ("Invalid build/version/version.txt file content"). So: download the module (into the
	# default GOMODCACHE, shared by every clone), copy it, write version.txt, and build there.
	# GOCACHE stays at its default too, so a second clone reuses the compiled dependencies.
	log "ferretdb: building $FERRETDB_VERSION (several minutes on a cold Go build cache)"
	local json moddir src=$LOCAL/src/ferretdb-$FERRETDB_VERSION
	json=$(cd "$LOCAL" && GOWORK=off GOFLAGS=-mod=mod go mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION") ||
		die "ferretdb: go mod download failed"
	moddir=$(printf '%s\n' "$json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n 1)
	[[ -n $moddir && -d $moddir ]] || die "ferretdb: module directory not found in: $json"
	rm -rf "$src"
	mkdir -p "$(dirname "$src")" "$BIN"
	cp -R "$moddir" "$src"
	chmod -R u+w "$src"
	printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
	(cd "$src" && GOWORK=off go build -buildvcs=false -o "$BIN/ferretdb.tmp" ./cmd/ferretdb) ||
		die "ferretdb: go build failed"
	mv -f "$BIN/ferretdb.tmp" "$BIN/ferretdb"
	ferretdb_installed || die "ferretdb: built binary does not report $FERRETDB_VERSION"
	rm -rf "$src"
	rmdir "$LOCAL/src" 2>/dev/null || true
	log "ferretdb: $("$BIN/ferretdb" --version | head -n 1)"
}

as_root() {
	if ((EUID == 0)); then
		"$@"
	elif command -v sudo >/dev/null 2>&1; then
		sudo "$@"
	else
		die "root (or sudo) is needed for: $*"
	fi
}

install_debs() {
	if [[ ${FAZHI_SKIP_APT:-0} == 1 ]]; then
		log "apt: skipped (FAZHI_SKIP_APT=1)"
		return
	fi
	local pkgs=()
	[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb && -x $PG_BIN/psql ]] || pkgs+=("postgresql-$PG_VERSION")
	command -v chromium >/dev/null 2>&1 || pkgs+=(chromium)
	command -v promtool >/dev/null 2>&1 || pkgs+=(prometheus)
	if ((${#pkgs[@]} == 0)); then
		log "apt: postgresql-$PG_VERSION, chromium and promtool already installed"
		return
	fi
	need apt-get "install ${pkgs[*]} by hand"
	log "apt: installing ${pkgs[*]}"
	# Only promtool is wanted from the prometheus package, and only the binaries from
	# postgresql-15 (we run a cluster of our own): keep their services (and any other) from being
	# started by the package scripts, unless the machine already has a policy of its own.
	local policy=/usr/sbin/policy-rc.d added_policy=0
	if [[ ! -e $policy ]]; then
		as_root sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
		added_policy=1
	fi
	local rc=0 aptlog=$LOGS/apt.log
	mkdir -p "$LOGS"
	as_root apt-get update -qq >>"$aptlog" 2>&1 || rc=$?
	if ((rc == 0)); then
		as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${pkgs[@]}" \
			>>"$aptlog" 2>&1 || rc=$?
	fi
	if ((added_policy)); then as_root rm -f "$policy"; fi
	if ((rc != 0)); then
		show_tail "$aptlog"
		die "apt: installing ${pkgs[*]} failed (full output in $aptlog)"
	fi
	# ... nor at the next boot (it would listen on all interfaces, port 9090)
	if [[ " ${pkgs[*]} " == *" prometheus "* ]] && command -v systemctl >/dev/null 2>&1; then
		as_root systemctl disable --quiet prometheus.service >>"$aptlog" 2>&1 || true
	fi
	# The package creates a `main` cluster (port 5432) that we do not use: leave it stopped at
	# boot too. Other clusters of the machine keep their own setting.
	local main_start=/etc/postgresql/$PG_VERSION/main/start.conf
	if [[ " ${pkgs[*]} " == *" postgresql-$PG_VERSION "* && -f $main_start ]]; then
		as_root sed -i 's/^auto$/manual/' "$main_start" || true
	fi
	command -v chromium >/dev/null 2>&1 || warn "apt: chromium still not on PATH"
	command -v promtool >/dev/null 2>&1 || warn "apt: promtool still not on PATH"
	[[ -x $PG_BIN/postgres ]] || warn "apt: $PG_BIN/postgres still missing"
}

# ---------------------------------------------------------------- CJK font

# Headless Chromium (the page tests, `make screenshots`) draws Chinese with whatever fontconfig
# knows: with no CJK font installed every character is an empty box. $LOCAL/fonts/fonts.conf is
# the machine's configuration plus, where it knows no CJK font, Debian's $CJK_FONT_PKG unpacked
# under $LOCAL/fonts (apt-get download + dpkg -x: no root, nothing installed system-wide). The
# browsers are started with FONTCONFIG_FILE pointing at it (tests/support/browser.py).
CJK_FONT_PKG=${CJK_FONT_PKG:-fonts-wqy-zenhei}
install_cjk_font() {
	local dir=$LOCAL/fonts
	local conf=$dir/fonts.conf extra=""
	mkdir -p "$dir"
	if compgen -G "$dir/root/usr/share/fonts/truetype/*/*" >/dev/null; then
		extra="$dir/root/usr/share/fonts"
	elif command -v fc-list >/dev/null 2>&1 && [[ -n $(fc-list :lang=zh family 2>/dev/null) ]]; then
		log "font: the machine has a CJK font ($(fc-list :lang=zh family | head -n 1))"
	elif [[ ${FAZHI_SKIP_APT:-0} == 1 ]]; then
		warn "font: no CJK font, and apt is skipped (FAZHI_SKIP_APT=1): Chinese shows as boxes in headless Chromium"
	else
		need apt-get "to fetch $CJK_FONT_PKG"
		need dpkg "to unpack $CJK_FONT_PKG"
		log "font: unpacking Debian's $CJK_FONT_PKG into $dir"
		local debs=$dir/debs
		mkdir -p "$debs"
		(cd "$debs" && apt-get download -qq "$CJK_FONT_PKG" >>"$LOGS/apt.log" 2>&1) ||
			die "font: apt-get download $CJK_FONT_PKG failed (see $LOGS/apt.log)"
		rm -rf "$dir/root"
		dpkg -x "$debs/${CJK_FONT_PKG}"_*.deb "$dir/root"
		rm -rf "$debs"
		extra="$dir/root/usr/share/fonts"
	fi
	{
		printf '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "urn:fontconfig:fonts.dtd">\n<fontconfig>\n'
		printf '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>\n'
		[[ -z $extra ]] || printf '  <dir>%s</dir>\n' "$extra"
		printf '  <cachedir>%s/cache</cachedir>\n</fontconfig>\n' "$dir"
	} >"$conf.tmp"
	mv -f "$conf.tmp" "$conf"
	if [[ -n $extra ]]; then
		log "font: $(FONTCONFIG_FILE=$conf fc-list :lang=zh family 2>/dev/null | head -n 1) for Chinese (FONTCONFIG_FILE=$conf)"
	fi
}

cmd_install() {
	local t0=$SECONDS
	mkdir -p "$BIN" "$RUN" "$LOGS" "$KAFKA_DIR"
	install_kafka
	install_ferretdb
	install_debs
	install_cjk_font
	log "install done in $((SECONDS - t0)) s"
}

# ---------------------------------------------------------------- kafka

# kafka_java MAINCLASS ARGS...: sets the array JAVA_CMD to the java command line for MAINCLASS.
kafka_java() {
	# shellcheck disable=SC2206 # heap/extra options are deliberately word-split
	local heap=($KAFKA_HEAP_OPTS) extra=($KAFKA_OPTS)
	JAVA_CMD=(java "${heap[@]}" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
		-XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent
		-Djava.awt.headless=true
		-Dlog4j2.configurationFile="$KAFKA_LOG4J" -Dkafka.logs.dir="${KAFKA_LOGS_DIR:-$LOGS}"
		"${extra[@]}" -cp "$KAFKA_LIBS/*" "$@")
}

# write_kafka_props N: node N's server.properties.
write_kafka_props() {
	local n=$1 i voters=()
	for ((i = 1; i <= NODES; i++)); do voters+=("$i@$HOST:$(node_cport "$i")"); done
	mkdir -p "$(dirname "$(node_props "$n")")"
	cat >"$(node_props "$n")" <<EOF
# Generated by scripts/stack.sh on every start; edit the script, not this file.
process.roles=broker,controller
node.id=$n
controller.quorum.voters=$(IFS=,; printf '%s' "${voters[*]}")
listeners=PLAINTEXT://$HOST:$(node_port "$n"),CONTROLLER://$HOST:$(node_cport "$n")
advertised.listeners=PLAINTEXT://$HOST:$(node_port "$n")
inter.broker.listener.name=PLAINTEXT
controller.listener.names=CONTROLLER
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=$(node_data "$n")
num.partitions=6
default.replication.factor=$KAFKA_RF
min.insync.replicas=$KAFKA_MIN_ISR
auto.create.topics.enable=true
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=$KAFKA_RF
offsets.topic.num.partitions=10
transaction.state.log.replication.factor=$KAFKA_RF
transaction.state.log.min.isr=$KAFKA_MIN_ISR
transaction.state.log.num.partitions=10
share.coordinator.state.topic.replication.factor=$KAFKA_RF
share.coordinator.state.topic.min.isr=$KAFKA_MIN_ISR
num.network.threads=2
num.io.threads=4
num.recovery.threads.per.data.dir=1
log.retention.hours=168
EOF
}

# kafka_format N: format node N's storage (once), with the cluster's id (made on first use).
kafka_format() {
	local n=$1 id data props
	data=$(node_data "$n")
	props=$(node_props "$n")
	if [[ -f $data/meta.properties ]]; then
		if [[ ! -s $KAFKA_CLUSTER_ID ]]; then
			sed -n 's/^cluster\.id=//p' "$data/meta.properties" >"$KAFKA_CLUSTER_ID"
		fi
		return
	fi
	if [[ -s $KAFKA_CLUSTER_ID ]]; then
		id=$(<"$KAFKA_CLUSTER_ID")
	else
		kafka_java kafka.tools.StorageTool random-uuid
		id=$("${JAVA_CMD[@]}" 2>>"$LOGS/kafka.out" | tail -n 1)
		[[ $id =~ ^[A-Za-z0-9_-]{22}$ ]] || die "kafka: could not generate a cluster id (got '$id')"
		mkdir -p "$(dirname "$KAFKA_CLUSTER_ID")"
		printf '%s\n' "$id" >"$KAFKA_CLUSTER_ID"
	fi
	log "kafka: formatting $data (cluster id $id)"
	mkdir -p "$data"
	kafka_java kafka.tools.StorageTool format -t "$id" -c "$props" --ignore-formatted
	"${JAVA_CMD[@]}" >>"$LOGS/kafka.out" 2>&1 || {
		show_tail "$LOGS/kafka.out"
		die "kafka: storage format failed"
	}
}

# launch_kafka: start the broker(s) not running; never waits for them.
launch_kafka() {
	local pid name n all=1
	for name in "${KAFKA_NAMES[@]}"; do
		if pid=$(running "$name"); then
			log "$name: already running (pid $pid)"
			continue
		fi
		all=0
		n=$(node_num "$name")
		if port_open "$(node_port "$n")" || port_open "$(node_cport "$n")"; then
			die "$name: $HOST:$(node_port "$n") or :$(node_cport "$n") is already in use by a process stack.sh did not start"
		fi
		need java "Java 17 runs the broker"
		compgen -G "$KAFKA_LIBS/kafka_2.13-*.jar" >/dev/null || die "kafka: jars missing in $KAFKA_LIBS; run: scripts/stack.sh install"
		mkdir -p "$KAFKA_DIR" "$LOGS" "$RUN"
		write_kafka_props "$n"
		kafka_format "$n"
		KAFKA_LOGS_DIR=
		((NODES == 1)) || KAFKA_LOGS_DIR=$LOGS/$name
		kafka_java kafka.Kafka "$(node_props "$n")"
		spawn "$name" "$LOGS/$name.out" "${JAVA_CMD[@]}"
		log "$name: started (pid $(tr -dc '0-9' <"$(pidfile "$name")"))"
	done
	KAFKA_WAS_RUNNING=$all
}

# wait_kafka: until every broker answers (in cluster mode: the cluster lists them all).
wait_kafka() {
	local deadline=$((SECONDS + WAIT_SECS)) name out
	while :; do
		for name in "${KAFKA_NAMES[@]}"; do
			if ! running "$name" >/dev/null; then
				show_tail "$LOGS/kafka.log" "$LOGS/$name.out"
				die "$name: the broker exited during start-up"
			fi
		done
		if port_open "$KAFKA_PORT" &&
			out=$(KAFKA_BOOTSTRAP=$(bootstrap) "$PY" "$ROOT/scripts/topics.py" --check --timeout 5 2>/dev/null) &&
			(($(grep -o '@' <<<"$out" | wc -l) >= NODES)); then
			log "kafka: ready on $(bootstrap) ($NODES broker(s))"
			return
		fi
		if ((SECONDS >= deadline)); then
			show_tail "$LOGS/kafka.log"
			die "kafka: no answer on $(bootstrap) after $WAIT_SECS s (left running; 'scripts/stack.sh kafka-stop' stops it)"
		fi
		sleep 1
	done
}

ensure_topics() {
	KAFKA_BOOTSTRAP=$(bootstrap) KAFKA_TOPIC_REPLICATION=$KAFKA_RF "$PY" "$ROOT/scripts/topics.py" ||
		die "kafka: topic creation failed"
}

# ---------------------------------------------------------------- postgresql

# as_pg CMD...: run CMD as the cluster's system user, from / (the checkout may sit in a directory
# that user cannot enter), without the stack lock (fd 9): a server it starts outlives us.
as_pg() {
	if ((EUID == 0)); then
		(cd / && exec runuser -u "$PG_OS_USER" -- "$@") 9>&-
	else
		(cd / && exec "$@") 9>&-
	fi
}

# pg_locate: set PG_DIR, PG_DATA and PG_SOCK from $LOCAL/postgres (a directory or a symlink).
pg_locate() {
	if [[ -L $PG_LINK ]]; then
		PG_DIR=$(readlink -- "$PG_LINK")
	else
		PG_DIR=$PG_LINK
	fi
	PG_DATA=$PG_DIR/data
	PG_SOCK=$PG_DIR/run
}

# pg_prepare_dir: make the cluster's directory, writable by $PG_OS_USER. As root, that is
# $LOCAL/postgres if the postgres user can write there; if it cannot even reach $LOCAL (a checkout
# in root's home, mode 700), the cluster goes to that user's home, ~postgres/fazhi-<hash of
# $LOCAL>, and $LOCAL/postgres becomes a symlink to it, which every later command follows.
pg_prepare_dir() {
	if ((EUID != 0)); then
		mkdir -p "$PG_DIR"
		return
	fi
	id -u "$PG_OS_USER" >/dev/null 2>&1 ||
		die "postgres: no '$PG_OS_USER' system user (Debian's postgresql-common makes it: scripts/stack.sh install)"
	need runuser "root runs PostgreSQL as the $PG_OS_USER user"
	if [[ ! -L $PG_LINK ]]; then
		mkdir -p "$PG_LINK"
		chown "$PG_OS_USER:" "$PG_LINK"
		if ! as_pg test -w "$PG_LINK" -a -x "$PG_LINK"; then
			local home hash
			home=$(getent passwd "$PG_OS_USER" | cut -d: -f6)
			[[ -n $home && -d $home ]] || die "postgres: user $PG_OS_USER cannot write $PG_LINK and has no home directory"
			hash=$(printf '%s' "$LOCAL" | sha256sum | cut -c1-12)
			rmdir "$PG_LINK" 2>/dev/null ||
				die "postgres: user $PG_OS_USER cannot write $PG_LINK, which is not empty; move it away"
			mkdir -p "$home/fazhi-$hash"
			ln -s "$home/fazhi-$hash" "$PG_LINK"
			pg_locate
			log "postgres: user $PG_OS_USER cannot write under $LOCAL: the cluster lives in $PG_DIR ($PG_LINK points there)"
		fi
	fi
	mkdir -p "$PG_DIR"
	chown "$PG_OS_USER:" "$PG_DIR"
	as_pg test -w "$PG_DIR" -a -x "$PG_DIR" || die "postgres: user $PG_OS_USER cannot write $PG_DIR"
}

pg_initdb() {
	log "postgres: creating the cluster $PG_DATA (runs as user $PG_OS_USER)"
	# UTF8 and the C locale, as FerretDB requires; trust as set in pg_hba.conf below
	if ! as_pg "$PG_BIN/initdb" -D "$PG_DATA" -U "$PG_ROLE" --auth=trust --encoding=UTF8 --no-locale \
		>>"$LOGS/postgres.log" 2>&1; then
		show_tail "$LOGS/postgres.log"
		die "postgres: initdb failed (see $LOGS/postgres.log)"
	fi
	printf "\n# scripts/stack.sh writes its settings there on every start\ninclude 'fazhi.conf'\n" |
		as_pg tee -a "$PG_DATA/postgresql.conf" >/dev/null
}

# pg_write FILE: write stdin to FILE in the data directory, owned by the cluster's user.
pg_write() {
	cat >"$PG_DATA/$1"
	if ((EUID == 0)); then chown "$PG_OS_USER:" "$PG_DATA/$1"; fi
}

write_pg_conf() {
	pg_write fazhi.conf <<EOC
# Generated by scripts/stack.sh on every start; edit the script, not this file.
# The local development store under FerretDB, sized for a 2-core machine. Production runs MongoDB.
listen_addresses = '$HOST'
port = $PG_PORT
unix_socket_directories = '$PG_SOCK'
max_connections = 300                 # FerretDB's pool opens up to FERRETDB_POOL (200)
shared_buffers = 256MB
effective_cache_size = 1GB
work_mem = 8MB
maintenance_work_mem = 128MB
random_page_cost = 1.1
jit = off                             # compiling short queries costs more than it saves
# FerretDB sends the field name as a bind parameter of a prepared statement
# ('_jsonb -> \$1 @> \$2'). A generic plan cannot match an index expression ('_jsonb -> 'f''),
# and once chosen (while a collection is small) it would stay a Seq Scan as the collection grows;
# a custom plan sees the field name and uses the GIN twin.
plan_cache_mode = force_custom_plan
# Local store only: a crash of the machine may lose the last fraction of a second of commits
# (never corrupts: fsync stays on). Production is MongoDB, with its own write concern.
synchronous_commit = off
wal_level = minimal
max_wal_senders = 0
max_wal_size = 1GB
checkpoint_timeout = 15min
# Right after a collection grows fast (1k to 20k documents in seconds), PostgreSQL plans with its
# old statistics until autovacuum's ANALYZE, about a minute later by default: look every 5 s and
# analyze after 200 rows + 5 % changed. 'scripts/stack.sh analyze' does it at once.
autovacuum_naptime = 5s
autovacuum_max_workers = 2
autovacuum_analyze_threshold = 200
autovacuum_analyze_scale_factor = 0.05
autovacuum_vacuum_threshold = 500
autovacuum_vacuum_scale_factor = 0.05
autovacuum_vacuum_insert_threshold = 1000
autovacuum_vacuum_insert_scale_factor = 0.05
# stderr goes to $LOGS/postgres.log
logging_collector = off
log_line_prefix = '%m [%p] %q%u@%d '
log_checkpoints = off
EOC
	pg_write pg_hba.conf <<EOC
# Generated by scripts/stack.sh on every start. A local development store: anyone on this
# machine may connect, as any role, over 127.0.0.1 or the socket; nothing else is accepted.
local all all trust
host  all all 127.0.0.1/32 trust
EOC
}

# pg_running: prints the postmaster's pid if our cluster runs (from its postmaster.pid).
pg_running() {
	local f=$PG_DATA/postmaster.pid pid cmd
	[[ -n $PG_DATA && -r $f ]] || return 1
	pid=$(head -n 1 "$f" 2>/dev/null | tr -dc '0-9')
	[[ -n $pid ]] || return 1
	alive "$pid" || return 1
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
	[[ $cmd == "$PG_BIN/postgres "* && $cmd == *" $PG_DATA"* ]] || return 1
	printf '%s' "$pid"
}

# launch_postgres: start our cluster (initdb the first time) unless it runs; waits until it
# accepts connections (about a second).
launch_postgres() {
	local pid
	pg_locate
	mkdir -p "$LOGS" "$RUN"
	if pid=$(pg_running); then
		log "postgres: already running (pid $pid)"
		printf '%s\n' "$pid" >"$(pidfile postgres)"
		PG_WAS_RUNNING=1
		return
	fi
	PG_WAS_RUNNING=0
	rm -f "$(pidfile postgres)"
	if port_open "$PG_PORT"; then
		die "postgres: $HOST:$PG_PORT is already in use by a process stack.sh did not start"
	fi
	[[ -x $PG_BIN/postgres && -x $PG_BIN/initdb ]] || die "postgres: $PG_BIN missing; run: scripts/stack.sh install"
	if [[ ! -f $PG_DATA/PG_VERSION ]]; then
		pg_prepare_dir
		pg_initdb
	fi
	write_pg_conf
	as_pg mkdir -p "$PG_SOCK"
	printf '\n===== %s starting postgres =====\n' "$(date -Is)" >>"$LOGS/postgres.log"
	if ! as_pg "$PG_BIN/pg_ctl" start -D "$PG_DATA" -w -t "$WAIT_SECS" -s >>"$LOGS/postgres.log" 2>&1; then
		show_tail "$LOGS/postgres.log"
		die "postgres: did not start (see $LOGS/postgres.log)"
	fi
	pid=$(pg_running) || die "postgres: started, but no postmaster.pid of ours in $PG_DATA"
	printf '%s\n' "$pid" >"$(pidfile postgres)"
	log "postgres: ready on $HOST:$PG_PORT (pid $pid, data $PG_DATA)"
}

pg_psql() {
	"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$HOST" -p "$PG_PORT" -U "$PG_ROLE" "$@"
}

# pg_setup: the database FerretDB uses, and the GIN twin triggers in it (idempotent; before
# FerretDB starts, so that every index it creates gets its twin).
pg_setup() {
	local exists
	exists=$(pg_psql -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'") ||
		die "postgres: psql cannot connect to $HOST:$PG_PORT"
	if [[ $exists != 1 ]]; then
		log "postgres: creating database $PG_DB"
		pg_psql -d postgres -c "CREATE DATABASE $PG_DB" || die "postgres: CREATE DATABASE $PG_DB failed"
	fi
	if ! pg_psql -d "$PG_DB" -1 -f "$PG_SQL" >>"$LOGS/postgres.log" 2>&1; then
		show_tail "$LOGS/postgres.log"
		die "postgres: installing the GIN twins ($PG_SQL) failed"
	fi
}

stop_postgres() {
	local pid
	pg_locate
	if ! pid=$(pg_running); then
		log "postgres: not running"
		rm -f "$(pidfile postgres)"
		return
	fi
	log "postgres: stopping (pid $pid)"
	mkdir -p "$LOGS"
	if ! as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m fast -w -t 30 -s >>"$LOGS/postgres.log" 2>&1; then
		warn "postgres: not stopped after 30 s, stopping it immediately"
		as_pg "$PG_BIN/pg_ctl" stop -D "$PG_DATA" -m immediate -w -t 30 -s >>"$LOGS/postgres.log" 2>&1 || true
	fi
	if pg_running >/dev/null; then
		die "postgres: pid $pid is still running"
	fi
	rm -f "$(pidfile postgres)"
	log "postgres: stopped"
}

# ---------------------------------------------------------------- ferretdb

launch_ferretdb() {
	local pid
	if pid=$(running ferretdb); then
		log "ferretdb: already running (pid $pid)"
		FERRET_WAS_RUNNING=1
		return
	fi
	FERRET_WAS_RUNNING=0
	if port_open "$MONGO_PORT"; then
		die "ferretdb: $HOST:$MONGO_PORT is already in use by a process stack.sh did not start"
	fi
	[[ -x $BIN/ferretdb ]] || die "ferretdb: $BIN/ferretdb missing; run: scripts/stack.sh install"
	pg_setup
	mkdir -p "$FERRET_DIR/state" "$LOGS" "$RUN"
	spawn ferretdb "$LOGS/ferretdb.log" "$BIN/ferretdb" \
		--handler=postgresql \
		--postgresql-url="postgres://$PG_ROLE@$HOST:$PG_PORT/$PG_DB?pool_max_conns=$FERRETDB_POOL" \
		--listen-addr="$HOST:$MONGO_PORT" --state-dir="$FERRET_DIR/state" \
		--debug-addr=- --telemetry=disable --log-level=info
	log "ferretdb: started (pid $(tr -dc '0-9' <"$(pidfile ferretdb)"))"
}

wait_ferretdb() {
	local deadline=$((SECONDS + WAIT_SECS)) pid
	local ping="import pymongo; pymongo.MongoClient('mongodb://$HOST:$MONGO_PORT/', serverSelectionTimeoutMS=3000).admin.command('ping')"
	while :; do
		if ! pid=$(running ferretdb); then
			show_tail "$LOGS/ferretdb.log"
			die "ferretdb: exited during start-up"
		fi
		if port_open "$MONGO_PORT" && "$PY" -c "$ping" >/dev/null 2>&1; then
			log "ferretdb: ready on $HOST:$MONGO_PORT (pid $pid, rss $(rss_mb "$pid"))"
			return
		fi
		if ((SECONDS >= deadline)); then
			show_tail "$LOGS/ferretdb.log"
			die "ferretdb: no answer on $HOST:$MONGO_PORT after $WAIT_SECS s (pid $pid left running; 'scripts/stack.sh stop' stops it)"
		fi
		sleep 0.5
	done
}

# ---------------------------------------------------------------- commands

cmd_start() {
	local t0=$SECONDS
	need_python
	launch_kafka    # the broker takes longest to answer: it warms up while the others start
	launch_postgres # returns once PostgreSQL accepts connections
	launch_ferretdb
	if ((KAFKA_WAS_RUNNING && PG_WAS_RUNNING && FERRET_WAS_RUNNING)) && port_open "$KAFKA_PORT" && port_open "$MONGO_PORT"; then
		log "already running: kafka $HOST:$KAFKA_PORT, mongodb://$HOST:$MONGO_PORT, postgres $HOST:$PG_PORT"
		return
	fi
	wait_ferretdb
	wait_kafka
	ensure_topics
	log "stack up in $((SECONDS - t0)) s: kafka $HOST:$KAFKA_PORT, mongodb://$HOST:$MONGO_PORT, postgres $HOST:$PG_PORT"
}

cmd_kafka_start() {
	need_python
	launch_kafka
	if ((KAFKA_WAS_RUNNING)) && port_open "$KAFKA_PORT"; then return; fi
	wait_kafka
	ensure_topics
}

cmd_status() {
	local pid rc=0
	local name
	for name in "${KAFKA_NAMES[@]}"; do
		if pid=$(running "$name"); then
			local up=starting
			port_open "$(node_port "$(node_num "$name")")" && up=listening
			log "kafka     running  pid $pid  $HOST:$(node_port "$(node_num "$name")") $up  rss $(rss_mb "$pid")"
		else
			log "kafka     stopped  ($name)"
			rc=3
		fi
	done
	pg_locate
	if pid=$(pg_running); then
		local up=starting
		port_open "$PG_PORT" && up=listening
		log "postgres  running  pid $pid  $HOST:$PG_PORT $up  rss $(rss_mb "$pid")  data $PG_DATA"
	else
		log "postgres  stopped  data $PG_DATA"
		rc=3
	fi
	if pid=$(running ferretdb); then
		local up=starting
		port_open "$MONGO_PORT" && up=listening
		log "ferretdb  running  pid $pid  $HOST:$MONGO_PORT $up  rss $(rss_mb "$pid")"
	else
		log "ferretdb  stopped"
		rc=3
	fi
	return "$rc"
}

# `make run`'s supervisor (scripts/supervise.py) of this checkout, if one runs (its pid is in
# $RUN/supervise.json): stopped with everything it started (TERM; it gives them 15 s, then KILL),
# so that nothing is started again against a stack that is going away. With `servers` (stop,
# reset, which stop the servers next), `make run` itself (scripts/run.sh, the supervisor's parent)
# is waited for, told by $RUN/make-stop (its pid) to leave the servers to this stop
# (scripts/lib-stack.sh): otherwise it would stop the servers it started as it ends, after this
# stop, and a start that came in between would lose them to it.
stop_services() {
	local servers=${1:-} state=$RUN/supervise.json pid cmd deadline parent=""
	[[ -f $state ]] || return 0
	pid=$(sed -n 's/.*"supervisor": *\([0-9][0-9]*\).*/\1/p' "$state" | head -n 1)
	if [[ -n $pid ]] && alive "$pid" &&
		cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) &&
		[[ $cmd == *scripts/supervise.py* && $(readlink "/proc/$pid/cwd") == "$ROOT" ]]; then
		parent=$(sed -E 's/^.*\) [A-Za-z] ([0-9]+) .*$/\1/' "/proc/$pid/stat" 2>/dev/null || true)
		if ! { [[ $servers == servers && -n $parent ]] && alive "$parent" &&
			[[ $(tr '\0' ' ' <"/proc/$parent/cmdline" 2>/dev/null) == *scripts/run.sh* ]]; }; then
			parent=""  # services-stop: make run ends and stops what it started, as ever
		fi
		log "services: stopping make run's apis and workers (supervisor pid $pid)"
		if [[ -n $parent ]]; then printf '%s\n' "$parent" >"$RUN/make-stop"; fi
		kill -TERM "$pid" 2>/dev/null || true
		deadline=$((SECONDS + 30))
		while alive "$pid" && ((SECONDS < deadline)); do sleep 0.2; done
		if alive "$pid"; then
			warn "services: supervisor pid $pid still running after 30 s; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
		log "services: stopped"
		if [[ -n $parent ]]; then
			deadline=$((SECONDS + 60))
			while alive "$parent" && ((SECONDS < deadline)); do sleep 0.2; done
			if alive "$parent"; then warn "make run (pid $parent) still ending after 60 s"; fi
		fi
	fi
	rm -f "$state" "$RUN/make-stop"
}

cmd_stop() {
	stop_services servers
	stop_procs "${KAFKA_NAMES[@]}" ferretdb
	stop_postgres
}

cmd_analyze() {
	pg_locate
	pg_running >/dev/null || die "postgres: not running (scripts/stack.sh start)"
	local t0=$SECONDS
	pg_psql -d "$PG_DB" -c ANALYZE || die "postgres: ANALYZE failed"
	log "postgres: database $PG_DB analyzed in $((SECONDS - t0)) s"
}

cmd_reset() {
	stop_services servers
	stop_procs "${KAFKA_NAMES[@]}" ferretdb
	stop_postgres
	log "reset: deleting $KAFKA_DATA, $KAFKA_CLUSTER_ID, $KAFKA_CLUSTER_DIR, $FERRET_DIR and the PostgreSQL cluster $PG_DATA"
	rm -rf "$KAFKA_DATA" "$KAFKA_CLUSTER_ID" "$KAFKA_CLUSTER_DIR" "$FERRET_DIR" "$PG_DATA" "$PG_SOCK"
}

usage() {
	sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

# lock: serialise commands that change the stack (two `start`s at once would race for the pid
# files and ports). Spawned services do not inherit the lock (see spawn).
lock() {
	command -v flock >/dev/null 2>&1 || return 0
	mkdir -p "$RUN"
	exec 9>"$RUN/stack.lock"
	if ! flock -n 9; then
		log "waiting for another stack.sh command to finish"
		flock -w 300 9 || die "another stack.sh command holds $RUN/stack.lock"
	fi
}

# kafka_nodes [N]: sets SELECTED to every node's name, or to node N's.
SELECTED=()
kafka_nodes() {
	if [[ -z $1 ]]; then
		SELECTED=("${KAFKA_NAMES[@]}")
	elif ((NODES == 1)) || [[ ! $1 =~ ^[0-9]+$ ]] || (($1 < 1 || $1 > NODES)); then
		die "no Kafka node $1 (FAZHI_KAFKA_NODES=$NODES)"
	else
		SELECTED=("kafka-$1")
	fi
}

main() {
	[[ $NODES == 1 || $NODES == 3 ]] || die "FAZHI_KAFKA_NODES must be 1 or 3 (got $NODES)"
	case ${1:-} in
	install | start | stop | kafka-start | kafka-stop | kafka-kill | postgres-stop | reset) lock ;;
	esac
	case ${1:-} in
	install) cmd_install ;;
	font) mkdir -p "$LOGS"; install_cjk_font ;;
	start) cmd_start ;;
	stop) cmd_stop ;;
	services-stop) stop_services ;;
	status) cmd_status ;;
	kafka-start) cmd_kafka_start ;;
	kafka-stop) kafka_nodes "${2:-}" && stop_procs "${SELECTED[@]}" ;;
	kafka-kill) kafka_nodes "${2:-}" && kill_procs "${SELECTED[@]}" ;;
	ferretdb-stop) stop_procs ferretdb ;;
	postgres-stop) stop_postgres ;;
	analyze) cmd_analyze ;;
	reset) cmd_reset ;;
	-h | --help | help) usage ;;
	*)
		usage >&2
		exit 2
		;;
	esac
}

main "$@"
