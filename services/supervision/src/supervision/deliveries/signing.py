"""Signatures per the Standard Webhooks specification (the `standardwebhooks` package), and the
subscription secrets they use, kept wrapped under the service's master key.

A secret is `whsec_` + 32 random bytes in base64, shown once when made. While a secret is being
rotated, deliveries carry a signature by each (space-separated, as the specification allows),
so a receiver can switch at its own pace."""

from __future__ import annotations

import base64
import os
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from standardwebhooks import Webhook

from fazhi.store import NONCE_BYTES, MasterKey

SECRET_PREFIX = "whsec_"  # noqa: S105 (the prefix secrets carry, not a secret)
SECRET_BYTES = 32


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(SECRET_BYTES)).decode()


def headers(msg_id: str, at: datetime, body: bytes, secrets: Sequence[str]) -> dict[str, str]:
    """The `webhook-id`, `webhook-timestamp` and `webhook-signature` of one attempt. Each
    attempt is signed anew: a receiver refuses a timestamp more than five minutes away."""
    signatures = " ".join(Webhook(secret).sign(msg_id, at, body) for secret in secrets)
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures,
    }


def _key_id(subscription_id: str) -> str:
    return f"webhook-secret:{subscription_id}"


def wrap(master: MasterKey, subscription_id: str, secret: str, today: date) -> dict[str, Any]:
    """The secret as stored: sealed under a key of its own, itself wrapped under the master key
    (as the data keys are), so a dump of the database reads no secret."""
    wrapped = master.new_key(_key_id(subscription_id), today)
    key = master.unwrap(wrapped)
    nonce = os.urandom(NONCE_BYTES)
    sealed = nonce + key.aead.encrypt(nonce, secret.encode(), subscription_id.encode())
    return {
        "kid": wrapped["kid"],
        "wrapped": wrapped["wrapped"],
        "kek": wrapped["kek"],
        "sealed": sealed,
    }


def unwrap(master: MasterKey, subscription_id: str, stored: dict[str, Any]) -> str:
    key = master.unwrap({"_id": _key_id(subscription_id), **stored})
    sealed = bytes(stored["sealed"])
    plain = key.aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], subscription_id.encode())
    return plain.decode()


def rewrapped(master: MasterKey, subscription_id: str, stored: dict[str, Any]) -> dict[str, Any]:
    """The stored secret moved under the current master key (when a previous one wrapped it)."""
    return {**stored, **master.rewrap({"_id": _key_id(subscription_id), **stored})}
