"""The deployment files, checked without a server: Dockerfile, docker-compose.yml, deploy/.

Every YAML file parses; compose and Kubernetes define each service's api and worker with
health checks and the settings the code reads; the Prometheus rules use only metric names the
code defines (or `up`) and pass promtool (`promtool check rules|config`, `promtool test rules`);
the PrometheusRule for Kubernetes carries the same groups; the Grafana dashboards query only
series that the code exports or the rules record. Compose is loaded by compose-go, the loader of
`docker compose` (deploy/tools/composecheck). The rendered Kubernetes manifests are checked in
test_k8s_manifests.py.

They cannot import Python, so every service, topic, partition count, database, port and env
prefix they name is checked against `fazhi.topology`: a change made there and not here (or here
and not there) fails a test.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from prometheus_client import CollectorRegistry

from fazhi import topology
from fazhi.topology import SERVICES, ServiceTopology
from tests.support.processes import KAFKA, UVICORN_FLAGS

try:
    import yaml
except ImportError:  # pragma: no cover - reported by the tests below
    yaml = None

# It runs promtool, so not a pure unit test; it needs no Kafka, MongoDB or service process.
pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
COMPOSE = ROOT / "docker-compose.yml"
PROMETHEUS = DEPLOY / "prometheus"
K8S = DEPLOY / "k8s" / "base"
DASHBOARDS = DEPLOY / "grafana" / "dashboards"
# Settings a compose process may carry besides those under its service's own prefix.
UNPREFIXED_ENV = {"PORT"}


def by_name(service: ServiceTopology) -> str:
    return service.name


# ------------------------------------------------------------------ helpers


def load_yaml_documents(path: Path) -> list[Any]:
    if yaml is None:
        pytest.fail("PyYAML is not installed: add `pyyaml` to the dev group, then `make lock`")
    with path.open(encoding="utf-8") as f:
        return list(yaml.safe_load_all(f))


def load_yaml(path: Path) -> Any:
    docs = load_yaml_documents(path)
    assert len(docs) == 1, f"{path}: expected one YAML document, found {len(docs)}"
    return docs[0]


def shell_loop_words(script: str, variable: str) -> list[str]:
    """The words of the shell loop `for <variable> in a b c; do` in `script`."""
    (words,) = re.findall(rf"\bfor {variable} in ([^;\n]+); do", script)
    return words.split()


def topic_partitions() -> int:
    """The one partition count the topic jobs give every topic (they loop over the topics)."""
    counts = set(topology.topic_partitions().values())
    assert len(counts) == 1, (
        f"topics with different partition counts {counts}: the compose and k8s topic jobs "
        "create all topics with one count; give each its own there"
    )
    return counts.pop()


def environment(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def command_text(value: Any) -> str:
    return " ".join(value) if isinstance(value, list) else str(value or "")


def require_promtool() -> str:
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool not found: run `make install` (it installs Debian's prometheus)")
    return promtool


def run_promtool(*args: str) -> None:
    result = subprocess.run(
        [require_promtool(), *args], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, f"promtool {' '.join(args)}:\n{result.stdout}{result.stderr}"


# ------------------------------------------------------------------ files parse


def yaml_files() -> list[Path]:
    files = sorted({*DEPLOY.rglob("*.yml"), *DEPLOY.rglob("*.yaml"), COMPOSE})
    return [f for f in files if f.is_file()]


def test_deploy_tree_has_the_expected_files() -> None:
    for path in (
        ROOT / "Dockerfile",
        ROOT / ".dockerignore",
        COMPOSE,
        PROMETHEUS / "prometheus.yml",
        PROMETHEUS / "rules.yml",
        PROMETHEUS / "rules.test.yml",
        K8S / "kustomization.yaml",
        DASHBOARDS / "fazhi.json",
        DASHBOARDS / "fazhi-domain.json",
    ):
        assert path.is_file(), f"missing {path.relative_to(ROOT)}"


@pytest.mark.parametrize("path", yaml_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_yaml_file_parses(path: Path) -> None:
    docs = load_yaml_documents(path)
    assert docs, f"{path} is empty"
    assert all(isinstance(doc, dict) for doc in docs), f"{path}: a document is not a mapping"


def test_no_machine_paths_or_registry_hosts() -> None:
    files = [
        ROOT / "Dockerfile",
        ROOT / ".dockerignore",
        *yaml_files(),
        *DEPLOY.rglob("*.json"),
    ]
    forbidden = re.compile(
        r"/work/|/root/|pypi\.org|pythonhosted|docker\.io|quay\.io|ghcr\.io|gcr\.io"
    )
    for path in files:
        hit = forbidden.search(path.read_text(encoding="utf-8"))
        assert hit is None, f"{path.relative_to(ROOT)} names {hit.group()!r}"


# ------------------------------------------------------------------ Dockerfile


def test_dockerfile_installs_one_service_hash_checked_as_non_root() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^ARG PYTHON_IMAGE=python:3\.11-slim(@sha256:[0-9a-f]{64})?$", text, re.M)
    assert "ARG SERVICE" in text
    assert "--require-hashes" in text
    # every build uses the locked backends (deploy/image/lock.py build), none fetched unpinned
    installs = [line for line in text.splitlines() if re.search(r"pip install (?!--require)", line)]
    assert all("--no-build-isolation" in line for line in installs), installs
    assert 'pip install --no-deps --no-build-isolation ./libs/fazhi "./services/${SERVICE}"' in text
    assert "PYTHONUNBUFFERED=1" in text
    users = re.findall(r"^USER (\S+)", text, re.M)
    assert users, "the image should switch to a non-root USER"
    assert users[-1].split(":")[0] not in {"root", "0"}, users
    ignore = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    assert "*" in ignore, "the build context should be an allow-list"
    assert "!requirements.lock" in ignore


def test_every_api_start_runs_uvicorn_on_uvloop_with_httptools() -> None:
    """The image's launcher (what compose and Kubernetes run), the Procfile of `make run` and
    the tests' own api processes all pick the fast event loop and HTTP parser."""
    flags = "--loop uvloop --http httptools"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    (launcher,) = [line for line in dockerfile.splitlines() if "exec uvicorn" in line]
    assert flags in launcher
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    apis = [line for line in procfile if "uvicorn" in line.split(":", 1)[1]]
    assert len(apis) == 4, procfile
    for line in apis:
        assert flags in line, line
    assert flags in " ".join(UVICORN_FLAGS)


