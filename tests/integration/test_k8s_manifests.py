"""The Kubernetes manifests as kustomize renders them, checked offline.

`deploy/k8s/base`, `overlays/production`, `kafka` and `mongodb` are rendered by the kustomize
binary (built once with `go install` into `.local/bin`); every object is validated, built-in
kinds against the Kubernetes OpenAPI schemas `kubernetes-validate` ships (strict: an unknown
field fails), custom resources against `tests/support/crd_schemas.py`. Then what production
relies on: replication 3 and `min.insync.replicas` 2 on every topic, each pod reading only its
own service's Secret, no replica count beside an autoscaler, HTTP probes, default-deny
NetworkPolicies, KEDA up to the partition count on every consumed topic, and the generated
files (scripts/deploy_files.py) current.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections import defaultdict
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from fazhi import topology
from fazhi.topology import SERVICES, ServiceTopology
from tests.support.crd_schemas import SCHEMAS

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
KUSTOMIZE_VERSION = "v5.5.0"
KUBERNETES_VERSION = "1.32"
"""The oldest Kubernetes the manifests are checked against."""
RENDERED = ("base", "overlays/production", "kafka", "mongodb")

Object = dict[str, Any]


def by_name(service: ServiceTopology) -> str:
    return service.name


@cache
def kustomize() -> str:
    binary = ROOT / ".local" / "bin" / "kustomize"
    if not binary.exists():
        go = shutil.which("go")
        if go is None:
            pytest.fail("kustomize is built with Go (`go install`), and go is not on PATH")
        subprocess.run(
            [go, "install", f"sigs.k8s.io/kustomize/kustomize/v5@{KUSTOMIZE_VERSION}"],
            env={**os.environ, "GOBIN": str(binary.parent)},
            check=True,
            capture_output=True,
            timeout=600,
        )
    return str(binary)


@cache
def render(target: str) -> tuple[Object, ...]:
    result = subprocess.run(
        [kustomize(), "build", str(K8S / target)], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, f"kustomize build deploy/k8s/{target}:\n{result.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(result.stdout) if doc)


def objects(target: str, kind: str) -> dict[str, Object]:
    return {o["metadata"]["name"]: o for o in render(target) if o["kind"] == kind}


def pod_spec(deployment: Object) -> Object:
    spec: Object = deployment["spec"]["template"]["spec"]
    return spec


# ------------------------------------------------------------------ every object is valid


@pytest.mark.parametrize("target", RENDERED)
def test_every_rendered_object_is_valid(target: str) -> None:
    for obj in render(target):
        where = f"{target}: {obj['kind']} {obj['metadata']['name']}"
        key = (obj["apiVersion"], obj["kind"])
        if key in SCHEMAS:
            try:
                jsonschema.validate(obj, SCHEMAS[key])
            except jsonschema.ValidationError as exc:
                pytest.fail(f"{where}: {exc.message} at {list(exc.absolute_path)}")
            continue
        try:
            kubernetes_validate.validate(obj, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            pytest.fail(f"{where}: no schema for {key}: add one to tests/support/crd_schemas.py")
        except kubernetes_validate.ValidationError as exc:
            pytest.fail(f"{where}: {exc.message} at {list(exc.path)}")


def test_the_crd_schemas_refuse_a_misspelt_field() -> None:
    (topic, *_) = objects("base", "KafkaTopic").values()
    wrong = {**topic, "spec": {**topic["spec"], "replica": 3}}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(wrong, SCHEMAS[("kafka.strimzi.io/v1beta2", "KafkaTopic")])


def test_the_generated_files_are_current() -> None:
    result = subprocess.run(
        [sys.executable, "scripts/deploy_files.py", "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr


# ------------------------------------------------------------------ Kafka


def test_every_topic_is_replicated_three_times_with_two_in_sync() -> None:
    topics = objects("base", "KafkaTopic")
    assert {t["spec"]["topicName"] for t in topics.values()} == set(topology.TOPICS)
    wanted = topology.topic_configs(3)
    for name, topic in topics.items():
        spec = topic["spec"]
        assert spec["replicas"] >= 3, f"{name}: replication {spec['replicas']} < 3"
        assert spec["partitions"] == topology.topic_partitions()[spec["topicName"]]
        assert spec["config"]["min.insync.replicas"] == "2", name
        assert spec["config"] == wanted[spec["topicName"]], name
        assert topic["metadata"]["labels"]["strimzi.io/cluster"] == "fazhi"


def test_the_example_cluster_is_three_kraft_nodes_that_keep_acknowledged_writes() -> None:
    (pool,) = objects("kafka", "KafkaNodePool").values()
    assert pool["spec"]["replicas"] == 3
    assert set(pool["spec"]["roles"]) == {"controller", "broker"}
    (kafka,) = objects("kafka", "Kafka").values()
    config = kafka["spec"]["kafka"]["config"]
    assert config["default.replication.factor"] == 3
    assert config["min.insync.replicas"] == 2
    assert config["auto.create.topics.enable"] is False
    (listener,) = kafka["spec"]["kafka"]["listeners"]
    assert listener["tls"] is True
    assert listener["authentication"]["type"] == "scram-sha-512"
    operators = kafka["spec"]["entityOperator"]
    assert operators["topicOperator"]["watchedNamespace"] == "fazhi"
    assert operators["userOperator"]["watchedNamespace"] == "fazhi"


@pytest.mark.parametrize("service", SERVICES, ids=by_name)
def test_each_service_logs_in_to_kafka_with_tls_scram_and_its_own_acls(
    service: ServiceTopology,
) -> None:
    (settings,) = [
        c for n, c in objects("base", "ConfigMap").items() if n.startswith("fazhi-settings")
    ]
    data = settings["data"]
    prefix = service.env_prefix
    assert data[f"{prefix}KAFKA_SECURITY_PROTOCOL"] == "SASL_SSL"
    assert data[f"{prefix}KAFKA_SASL_MECHANISM"] == "SCRAM-SHA-512"
    assert data[f"{prefix}KAFKA_SSL_CAFILE"] == "/etc/fazhi/kafka-ca/ca.crt"
    assert data[f"{prefix}KAFKA_BOOTSTRAP"].endswith(":9093")
    user = objects("base", "KafkaUser")[service.name]
    assert user["spec"]["authentication"]["password"]["valueFrom"]["secretKeyRef"] == {
        "name": f"{service.name}-secrets",
        "key": f"{prefix}KAFKA_SASL_PASSWORD",
    }
    writes = {
        a["resource"]["name"]
        for a in user["spec"]["authorization"]["acls"]
        if a["resource"]["type"] == "topic" and "Write" in a["operations"]
    }
    reads = {
        a["resource"]["name"]
        for a in user["spec"]["authorization"]["acls"]
        if a["resource"]["type"] == "topic" and "Read" in a["operations"]
    }
    others = set(topology.EVENT_TOPICS) - {service.topic}
    assert not writes & others, f"{service.name} may write another service's topic"
    assert set(service.consumed_topics) <= reads
    assert not (reads & set(topology.EVENT_TOPICS)) - set(service.consumed_topics)


# ------------------------------------------------------------------ secrets


def mounted_secret_keys(target: str) -> dict[str, set[str]]:
    """Every Secret key each Deployment's pods can read: envFrom (every key of the Secret, as
    rendered or as the ExternalSecret makes it), env secretKeyRef, and secret volumes."""
    secrets: dict[str, set[str]] = {
        name: set(s.get("stringData", {})) | set(s.get("data", {}))
        for name, s in objects(target, "Secret").items()
    }
    for external in objects(target, "ExternalSecret").values():
        target_spec = external["spec"]["target"]
        secrets[target_spec["name"]] = set(target_spec.get("template", {}).get("data", {}))
    found: dict[str, set[str]] = defaultdict(set)
    for name, deployment in objects(target, "Deployment").items():
        spec = pod_spec(deployment)
        for container in spec["containers"] + spec.get("initContainers", []):
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    secret = source["secretRef"]["name"]
                    assert secret in secrets, f"{name} reads Secret {secret}, made nowhere"
                    found[name] |= {f"{secret}/{key}" for key in secrets[secret]}
            for env in container.get("env", []):
                ref = env.get("valueFrom", {}).get("secretKeyRef")
                if ref:
                    found[name].add(f"{ref['name']}/{ref['key']}")
        for volume in spec.get("volumes", []):
            if "secret" in volume:
                secret = volume["secret"]["secretName"]
                found[name] |= {f"{secret}/{key}" for key in secrets.get(secret, {"*"})}
    return dict(found)


@pytest.mark.parametrize("target", ["base", "overlays/production"])
def test_each_pod_mounts_only_its_own_services_secret_keys(target: str) -> None:
    mounted = mounted_secret_keys(target)
    expected_keys = {"MASTER_KEY", "MONGO_URL", "KAFKA_SASL_USERNAME", "KAFKA_SASL_PASSWORD"}
    processes = {s.name: ["api", "worker", *(w.name for w in s.side_workers)] for s in SERVICES}
    assert set(mounted) == {f"{s}-{p}" for s, ps in processes.items() for p in ps}
    for service in SERVICES:
        for process in processes[service.name]:
            keys = mounted[f"{service.name}-{process}"]
            secret = f"{service.name}-secrets/"
            assert all(k.startswith(secret + service.env_prefix) for k in keys), (
                f"{service.name}-{process} mounts another Secret or another service's key: "
                f"{sorted(k for k in keys if not k.startswith(secret + service.env_prefix))}"
            )
            names = {k.removeprefix(secret + service.env_prefix) for k in keys}
            assert expected_keys <= names, (service.name, process, sorted(names))
    print("Secret keys each pod mounts:")
    for deployment, keys in sorted(mounted.items()):
        print(f"  {deployment}: {', '.join(sorted(keys))}")


def test_no_secret_holds_two_services_keys() -> None:
    prefixes = [s.env_prefix for s in SERVICES]
    for name, secret in objects("base", "Secret").items():
        owners = {p for p in prefixes for key in secret.get("stringData", {}) if key.startswith(p)}
        assert len(owners) <= 1, f"Secret {name} holds keys of {sorted(owners)}"


@pytest.mark.parametrize("service", SERVICES, ids=by_name)
def test_mongodb_urls_ask_a_majority_and_log_in_as_the_service(service: ServiceTopology) -> None:
    secret = objects("base", "Secret")[f"{service.name}-secrets"]["stringData"]
    url = secret[f"{service.env_prefix}MONGO_URL"]
    assert url.startswith(f"mongodb://{service.database}:")
    assert "w=majority" in url
    assert "replicaSet=" in url
    (mongodb,) = objects("mongodb", "MongoDBCommunity").values()
    assert mongodb["spec"]["members"] == 3
    (user,) = [u for u in mongodb["spec"]["users"] if u["name"] == service.database]
    databases = {r["db"] for r in user["roles"] if r["name"] in ("readWrite", "dbOwner")}
    assert databases == {service.database}, "a service may write its own database only"
    assert {r["name"] for r in user["roles"]} == {"readWrite", "fazhiAuth"}


# ------------------------------------------------------------------ processes


def test_no_deployment_sets_replicas_beside_an_autoscaler() -> None:
    for target in ("base", "overlays/production"):
        scaled = {
            h["spec"]["scaleTargetRef"]["name"]
            for h in objects(target, "HorizontalPodAutoscaler").values()
        }
        scaled |= {
            s["spec"]["scaleTargetRef"]["name"] for s in objects(target, "ScaledObject").values()
        }
        for name, deployment in objects(target, "Deployment").items():
            if name in scaled:
                assert "replicas" not in deployment["spec"], f"{target}: {name} sets replicas"
    assert {n for n in objects("overlays/production", "Deployment") if n.endswith("-worker")} == {
        s["spec"]["scaleTargetRef"]["name"]
        for s in objects("overlays/production", "ScaledObject").values()
    }


def test_probes_are_http_and_reads_stay_up_without_kafka() -> None:
    for name, deployment in objects("base", "Deployment").items():
        (container,) = pod_spec(deployment)["containers"]
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert "httpGet" in container[probe], f"{name} {probe} is not HTTP"
        if name.endswith("-api"):
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz/read"
            assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        else:
            assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
            assert container["livenessProbe"]["httpGet"]["path"] == "/livez"


@pytest.mark.parametrize("service", SERVICES, ids=by_name)
def test_keda_scales_each_worker_on_every_topic_it_consumes(service: ServiceTopology) -> None:
    scaled = objects("overlays/production", "ScaledObject")[f"{service.name}-worker"]["spec"]
    assert scaled["maxReplicaCount"] == service.partitions
    assert [t["metadata"]["topic"] for t in scaled["triggers"]] == list(service.consumed_topics)
    for trigger in scaled["triggers"]:
        assert trigger["metadata"]["consumerGroup"] == f"{service.package}-worker"
        assert trigger["metadata"]["sasl"] == "scram_sha512"
        assert trigger["metadata"]["tls"] == "enable"


def test_network_policies_deny_by_default_and_open_only_what_is_needed() -> None:
    policies = objects("base", "NetworkPolicy")
    deny = policies["default-deny"]["spec"]
    assert deny == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
    ingress = policies["api-from-ingress"]["spec"]
    assert ingress["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "api"}
    assert {p["port"] for rule in ingress["ingress"] for p in rule["ports"]} == {
        topology.CONTAINER_API_PORT
    }
    worker = policies["worker-metrics"]["spec"]
    assert {p["port"] for rule in worker["ingress"] for p in rule["ports"]} == {
        topology.CONTAINER_WORKER_PORT
    }
    egress = policies["to-kafka-and-mongodb"]["spec"]["egress"]
    assert {p["port"] for rule in egress for p in rule["ports"]} == {9093, 27017}
    allowed_out = {name for name, p in policies.items() if "Egress" in p["spec"]["policyTypes"]}
    assert allowed_out == {"default-deny", "dns", "to-kafka-and-mongodb", "deliveries-to-webhooks"}
    webhooks = policies["deliveries-to-webhooks"]["spec"]
    assert webhooks["podSelector"]["matchLabels"] == {"app.kubernetes.io/component": "deliveries"}
    (out,) = webhooks["egress"]
    assert [p["port"] for p in out["ports"]] == [443]
    assert {"10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"} <= set(
        out["to"][0]["ipBlock"]["except"]
    )


def test_the_dashboards_ship_for_grafanas_sidecar() -> None:
    (dashboards,) = [
        c for n, c in objects("base", "ConfigMap").items() if n.startswith("fazhi-dashboards")
    ]
    assert dashboards["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert set(dashboards["data"]) == {"fazhi.json", "fazhi-domain.json"}
