"""Minimal JSON Schemas of the custom resources the deploy files use, written from the
operators' API references (no registry package ships their CRDs' schemas): Strimzi
(kafka.strimzi.io/v1beta2), KEDA (keda.sh/v1alpha1), the External Secrets Operator
(external-secrets.io/v1), the Prometheus Operator (monitoring.coreos.com/v1) and the MongoDB
Community Operator (mongodbcommunity.mongodb.com/v1).

Each covers the fields Fazhi sets, closed (`additionalProperties: false`) where a misspelt key
would otherwise pass unnoticed, with the enumerations the references give. It is a check of our
files, not of the operators: a field they accept and Fazhi does not use is refused here too.
"""

from __future__ import annotations

from typing import Any

Schema = dict[str, Any]


def obj(required: list[str] | None = None, /, **properties: Schema) -> Schema:
    return {
        "type": "object",
        "properties": properties,
        "required": required or [],
        "additionalProperties": False,
    }


def open_obj(required: list[str] | None = None, /, **properties: Schema) -> Schema:
    return {"type": "object", "properties": properties, "required": required or []}


STR: Schema = {"type": "string", "minLength": 1}
INT: Schema = {"type": "integer"}
MAP: Schema = {"type": "object", "additionalProperties": {"type": ["string", "integer", "boolean"]}}
STR_MAP: Schema = {"type": "object", "additionalProperties": {"type": "string"}}


def metadata(*, labels: Schema | None = None, namespaced: bool = True) -> Schema:
    properties: Schema = {"name": STR, "labels": labels or STR_MAP, "annotations": STR_MAP}
    if namespaced:
        properties["namespace"] = STR
    return {
        "type": "object",
        "properties": properties,
        "required": ["name"],
        "additionalProperties": False,
    }


CLUSTER_LABEL = {
    "type": "object",
    "properties": {"strimzi.io/cluster": STR},
    "required": ["strimzi.io/cluster"],
}


def resource(api_version: str, kind: str, spec: Schema, *, meta: Schema | None = None) -> Schema:
    return obj(
        ["apiVersion", "kind", "metadata", "spec"],
        apiVersion={"const": api_version},
        kind={"const": kind},
        metadata=meta or metadata(),
        spec=spec,
    )


SECRET_KEY_REF = obj(["name", "key"], name=STR, key=STR)
RESOURCES = open_obj(requests=MAP, limits=MAP)

KAFKA_ACL = obj(
    ["resource", "operations"],
    resource=obj(
        ["type", "name"],
        type={"enum": ["topic", "group", "cluster", "transactionalId"]},
        name=STR,
        patternType={"enum": ["literal", "prefix"]},
    ),
    operations={
        "type": "array",
        "minItems": 1,
        "items": {
            "enum": [
                "Read",
                "Write",
                "Create",
                "Delete",
                "Alter",
                "Describe",
                "ClusterAction",
                "AlterConfigs",
                "DescribeConfigs",
                "IdempotentWrite",
                "All",
            ]
        },
    },
    host=STR,
)

