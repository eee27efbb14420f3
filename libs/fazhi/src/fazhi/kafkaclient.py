"""How a process reaches Kafka: the bootstrap servers and, in production, TLS and SASL.

`ServiceSettings.kafka()` reads them from the service's settings (`KAFKA_SECURITY_PROTOCOL`,
`KAFKA_SASL_MECHANISM`, `KAFKA_SASL_USERNAME`, `KAFKA_SASL_PASSWORD`, `KAFKA_SSL_CAFILE`, …);
every aiokafka client is built with `**kafka_options(where)` and the faust worker with
`**client.faust()`, so no client is left on plaintext when the cluster asks for TLS.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass, field
from typing import Any, Literal

from aiokafka.helpers import create_ssl_context

SecurityProtocol = Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"]
SaslMechanism = Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]


@dataclass(frozen=True)
class KafkaClient:
    """The bootstrap servers and the credentials every client of a process connects with."""

    bootstrap_servers: str
    security_protocol: SecurityProtocol = "PLAINTEXT"
    sasl_mechanism: SaslMechanism = "SCRAM-SHA-512"
    sasl_username: str = ""
    sasl_password: str = field(default="", repr=False)
    ssl_cafile: str = ""
    """The CA that signed the brokers' certificates (empty: the system's trust store)."""
    ssl_certfile: str = ""
    """A client certificate, for brokers that authenticate clients by TLS (mTLS)."""
    ssl_keyfile: str = ""

    @property
    def tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @property
    def sasl(self) -> bool:
        return self.security_protocol in ("SASL_PLAINTEXT", "SASL_SSL")

    def ssl_context(self) -> ssl.SSLContext | None:
        if not self.tls:
            return None
        context: ssl.SSLContext = create_ssl_context(
            cafile=self.ssl_cafile or None,
            certfile=self.ssl_certfile or None,
            keyfile=self.ssl_keyfile or None,
        )
        return context

    def options(self) -> dict[str, Any]:
        """aiokafka's keyword arguments (producer, consumer and admin client alike)."""
        options: dict[str, Any] = {
            "bootstrap_servers": self.bootstrap_servers,
            "security_protocol": self.security_protocol,
        }
        if self.tls:
            options["ssl_context"] = self.ssl_context()
        if self.sasl:
            options.update(
                sasl_mechanism=self.sasl_mechanism,
                sasl_plain_username=self.sasl_username,
                sasl_plain_password=self.sasl_password,
            )
        return options

    def faust(self) -> dict[str, Any]:
        """faust.App's `broker` and `broker_credentials`."""
        import faust  # the api processes never load faust

        brokers = ";".join(f"kafka://{host.strip()}" for host in self.bootstrap_servers.split(","))
        credentials: faust.types.auth.CredentialsT | None = None
        if self.sasl:
            credentials = faust.SASLCredentials(
                username=self.sasl_username,
                password=self.sasl_password,
                ssl_context=self.ssl_context(),
                mechanism=self.sasl_mechanism,
            )
        elif self.tls:
            credentials = faust.SSLCredentials(self.ssl_context())
        return {"broker": brokers, "broker_credentials": credentials}


def kafka_options(where: str | KafkaClient) -> dict[str, Any]:
    """aiokafka's keyword arguments for `where`: a client from the settings, or a bare bootstrap
    address (plaintext: the local stack and the tests)."""
    client = where if isinstance(where, KafkaClient) else KafkaClient(where)
    return client.options()
