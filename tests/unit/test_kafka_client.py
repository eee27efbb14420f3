"""Every Kafka client is built from one place: the settings' TLS and SASL options."""

from __future__ import annotations

import ssl

import faust
import pytest
from pydantic_settings import SettingsConfigDict

from fazhi.kafkaclient import KafkaClient, kafka_options
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import MasterKeyError


class Settings(ServiceSettings):
    model_config = SettingsConfigDict(**{**ServiceSettings.model_config, "env_prefix": "DEMO_"})


def test_a_bare_address_is_plaintext() -> None:
    assert kafka_options("127.0.0.1:9092") == {
        "bootstrap_servers": "127.0.0.1:9092",
        "security_protocol": "PLAINTEXT",
    }
    assert KafkaClient("k:9092").faust() == {"broker": "kafka://k:9092", "broker_credentials": None}


def test_production_settings_give_every_client_tls_and_a_scram_login(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "DEMO_KAFKA_BOOTSTRAP": "kafka-0:9093,kafka-1:9093",
        "DEMO_KAFKA_SECURITY_PROTOCOL": "SASL_SSL",
        "DEMO_KAFKA_SASL_MECHANISM": "SCRAM-SHA-512",
        "DEMO_KAFKA_SASL_USERNAME": "supervision",
        "DEMO_KAFKA_SASL_PASSWORD": "s3cret",
    }.items():
        monkeypatch.setenv(name, value)
    client = Settings().kafka()
    assert "s3cret" not in repr(client)
    options = kafka_options(client)
    assert options["security_protocol"] == "SASL_SSL"
    assert options["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (options["sasl_plain_username"], options["sasl_plain_password"]) == (
        "supervision",
        "s3cret",
    )
    assert isinstance(options["ssl_context"], ssl.SSLContext)
    assert options["ssl_context"].verify_mode is ssl.CERT_REQUIRED

    worker = client.faust()
    assert worker["broker"] == "kafka://kafka-0:9093;kafka://kafka-1:9093"
    credentials = worker["broker_credentials"]
    assert isinstance(credentials, faust.SASLCredentials)
    assert credentials.protocol.value == "SASL_SSL"
    assert credentials.mechanism.value == "SCRAM-SHA-512"
    assert (credentials.username, credentials.password) == ("supervision", "s3cret")


def test_tls_alone_gives_faust_ssl_credentials() -> None:
    worker = KafkaClient("k:9093", security_protocol="SSL").faust()
    assert isinstance(worker["broker_credentials"], faust.SSLCredentials)
    assert "sasl_mechanism" not in kafka_options(KafkaClient("k:9093", security_protocol="SSL"))


def test_a_service_without_a_master_key_refuses_to_start_outside_development(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("FAZHI_DEV", raising=False)
    with pytest.raises(MasterKeyError, match="FAZHI_DEV=1"):
        Settings().master()
    monkeypatch.setenv("FAZHI_DEV", "1")
    assert Settings().master().development
    monkeypatch.setenv("DEMO_MASTER_KEY", "q" * 43 + "=")
    monkeypatch.delenv("FAZHI_DEV")
    assert not Settings().master().development