SCHEMAS: dict[tuple[str, str], Schema] = {
    ("kafka.strimzi.io/v1beta2", "KafkaTopic"): resource(
        "kafka.strimzi.io/v1beta2",
        "KafkaTopic",
        obj(
            ["partitions", "replicas"],
            topicName=STR,
            partitions={"type": "integer", "minimum": 1},
            replicas={"type": "integer", "minimum": 1, "maximum": 32767},
            config=MAP,
        ),
        meta=metadata(labels=CLUSTER_LABEL),
    ),
    ("kafka.strimzi.io/v1beta2", "KafkaUser"): resource(
        "kafka.strimzi.io/v1beta2",
        "KafkaUser",
        obj(
            ["authentication"],
            authentication=obj(
                ["type"],
                type={"enum": ["tls", "tls-external", "scram-sha-512"]},
                password=obj(
                    ["valueFrom"], valueFrom=obj(["secretKeyRef"], secretKeyRef=SECRET_KEY_REF)
                ),
            ),
            authorization=obj(
                ["type", "acls"],
                type={"const": "simple"},
                acls={"type": "array", "items": KAFKA_ACL},
            ),
        ),
        meta=metadata(labels=CLUSTER_LABEL),
    ),
    ("kafka.strimzi.io/v1beta2", "KafkaNodePool"): resource(
        "kafka.strimzi.io/v1beta2",
        "KafkaNodePool",
        obj(
            ["replicas", "roles", "storage"],
            replicas={"type": "integer", "minimum": 1},
            roles={"type": "array", "minItems": 1, "items": {"enum": ["controller", "broker"]}},
            storage=open_obj(["type"], type={"enum": ["ephemeral", "persistent-claim", "jbod"]}),
            resources=RESOURCES,
            jvmOptions=open_obj(),
        ),
        meta=metadata(labels=CLUSTER_LABEL),
    ),
    ("kafka.strimzi.io/v1beta2", "Kafka"): resource(
        "kafka.strimzi.io/v1beta2",
        "Kafka",
        obj(
            ["kafka"],
            kafka=obj(
                ["listeners"],
                version=STR,
                metadataVersion=STR,
                listeners={
                    "type": "array",
                    "minItems": 1,
                    "items": obj(
                        ["name", "port", "type", "tls"],
                        name={"type": "string", "pattern": "^[a-z0-9]{1,11}$"},
                        port={"type": "integer", "minimum": 9092},
                        type={
                            "enum": [
                                "internal",
                                "route",
                                "loadbalancer",
                                "nodeport",
                                "ingress",
                                "cluster-ip",
                            ]
                        },
                        tls={"type": "boolean"},
                        authentication=obj(
                            ["type"], type={"enum": ["tls", "scram-sha-512", "oauth", "custom"]}
                        ),
                    ),
                },
                authorization=open_obj(
                    ["type"], type={"enum": ["simple", "opa", "keycloak", "custom"]}
                ),
                config=MAP,
            ),
            entityOperator=obj(
                topicOperator=obj(watchedNamespace=STR),
                userOperator=obj(watchedNamespace=STR),
            ),
        ),
    ),
    ("keda.sh/v1alpha1", "ScaledObject"): resource(
        "keda.sh/v1alpha1",
        "ScaledObject",
        obj(
            ["scaleTargetRef", "triggers"],
            scaleTargetRef=obj(["name"], name=STR, kind=STR, apiVersion=STR),
            minReplicaCount={"type": "integer", "minimum": 0},
            maxReplicaCount={"type": "integer", "minimum": 1},
            pollingInterval=INT,
            cooldownPeriod=INT,
            triggers={
                "type": "array",
                "minItems": 1,
                "items": obj(
                    ["type", "metadata"],
                    type=STR,
                    metadata=STR_MAP,
                    authenticationRef=obj(["name"], name=STR),
                ),
            },
        ),
    ),
    ("keda.sh/v1alpha1", "TriggerAuthentication"): resource(
        "keda.sh/v1alpha1",
        "TriggerAuthentication",
        obj(
            secretTargetRef={
                "type": "array",
                "items": obj(["parameter", "name", "key"], parameter=STR, name=STR, key=STR),
            },
            configMapTargetRef={
                "type": "array",
                "items": obj(["parameter", "name", "key"], parameter=STR, name=STR, key=STR),
            },
        ),
    ),
    ("external-secrets.io/v1", "ExternalSecret"): resource(
        "external-secrets.io/v1",
        "ExternalSecret",
        obj(
            ["secretStoreRef", "target", "data"],
            refreshInterval=STR,
            secretStoreRef=obj(
                ["name", "kind"], name=STR, kind={"enum": ["SecretStore", "ClusterSecretStore"]}
            ),
            target=obj(
                ["name"],
                name=STR,
                creationPolicy={"enum": ["Owner", "Orphan", "Merge", "None"]},
                template=obj(engineVersion={"enum": ["v2"]}, data=STR_MAP),
            ),
            data={
                "type": "array",
                "minItems": 1,
                "items": obj(
                    ["secretKey", "remoteRef"],
                    secretKey=STR,
                    remoteRef=obj(["key"], key=STR, property=STR),
                ),
            },
        ),
    ),
    ("monitoring.coreos.com/v1", "PodMonitor"): resource(
        "monitoring.coreos.com/v1",
        "PodMonitor",
        obj(
            ["selector", "podMetricsEndpoints"],
            selector=open_obj(),
            podMetricsEndpoints={
                "type": "array",
                "items": obj(
                    ["port"],
                    port=STR,
                    path=STR,
                    interval=STR,
                    relabelings={"type": "array", "items": open_obj()},
                ),
            },
        ),
    ),
    ("monitoring.coreos.com/v1", "PrometheusRule"): resource(
        "monitoring.coreos.com/v1",
        "PrometheusRule",
        obj(
            ["groups"],
            groups={
                "type": "array",
                "items": obj(
                    ["name", "rules"],
                    name=STR,
                    rules={
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "record": STR,
                                "alert": STR,
                                "expr": STR,
                                "for": STR,
                                "labels": STR_MAP,
                                "annotations": STR_MAP,
                            },
                            "required": ["expr"],
                            "additionalProperties": False,
                        },
                    },
                ),
            },
        ),
    ),
    ("mongodbcommunity.mongodb.com/v1", "MongoDBCommunity"): resource(
        "mongodbcommunity.mongodb.com/v1",
        "MongoDBCommunity",
        obj(
            ["members", "type", "version", "security", "users"],
            members={"type": "integer", "minimum": 1},
            type={"enum": ["ReplicaSet"]},
            version=STR,
            security=obj(
                ["authentication"],
                authentication=obj(
                    ["modes"],
                    modes={
                        "type": "array",
                        "items": {"enum": ["SCRAM", "SCRAM-SHA-1", "SCRAM-SHA-256", "X509"]},
                    },
                ),
                roles={
                    "type": "array",
                    "items": obj(
                        ["role", "db", "privileges"],
                        role=STR,
                        db=STR,
                        privileges={
                            "type": "array",
                            "items": obj(
                                ["resource", "actions"],
                                resource=obj(db=STR, collection=STR, cluster={"type": "boolean"}),
                                actions={"type": "array", "items": STR},
                            ),
                        },
                        roles={"type": "array"},
                    ),
                },
            ),
            users={
                "type": "array",
                "items": obj(
                    ["name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"],
                    name=STR,
                    db=STR,
                    passwordSecretRef=obj(["name"], name=STR, key=STR),
                    scramCredentialsSecretName=STR,
                    connectionStringSecretName=STR,
                    connectionStringSecretNamespace=STR,
                    additionalConnectionStringConfig=MAP,
                    roles={"type": "array", "items": obj(["name", "db"], name=STR, db=STR)},
                ),
            },
            additionalMongodConfig=MAP,
            statefulSet=open_obj(),
        ),
    ),
}