def test_make_run_uses_the_registered_ports() -> None:
    """The Procfile of `make run` starts each registered service on its ports (the worker's
    comes from its settings), and scripts/run.sh prints those URLs."""
    procfile = (ROOT / "Procfile").read_text(encoding="utf-8").splitlines()
    commands = [line.split(":", 1)[1].strip() for line in procfile if line.strip()]
    sides = [side for service in SERVICES for side in service.side_workers]
    assert len(commands) == 2 * len(SERVICES) + len(sides), procfile
    banner = (ROOT / "scripts" / "run.sh").read_text(encoding="utf-8")
    for service in SERVICES:
        (api,) = [c for c in commands if f" {service.package}.api:create_app " in c]
        assert f" --port {service.api_port} " in api
        assert f"python -m {service.package}.worker" in commands
        assert f"http://127.0.0.1:{service.api_port}/docs" in banner
        assert f"http://127.0.0.1:{service.worker_port}/metrics" in banner
    for side in sides:  # its port comes from its settings' default (the topology's)
        assert f"python -m {side.module}" in commands
        assert f"http://127.0.0.1:{side.port}/metrics" in banner


# ------------------------------------------------------------------ docker compose


@cache
def compose() -> dict[str, Any]:
    return load_yaml(COMPOSE)


def test_compose_defines_infrastructure_with_healthchecks() -> None:
    svc = compose()["services"]
    for name in ("kafka", "mongo", "prometheus", "grafana"):
        assert name in svc, f"compose lacks {name}"
        assert svc[name].get("healthcheck", {}).get("test"), f"{name} has no healthcheck"
    assert svc["kafka"]["image"].startswith("apache/kafka:4.")
    assert svc["kafka"]["environment"]["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert svc["mongo"]["image"].startswith("mongo:7")
    start = command_text(svc["mongo"]["entrypoint"])
    assert "--replSet rs0" in start
    assert "--keyFile" in start, "a replica set with authentication needs its key file"
    assert svc["mongo"]["environment"]["MONGO_INITDB_ROOT_PASSWORD"].startswith(
        "${MONGO_ROOT_PASSWORD:?"
    )
    assert "rs.initiate" in command_text(svc["mongo"]["healthcheck"]["test"])
    init = (DEPLOY / "mongo" / "init-users.js").read_text(encoding="utf-8")
    for service in SERVICES:
        password = f"{service.env_prefix}MONGO_PASSWORD"
        assert svc["mongo"]["environment"][password].startswith(f"${{{password}:?")
        assert f'{service.database}: "{password}"' in init


def test_compose_publishes_ports_on_loopback_only_and_limits_memory() -> None:
    for name, service in compose()["services"].items():
        for port in service.get("ports", []):
            assert port.startswith("127.0.0.1:"), f"{name} publishes {port} on every interface"
        assert service.get("mem_limit"), f"{name} has no memory limit"
    grafana = compose()["services"]["grafana"]["environment"]
    assert grafana["GF_SECURITY_ADMIN_PASSWORD"].startswith("${GRAFANA_ADMIN_PASSWORD:?")


@cache
def composecheck() -> str:
    binary = ROOT / ".local" / "bin" / "composecheck"
    if not binary.exists():
        go = shutil.which("go")
        if go is None:
            pytest.fail("composecheck is built with Go, and go is not on PATH")
        subprocess.run(
            [go, "install", "."],
            cwd=DEPLOY / "tools" / "composecheck",
            env={**os.environ, "GOBIN": str(binary.parent)},
            check=True,
            capture_output=True,
            timeout=600,
        )
    return str(binary)


def compose_secrets() -> dict[str, str]:
    """Every variable compose requires (`${NAME:?…}`), with a value."""
    names = set(re.findall(r"\$\{([A-Z0-9_]+):\?", COMPOSE.read_text(encoding="utf-8")))
    return {name: "x" for name in names}


def test_compose_loads_with_the_real_loader_and_refuses_a_missing_secret() -> None:
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", "/tmp")}
    loaded = subprocess.run(
        [composecheck(), str(COMPOSE)],
        env={**env, **compose_secrets()},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert loaded.returncode == 0, loaded.stderr
    project = json.loads(loaded.stdout)
    assert set(project["services"]) >= {f"{s.name}-api" for s in SERVICES}
    assert "admin" not in project["services"], "the tools profile is not started by `up`"
    missing = {**compose_secrets()}
    missing.pop("SUPERVISION_MASTER_KEY")
    refused = subprocess.run(
        [composecheck(), str(COMPOSE)], env={**env, **missing}, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "SUPERVISION_MASTER_KEY" in refused.stderr


def test_compose_creates_every_topic_and_its_dead_letter_twin() -> None:
    job = compose()["services"]["kafka-topics"]
    script = command_text(job["command"])
    assert "/opt/kafka/bin/kafka-topics.sh" in script
    assert "--create --if-not-exists" in script
    assert shell_loop_words(script, "topic") == list(topology.EVENT_TOPICS)
    assert shell_loop_words(script, "name") == ['"$$topic"', f'"$$topic{topology.DLQ_SUFFIX}"']
    assert re.findall(r"--partitions (\S+)", script) == [str(topic_partitions())]
    (described,) = re.findall(r"--describe[\s\\]+--topic '([^']+)'", script)
    assert described.split("|") == list(topology.EVENT_TOPICS)
    kafka = compose()["services"]["kafka"]["environment"]
    assert kafka["KAFKA_NUM_PARTITIONS"] == str(topic_partitions())
    assert job["depends_on"]["kafka"]["condition"] == "service_healthy"


def test_compose_runs_exactly_the_registered_services() -> None:
    processes = [name for name in compose()["services"] if name.endswith(("-api", "-worker"))]
    assert sorted(processes) == sorted(
        f"{s.name}-{process}" for s in SERVICES for process in ("api", "worker")
    )


@pytest.mark.parametrize("service", SERVICES, ids=by_name)
def test_compose_runs_the_api_and_worker_of(service: ServiceTopology) -> None:
    svc = compose()["services"]
    folder, prefix = service.name, service.env_prefix
    api, worker = svc[f"{folder}-api"], svc[f"{folder}-worker"]
    for process in (api, worker):
        assert process["build"]["args"]["SERVICE"] == folder
        assert process["image"].startswith(f"fazhi/{folder}:")
        assert process.get("healthcheck", {}).get("test"), "no healthcheck"
        env = environment(process)
        assert env[f"{prefix}KAFKA_BOOTSTRAP"] == "kafka:9092"
        url = env[f"{prefix}MONGO_URL"]
        assert url.startswith(f"mongodb://{service.database}:${{{prefix}MONGO_PASSWORD:?")
        assert url.endswith("@mongo:27017/?replicaSet=rs0&authSource=admin&w=majority&journal=true")
        assert env[f"{prefix}MONGO_DB"] == service.database
        foreign = sorted(k for k in env if k not in UNPREFIXED_ENV and not k.startswith(prefix))
        assert not foreign, f"settings not under {prefix}: {foreign}"
        assert process["depends_on"]["mongo"]["condition"] == "service_healthy"
        assert process["depends_on"]["kafka-topics"]["condition"] == (
            "service_completed_successfully"
        )
    assert api["command"] == ["fazhi-api"]
    assert worker["command"] == ["fazhi-worker"]

    api_port = service.api_port
    assert environment(api)["PORT"] == str(api_port)
    assert api["ports"] == [f"127.0.0.1:{api_port}:{api_port}"]
    assert "/readyz" in command_text(api["healthcheck"]["test"])

    env = environment(worker)
    port = service.worker_port
    assert env[f"{prefix}WORKER_WEB_PORT"] == str(port)
    assert env[f"{prefix}WORKER_WEB_BIND"] == "0.0.0.0"
    assert worker["ports"] == [f"127.0.0.1:{port}:{port}"]
    assert f"127.0.0.1:{port}/livez" in command_text(worker["healthcheck"]["test"])


SIDE_WORKERS = [(service, side) for service in SERVICES for side in service.side_workers]


@pytest.mark.parametrize(
    ("service", "side"), SIDE_WORKERS, ids=[f"{s.name}-{w.name}" for s, w in SIDE_WORKERS]
)
def test_side_workers_run_in_compose_k8s_and_prometheus(
    service: ServiceTopology, side: topology.SideWorker
) -> None:
    """A further worker of a service (supervision's deliveries): the service's image and
    settings, `python -m <module>`, its metrics port published, checked and scraped."""
    prefix = service.env_prefix
    process = compose()["services"][f"{service.name}-{side.name}"]
    assert process["build"]["args"]["SERVICE"] == service.name
    assert process["command"] == ["python", "-m", side.module]
    env = environment(process)
    assert env[f"{prefix}MONGO_DB"] == service.database
    assert env[f"{prefix}WORKER_WEB_BIND"] == "0.0.0.0"
    assert env[f"{prefix}{side.name.upper()}_WEB_PORT"] == str(side.port)
    assert process["ports"] == [f"127.0.0.1:{side.port}:{side.port}"]
    assert f"127.0.0.1:{side.port}/metrics" in command_text(process["healthcheck"]["test"])
    assert env[f"{prefix}MASTER_KEY"].startswith(f"${{{prefix}MASTER_KEY:?")
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = [t for sc in jobs[f"fazhi-{side.name}"]["static_configs"] for t in sc["targets"]]
    assert f"{service.name}-{side.name}:{side.port}" in targets

    overlay = load_yaml(K8S / service.name / "kustomization.yaml")
    assert f"{side.name}.yaml" in overlay["resources"]
    deployment = k8s_objects(K8S / service.name / f"{side.name}.yaml")[("Deployment", side.name)]
    spec, container = pod_spec(deployment)
    assert_hardened(spec, container)
    assert container["command"] == ["python", "-m", side.module]
    (port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"]
    settings = dict(
        item.split("=", 1)
        for generator in load_yaml(K8S / "kustomization.yaml")["configMapGenerator"]
        for item in generator["literals"]
    )
    assert int(settings[f"{prefix}{side.name.upper()}_WEB_PORT"]) == port
    labels = deployment["spec"]["selector"]["matchLabels"]
    assert labels["app.kubernetes.io/component"] == side.name  # not the worker's pods
    monitors = k8s_objects(K8S / "monitoring.yaml")
    assert (
        monitors[("PodMonitor", f"fazhi-{side.name}")]["spec"]["selector"]["matchLabels"][
            "app.kubernetes.io/component"
        ]
        == side.name
    )


def test_compose_depends_only_on_defined_and_checkable_services() -> None:
    svc = compose()["services"]
    for name, service in svc.items():
        for dependency, how in service.get("depends_on", {}).items():
            assert dependency in svc, f"{name} depends on unknown {dependency}"
            if how["condition"] == "service_healthy":
                assert svc[dependency].get("healthcheck"), f"{dependency} has no healthcheck"
            else:
                assert how["condition"] == "service_completed_successfully", (name, how)


def test_compose_api_ports_are_distinct() -> None:
    published = [
        port.rsplit(":", 1)[0]
        for service in compose()["services"].values()
        for port in service.get("ports", [])
    ]
    assert len(published) == len(set(published)), published


def test_prometheus_scrapes_every_compose_api_and_worker() -> None:
    config = load_yaml(PROMETHEUS / "prometheus.yml")
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    targets = {
        name: {
            t: sc.get("labels", {}).get("service")
            for sc in job["static_configs"]
            for t in sc["targets"]
        }
        for name, job in jobs.items()
    }
    assert targets["fazhi-api"] == {f"{s.name}-api:{s.api_port}": s.package for s in SERVICES}
    assert targets["fazhi-worker"] == {
        f"{s.name}-worker:{s.worker_port}": s.package for s in SERVICES
    }
    svc = compose()["services"]
    assert config["rule_files"] == ["rules.yml"]
    mounts = svc["prometheus"]["volumes"]
    assert "./deploy/prometheus:/etc/prometheus:ro" in mounts


def test_grafana_is_provisioned_with_the_prometheus_datasource() -> None:
    provisioning = DEPLOY / "grafana" / "provisioning"
    datasources = load_yaml(provisioning / "datasources" / "prometheus.yml")["datasources"]
    (prometheus,) = datasources
    assert prometheus["type"] == "prometheus"
    assert prometheus["url"] == "http://prometheus:9090"
    providers = load_yaml(provisioning / "dashboards" / "fazhi.yml")["providers"]
    assert providers[0]["options"]["path"] == "/etc/grafana/dashboards"
    mounts = compose()["services"]["grafana"]["volumes"]
    assert "./deploy/grafana/dashboards:/etc/grafana/dashboards:ro" in mounts
    assert "./deploy/grafana/provisioning:/etc/grafana/provisioning:ro" in mounts

    topics = {
        "fazhi.json": ("ingest rate", "503", "lag", "throughput", "dead-lettered"),
        "fazhi-domain.json": (
            "acknowledgement",
            "escalat",
            "overdue",
            "open items",
            "trigger → item",
            "push",
        ),
    }
    known = recorded_names() | code_metric_names() | {"up"}
    for name, wanted in topics.items():
        dashboard = json.loads((DASHBOARDS / name).read_text())
        (variable,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
        assert (variable["name"], variable["query"]) == ("datasource", "prometheus")
        panels = [p for p in dashboard["panels"] if p["type"] != "row"]
        titles = " ".join(p["title"] for p in panels).lower()
        for topic in wanted:
            assert topic in titles, f"{name}: no dashboard panel about {topic}"
        for panel in panels:
            assert panel["datasource"]["uid"] == "${datasource}", (name, panel["title"])
            for target in panel["targets"]:
                assert target["datasource"]["uid"] == "${datasource}"
                unknown = metric_names(target["expr"]) - known
                assert not unknown, f"{name}: panel {panel['title']!r} queries unknown {unknown}"
    assert prometheus["uid"] == "prometheus"


# ------------------------------------------------------------------ Prometheus rules


PROMQL_WORDS = {
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "and",
    "or",
    "unless",
    "offset",
    "inf",
    "nan",
}


def metric_names(expr: str) -> set[str]:
    """The metric (or recorded series) names a PromQL expression selects."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'', '""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", text)
    names = set()
    for match in re.finditer(r"(?<![\w.])[A-Za-z_:][A-Za-z0-9_:]*", text):
        if text[match.end() :].lstrip().startswith("("):
            continue  # a function or an aggregation
        if match.group().lower() not in PROMQL_WORDS:
            names.add(match.group())
    return names


def test_metric_names_reads_promql() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le) (rate(a_seconds_bucket{x="y(z)"}[5m]))) > 1e3 '
        'or absent(up{job="j"}) unless on (k) b:c:d offset 5m'
    )
    assert metric_names(expr) == {"a_seconds_bucket", "up", "b:c:d"}


def sample_names(family_name: str, kind: str) -> set[str]:
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_sum", "_count", "_created"),
        "summary": ("", "_sum", "_count", "_created"),
        "gauge": ("",),
        "info": ("_info",),
    }[kind]
    return {family_name + suffix for suffix in suffixes}


@cache
def code_metric_names() -> frozenset[str]:
    """Every sample name the services expose: fazhi's metrics and faust's worker metrics."""
    from faust.sensors.prometheus import FaustMetrics
    from prometheus_client import REGISTRY

    from emergency.metrics import emergency_metrics
    from fazhi.bus.tail import tail_metrics
    from fazhi.bus.workerwatch import leader_gauge
    from fazhi.metrics import service_metrics
    from supervision.metrics import supervision_metrics

    packages = [s.package for s in SERVICES]
    for package in packages:  # cached per prefix: safe next to the other tests
        service_metrics(package)
        tail_metrics(package)
        leader_gauge(package)
    emergency_metrics()
    supervision_metrics()
    names: set[str] = set()
    for family in REGISTRY.collect():
        if family.name.startswith(tuple(f"{p}_" for p in packages)):
            names |= sample_names(family.name, family.type)
    for package in packages:
        registry = CollectorRegistry()
        FaustMetrics.create(registry, f"{package}_worker")
        for family in registry.collect():
            names |= sample_names(family.name, family.type)
    return frozenset(names)


def test_code_metric_names_include_the_documented_ones() -> None:
    names = code_metric_names()
    for package in (s.package for s in SERVICES):
        for name in (
            "events_ingested_total",
            "ingest_seconds_bucket",
            "events_consumed_total",
            "consumer_handle_seconds_bucket",
            "events_dead_lettered_total",
            "consumer_lag",
            "worker_total_error_messages_sent_total",
            "worker_leader",
        ):
            assert f"{package}_{name}" in names
    for name in (
        "emergency_alert_ack_seconds_bucket",
        "emergency_alert_push_seconds_bucket",
        "emergency_alert_escalations_total",
        "emergency_alerts_active",
        "supervision_overdue_tasks",
        "supervision_open_items",
        "supervision_trigger_to_item_seconds_bucket",
    ):
        assert name in names


def test_every_business_metric_is_alerted_or_graphed() -> None:
    domain = (DASHBOARDS / "fazhi-domain.json").read_text()
    rules_text = (PROMETHEUS / "rules.yml").read_text()
    for metric in (
        "emergency_alert_ack_seconds",
        "emergency_alert_escalations_total",
        "emergency_alert_push_seconds",
        "supervision_overdue_tasks",
        "supervision_open_items",
        "supervision_trigger_to_item_seconds",
    ):
        assert metric in rules_text, f"{metric} is in no rule"
        recorded = [r["record"] for r in all_rules() if metric in r["expr"] and "record" in r]
        assert any(metric in domain or name in domain for name in recorded), (
            f"{metric} is on no panel of the domain dashboard"
        )


@cache
def rules() -> dict[str, Any]:
    return load_yaml(PROMETHEUS / "rules.yml")


def all_rules() -> list[dict[str, Any]]:
    return [rule for group in rules()["groups"] for rule in group["rules"]]


def recorded_names() -> set[str]:
    return {rule["record"] for rule in all_rules() if "record" in rule}


def test_rules_use_only_metrics_the_code_defines() -> None:
    known = code_metric_names() | recorded_names() | {"up"}
    for rule in all_rules():
        unknown = metric_names(rule["expr"]) - known
        assert not unknown, f"{rule.get('alert') or rule.get('record')}: unknown {unknown}"


def test_each_recording_rule_covers_every_service() -> None:
    """The pipeline's `fazhi:*` series fold the four services' metrics; the domain's
    (`supervision:*`, `emergency:*`) are one service's own."""
    packages = {s.package for s in SERVICES}
    for name in (n for n in recorded_names() if n.startswith("fazhi:")):
        same = [r for r in all_rules() if r.get("record") == name]
        assert {r["labels"]["service"] for r in same} == packages, name
        for rule in same:
            prefix = rule["labels"]["service"] + "_"
            assert all(n.startswith(prefix) for n in metric_names(rule["expr"])), rule


def test_rules_alert_on_what_operators_need() -> None:
    alerts = {rule["alert"]: rule for rule in all_rules() if "alert" in rule}
    assert {
        "FazhiRedAlertUnacknowledged",
        "FazhiAlertEscalations",
        "FazhiOverdueRising",
        "FazhiTriggerToItemSlow",
        "FazhiTimersLeaderMissing",
        "FazhiAlertPushSlow",
    } <= alerts.keys()
    # a series born within the window counts whole: the first dead letter after a start fires
    assert "unless" in next(
        r["expr"]
        for r in all_rules()
        if r.get("record") == "fazhi:events_dead_lettered:increase15m"
    )
    assert alerts["FazhiApiDown"]["expr"] == 'up{job="fazhi-api"} == 0'
    assert alerts["FazhiWorkerDown"]["expr"] == 'up{job="fazhi-worker"} == 0'
    assert 'outcome="unavailable"' in alerts["FazhiIngestUnavailable"]["expr"]
    assert alerts["FazhiIngestUnavailable"]["for"] == "5m"
    assert "dead_lettered" in alerts["FazhiDeadLettersIncreasing"]["expr"]
    assert "ingest_seconds:p95" in alerts["FazhiIngestLatencyHigh"]["expr"]
    assert 'outcome="retried"' in alerts["FazhiConsumerRetries"]["expr"]
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning"}, name
        assert rule["annotations"]["summary"], name
        assert rule["annotations"]["description"], name


def test_promtool_check_rules() -> None:
    run_promtool("check", "rules", "deploy/prometheus/rules.yml")


def test_promtool_check_config() -> None:
    run_promtool("check", "config", "deploy/prometheus/prometheus.yml")


def test_promtool_rule_unit_tests() -> None:
    run_promtool("test", "rules", "deploy/prometheus/rules.test.yml")


# ------------------------------------------------------------------ Kubernetes


def k8s_objects(path: Path) -> dict[tuple[str, str], dict[str, Any]]:
    return {(d["kind"], d["metadata"]["name"]): d for d in load_yaml_documents(path)}


def test_k8s_prometheus_rule_carries_the_same_groups() -> None:
    rule = load_yaml(K8S / "prometheus-rule.yaml")
    assert rule["apiVersion"] == "monitoring.coreos.com/v1"
    assert rule["kind"] == "PrometheusRule"
    assert rule["spec"]["groups"] == rules()["groups"]


def test_k8s_base_lists_every_service_and_existing_files() -> None:
    base = load_yaml(K8S / "kustomization.yaml")
    assert base["namespace"] == "fazhi"
    for resource in base["resources"]:
        assert (K8S / resource).exists(), f"kustomization names missing {resource}"
    names = {s.name for s in SERVICES}
    assert names <= set(base["resources"])
    folders = {path.parent.name for path in K8S.glob("*/kustomization.yaml")} - {"service"}
    assert folders == names
    assert k8s_objects(K8S / "namespace.yaml").keys() == {("Namespace", "fazhi")}

    settings = dict(
        item.split("=", 1)
        for generator in base["configMapGenerator"]
        if generator["name"] == "fazhi-settings"
        for item in generator["literals"]
    )
    worker = k8s_objects(K8S / "service" / "worker.yaml")[("Deployment", "worker")]
    (container,) = worker["spec"]["template"]["spec"]["containers"]
    (web_port,) = [p["containerPort"] for p in container["ports"] if p["name"] == "metrics"]
    assert web_port == topology.CONTAINER_WORKER_PORT
    for service in SERVICES:
        prefix = service.env_prefix
        assert settings[f"{prefix}KAFKA_BOOTSTRAP"]
        # the worker's own topics (faust's leader topic) as replicated as the event topics
        assert int(settings[f"{prefix}KAFKA_TOPIC_REPLICATION"]) == 3
        assert settings[f"{prefix}MONGO_DB"] == service.database
        assert settings[f"{prefix}WORKER_WEB_BIND"] == "0.0.0.0"
        assert int(settings[f"{prefix}WORKER_WEB_PORT"]) == web_port
        secret = load_yaml(K8S / service.name / "secret.yaml")
        assert (secret["kind"], secret["metadata"]["name"]) == ("Secret", "secrets")
        assert set(secret["stringData"]) == {
            f"{prefix}{key}"
            for key in ("MASTER_KEY", "MONGO_URL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD")
        }
    prefixes = tuple(s.env_prefix for s in SERVICES)
    unowned = sorted(k for k in settings if not k.startswith(prefixes))
    assert not unowned, f"settings under no service's prefix: {unowned}"
    assert not any("PASSWORD" in k or "MASTER_KEY" in k or "MONGO_URL" in k for k in settings)


@pytest.mark.parametrize("folder", [s.name for s in SERVICES])
def test_k8s_service_folder_reuses_the_template(folder: str) -> None:
    overlay = load_yaml(K8S / folder / "kustomization.yaml")
    assert overlay["namePrefix"] == f"{folder}-"
    sides = [f"{side.name}.yaml" for side in topology.service(folder).side_workers]
    assert overlay["resources"] == ["../service", "secret.yaml", *sides]
    (labels,) = overlay["labels"]
    assert labels["pairs"] == {"app.kubernetes.io/name": folder}
    assert labels["includeSelectors"] is True
    (image,) = overlay["images"]
    assert image["name"] == "fazhi-service"
    assert image["newName"].endswith(f"/{folder}")


def pod_spec(deployment: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    return spec, container


def assert_hardened(spec: dict[str, Any], container: dict[str, Any]) -> None:
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert spec["automountServiceAccountToken"] is False
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    (tmp,) = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert "emptyDir" in volumes[tmp["name"]]
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][kind].keys()
    env_from = {next(iter(e.values()))["name"] for e in container["envFrom"]}
    assert env_from == {"fazhi-settings", "secrets"}, "the service's own Secret only"
    (ca,) = [m for m in container["volumeMounts"] if m["name"] == "kafka-ca"]
    assert ca["mountPath"] == "/etc/fazhi/kafka-ca"


def test_k8s_api_deployment_service_hpa_and_pdb() -> None:
    objects = k8s_objects(K8S / "service" / "api.yaml")
    deployment = objects[("Deployment", "api")]
    assert "replicas" not in deployment["spec"], "the HPA owns the replica count"
    spec, container = pod_spec(deployment)
    assert_hardened(spec, container)
    assert container["command"] == ["fazhi-api"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz/read", "port": "http"}
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    assert ports["http"] == topology.CONTAINER_API_PORT
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert f'--port "${{PORT:-{topology.CONTAINER_API_PORT}}}"' in dockerfile
    assert re.search(rf"^EXPOSE {topology.CONTAINER_API_PORT}$", dockerfile, re.M)

    service = objects[("Service", "api")]
    assert service["spec"]["selector"] == deployment["spec"]["selector"]["matchLabels"]
    hpa = objects[("HorizontalPodAutoscaler", "api")]["spec"]
    assert hpa["scaleTargetRef"]["name"] == "api"
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (2, 6)
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert metric["resource"]["target"]["averageUtilization"] == 70
    pdb = objects[("PodDisruptionBudget", "api")]["spec"]
    assert pdb["minAvailable"] == 1
    assert pdb["selector"] == deployment["spec"]["selector"]


def test_k8s_worker_deployment_and_pdb() -> None:
    objects = k8s_objects(K8S / "service" / "worker.yaml")
    deployment = objects[("Deployment", "worker")]
    assert 1 <= deployment["spec"]["replicas"] <= 6
    spec, container = pod_spec(deployment)
    assert_hardened(spec, container)
    assert container["command"] == ["fazhi-worker"]
    assert container["livenessProbe"]["httpGet"] == {"path": "/livez", "port": "metrics"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "metrics"}
    assert "metrics" in {p["name"] for p in container["ports"]}
    pdb = objects[("PodDisruptionBudget", "worker")]["spec"]
    assert pdb["minAvailable"] == 1
    assert pdb["selector"] == deployment["spec"]["selector"]


def test_k8s_scrapes_with_the_job_labels_the_rules_use() -> None:
    monitors = k8s_objects(K8S / "monitoring.yaml")
    for job, port in (("fazhi-api", "http"), ("fazhi-worker", "metrics")):
        (endpoint,) = monitors[("PodMonitor", job)]["spec"]["podMetricsEndpoints"]
        assert endpoint["port"] == port
        assert endpoint["path"] == "/metrics"
        assert {"targetLabel": "job", "replacement": job} in endpoint["relabelings"]


def test_every_process_gets_its_services_master_key_from_a_secret() -> None:
    """The master keys seal personal data: compose requires each from the environment, k8s
    reads each from its service's own Secret (placeholders a service refuses)."""
    services = compose()["services"]
    for service in SERVICES:
        name = f"{service.env_prefix}MASTER_KEY"
        for process in ("api", "worker"):
            value = environment(services[f"{service.name}-{process}"])[name]
            assert value.startswith(f"${{{name}:?"), value
        assert name in load_yaml(K8S / service.name / "secret.yaml")["stringData"]


def _retention_in(script: str) -> dict[str, str]:
    """The retention.ms a topic job's script gives event topics and dead-letter topics."""
    (dlq, events) = re.findall(
        r"case \"\$+name\" in \*\.dlq\) retention=(\S+) ;; \*\) retention=(\S+) ;; esac", script
    )[0]
    assert "--config retention.ms=$" in script
    assert "--add-config retention.ms=$" in script
    return {"events": events, "dlq": dlq}


def test_the_topic_jobs_keep_events_for_good_and_dead_letters_as_the_topology_says() -> None:
    configs = topology.topic_configs()
    wanted = {
        "events": configs[topology.EVENT_TOPICS[0]]["retention.ms"],
        "dlq": configs[topology.DLQ_TOPICS[0]]["retention.ms"],
    }
    assert wanted["events"] == "-1"
    assert {configs[t]["retention.ms"] for t in topology.EVENT_TOPICS} == {wanted["events"]}
    assert {configs[t]["retention.ms"] for t in topology.DLQ_TOPICS} == {wanted["dlq"]}
    compose_job = command_text(compose()["services"]["kafka-topics"]["command"])
    assert _retention_in(compose_job) == wanted
    topics = {
        doc["spec"]["topicName"]: doc["spec"]["config"]
        for doc in load_yaml_documents(K8S / "kafka-topics.yaml")
    }
    for topic, config in topology.topic_configs(3).items():
        assert topics[topic]["retention.ms"] == config["retention.ms"], topic


async def test_the_local_broker_keeps_event_topics_for_good() -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=KAFKA)
    await admin.start()
    try:
        responses = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, t) for t in topology.TOPICS]
        )
    finally:
        await admin.close()
    found = {
        resource[3]: {entry[0]: entry[1] for entry in resource[4]}
        for response in responses
        for resource in response.resources
    }
    for topic, config in topology.topic_configs().items():
        assert found[topic]["retention.ms"] == config["retention.ms"], topic


def test_the_runbook_says_what_to_do_for_every_alert() -> None:
    """docs/runbook.md has a section per alert, each with its meaning, a check and a fix."""
    runbook = (ROOT / "docs" / "runbook.md").read_text(encoding="utf-8")
    sections = {
        part.split(None, 1)[0]: part.split("\n## ", 1)[0] for part in runbook.split("\n### ")[1:]
    }
    for rule in all_rules():
        if "alert" not in rule:
            continue
        body = sections.get(rule["alert"])
        assert body is not None, f"docs/runbook.md has no section ### {rule['alert']}"
        for part in ("**Means**", "**Check", "Fix**"):
            assert part in body, f"{rule['alert']}: the runbook's section lacks {part}"
