"""Personal data sealed field by field on the topics, with a data key per aggregate that only the
owning service's store holds (crypto-shredding: deleting the key erases the data from every
topic, dead-letter topic and backup at once).

A field marked `PERSONAL` (`fazhi.contracts.models`) travels as a string `sealed:v1:<base64url>`: the
key's generation (8 bytes), a random nonce (12 bytes) and the AES-256-GCM ciphertext of the
field's JSON value, authenticated with the event's `source`, `id`, `type` and the field's name,
so a sealed value cannot be moved to another event or field unnoticed.

Data keys live in the owning service's database (`data_keys`, `_id` = `<collection>:<aggregate
id>`), created on first use by one insert (single-document atomicity: two writers racing both
read the one that won). Each is stored wrapped (AES-256-GCM) under the master key of the
service's configuration, so a database dump alone reads nothing. `Keyring` keeps unwrapped keys
in a bounded cache for `ttl_s`, so a shredded key is forgotten everywhere within that time.

Reading (`unseal`): with the key, the plain value; without it (another service, or the key
shredded or replaced since), the field's erased form (`fazhi.contracts.models.personal_fields`), so the
event still applies without personal data; a value that fails authentication is `SealError`.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import logging
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any, Protocol

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError

from fazhi.contracts.envelope import CHINA_TZ, CloudEvent
from fazhi.contracts.models import personal_fields

log = logging.getLogger(__name__)

DATA_KEYS = "data_keys"
"""The owning service's collection of wrapped data keys, one per aggregate with personal data."""
CREATED_DAY = "created_day"
PREFIX = "sealed:v1:"
KID_BYTES = 8
NONCE_BYTES = 12
KEY_BYTES = 32
CONCURRENCY = 16
"""The most key lookups or inserts in flight at once (a small server's connection pool)."""
DEVELOPMENT_MASTER_KEY = base64.b64encode(
    hashlib.sha256(b"fazhi development master key: never use it in production").digest()
).decode()
"""The master key when none is configured: the local stack's and the tests'. Anyone can read
this line, so a deployment sets its own (`<PREFIX>MASTER_KEY`, see the README)."""

Document = dict[str, Any]


class SealError(ValueError):
    """A sealed value that is malformed or fails authentication: the record was tampered with."""


class MasterKeyError(RuntimeError):
    """A data key wrapped under another master key: the configuration is wrong, not the data."""


def key_id(collection: str, aggregate: str) -> str:
    """The `_id` of an aggregate's data key."""
    return f"{collection}:{aggregate}"


def is_sealed(value: object) -> bool:
    return isinstance(value, str) and value.startswith(PREFIX)


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _master(secret: str) -> tuple[AESGCM, str]:
    try:
        raw = base64.b64decode(secret, validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != KEY_BYTES:
        raise ValueError("the master key is 32 random bytes in base64 (openssl rand -base64 32)")
    return AESGCM(raw), hashlib.sha256(b"fazhi master key\n" + raw).hexdigest()[:16]


class MasterKey:
    """Wraps and unwraps data keys (AES-256-GCM, bound to the key's `_id` and generation).

    Keys are wrapped under `secret`; those wrapped under a `previous` master key still unwrap,
    until `rewrap` (`fazhi personal-data rewrap`) has moved them to the current one: rotation
    without a moment in which a key cannot be read."""

    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        self._aead, self.fingerprint = _master(secret)
        self._older = dict(_master(old)[::-1] for old in previous)
        self._older.pop(self.fingerprint, None)
        self.development = secret == DEVELOPMENT_MASTER_KEY

    @property
    def older_fingerprints(self) -> list[str]:
        return list(self._older)

    @staticmethod
    def _aad(doc_id: str, kid: bytes) -> bytes:
        return f"fazhi data key\n{doc_id}\n{kid.hex()}".encode()

    def wrap(self, doc_id: str, kid: bytes, raw: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, raw, self._aad(doc_id, kid))

    def _raw(self, doc: Mapping[str, Any]) -> bytes:
        doc_id, kid, wrapped = doc["_id"], bytes(doc["kid"]), bytes(doc["wrapped"])
        kek = doc.get("kek")
        aead = self._aead if kek == self.fingerprint else self._older.get(str(kek))
        if aead is None:
            raise MasterKeyError(
                f"data key {doc_id!r} is wrapped under master key {kek!r}, which is neither "
                f"the configured {self.fingerprint!r} nor a previous one"
            )
        try:
            return aead.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], self._aad(doc_id, kid)
            )
        except InvalidTag as exc:
            raise MasterKeyError(f"data key {doc_id!r} does not unwrap") from exc

    def unwrap(self, doc: Mapping[str, Any]) -> DataKey:
        return DataKey(doc["_id"], bytes(doc["kid"]), AESGCM(self._raw(doc)))

    def rewrap(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """The fields that move `doc` to the current master key."""
        kid = bytes(doc["kid"])
        return {"wrapped": self.wrap(doc["_id"], kid, self._raw(doc)), "kek": self.fingerprint}

    def new_key(self, doc_id: str, today: date) -> Document:
        kid = os.urandom(KID_BYTES)
        raw = AESGCM.generate_key(bit_length=KEY_BYTES * 8)
        return {
            "_id": doc_id,
            "kid": kid,
            "wrapped": self.wrap(doc_id, kid, raw),
            "kek": self.fingerprint,
            CREATED_DAY: today.isoformat(),
            "created_at": datetime.now(UTC),
        }


@dataclass(frozen=True)
class DataKey:
    """One aggregate's data key, unwrapped; `kid` tells its generation (a key made after the
    previous one was shredded has another)."""

    id: str
    kid: bytes
    aead: AESGCM = field(repr=False)


def _aad(event: CloudEvent, name: str) -> bytes:
    return f"{event.source}\n{event.id}\n{event.type}\n{name}".encode()


def seal_value(key: DataKey, event: CloudEvent, name: str, value: Any) -> str:
    nonce = os.urandom(NONCE_BYTES)
    sealed = key.aead.encrypt(nonce, orjson.dumps(value), _aad(event, name))
    return PREFIX + _b64(key.kid + nonce + sealed)


def open_value(key: DataKey | None, event: CloudEvent, name: str, token: str) -> tuple[bool, Any]:
    """(True, the plain value), or (False, None) when `key` is not the one that sealed it."""
    try:
        raw = _unb64(token[len(PREFIX) :])
    except (binascii.Error, ValueError) as exc:
        raise SealError(f"data.{name} is not a sealed value") from exc
    if len(raw) < KID_BYTES + NONCE_BYTES + 16:
        raise SealError(f"data.{name} is not a sealed value")
    kid, nonce, sealed = (
        raw[:KID_BYTES],
        raw[KID_BYTES : KID_BYTES + NONCE_BYTES],
        raw[KID_BYTES + NONCE_BYTES :],
    )
    if key is None or key.kid != kid:
        return False, None
    try:
        return True, orjson.loads(key.aead.decrypt(nonce, sealed, _aad(event, name)))
    except InvalidTag as exc:
        raise SealError(f"data.{name} fails authentication: the record was altered") from exc


def personal_present(event: CloudEvent, model: type[BaseModel]) -> list[str]:
    """The personal fields of `model` that `event.data` holds."""
    return [name for name in personal_fields(model) if name in event.data]


def seal(event: CloudEvent, model: type[BaseModel], key: DataKey) -> CloudEvent:
    """The event with each personal field of its data sealed under `key`."""
    data = dict(event.data)
    for name in personal_present(event, model):
        if not is_sealed(data[name]):
            data[name] = seal_value(key, event, name, data[name])
    return event.model_copy(update={"data": data})


@dataclass(frozen=True)
class Unsealed:
    data: dict[str, Any]
    erased: tuple[str, ...]
    """The personal fields that read as erased (their key is not here)."""


def unseal(
    event: CloudEvent, model: type[BaseModel], key: DataKey | None, *, owner: bool = True
) -> Unsealed:
    """`event.data` with its personal fields opened with `key`; where `key` is None or not the
    one that sealed a field, the field's erased form. A field that is not sealed (an event
    published before sealing) is read as it is by the `owner`. Another service reads every
    personal field as erased: it never reads personal data."""
    fields = personal_fields(model)
    data = dict(event.data)
    erased: list[str] = []
    for name in fields:
        if name not in data:
            continue
        value = data[name]
        if not owner:
            pass
        elif is_sealed(value):
            opened, plain = open_value(key, event, name, value)
            if opened:
                data[name] = plain
                continue
        else:
            continue
        data[name] = fields[name]
        erased.append(name)
    return Unsealed(data, tuple(erased))


class DataKeyStore(Protocol):
    """Where the wrapped data keys of one service live."""

    async def find(self, ids: Sequence[str]) -> dict[str, Document]: ...

    async def create(self, doc: Document) -> Document:
        """Insert `doc` unless a key with its `_id` exists; the key stored either way."""
        ...

    async def delete(self, ids: Sequence[str]) -> int: ...


class MongoDataKeys:
    """`data_keys` of a service's database; every query is by `_id` (or `created_day`)."""

    def __init__(self, db: AsyncDatabase[Document], concurrency: int = CONCURRENCY) -> None:
        self.collection = db[DATA_KEYS]
        self.concurrency = concurrency

    async def find(self, ids: Sequence[str]) -> dict[str, Document]:
        found: list[Document | None] = []
        for start in range(0, len(ids), self.concurrency):
            chunk = ids[start : start + self.concurrency]
            found.extend(
                await asyncio.gather(*(self.collection.find_one({"_id": i}) for i in chunk))
            )
        return {doc["_id"]: doc for doc in found if doc is not None}

    async def create(self, doc: Document) -> Document:
        while True:
            try:
                await self.collection.insert_one(doc)
                return doc
            except DuplicateKeyError:
                existing = await self.collection.find_one({"_id": doc["_id"]})
                if existing is not None:
                    return existing
                # Shredded between the two: insert again.

    async def rewrap(self, master: MasterKey) -> tuple[int, int]:
        """Move every key wrapped under a previous master key to the current one (a rare,
        manual job: it reads the keys of each previous master key whole). Returns how many
        moved and how many are still under another master key."""
        moved = 0
        for old in master.older_fingerprints:
            for doc in await self.collection.find({"kek": old}).to_list(None):
                done = await self.collection.update_one(
                    {"_id": doc["_id"], "kek": old}, {"$set": master.rewrap(doc)}
                )
                moved += done.modified_count
        left = await self.collection.count_documents({"kek": {"$ne": master.fingerprint}})
        return moved, left

    async def delete(self, ids: Sequence[str]) -> int:
        deleted = 0
        for doc_id in ids:
            deleted += (await self.collection.delete_one({"_id": doc_id})).deleted_count
        return deleted


@dataclass
class MemoryDataKeys:
    """The in-memory `DataKeyStore` for tests of handlers and the processor."""

    docs: dict[str, Document] = field(default_factory=dict)

    async def find(self, ids: Sequence[str]) -> dict[str, Document]:
        return {i: dict(self.docs[i]) for i in ids if i in self.docs}

    async def create(self, doc: Document) -> Document:
        return dict(self.docs.setdefault(doc["_id"], dict(doc)))

    async def delete(self, ids: Sequence[str]) -> int:
        return sum(1 for i in ids if self.docs.pop(i, None) is not None)


class Keyring:
    """Unwrapped data keys by `_id`: a bounded least-recently-used cache, each key kept `ttl_s`
    after it was read, so a shredded key is forgotten by every process within that time."""

    def __init__(
        self,
        store: DataKeyStore,
        master: MasterKey,
        *,
        max_entries: int = 20_000,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.master = master
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self._clock = clock
        self._keys: OrderedDict[str, tuple[float, DataKey]] = OrderedDict()

    def _cached(self, doc_id: str) -> DataKey | None:
        entry = self._keys.get(doc_id)
        if entry is None:
            return None
        if self._clock() >= entry[0]:
            del self._keys[doc_id]
            return None
        self._keys.move_to_end(doc_id)
        return entry[1]

    def _keep(self, key: DataKey) -> None:
        if self.max_entries <= 0 or self.ttl_s <= 0:
            return
        self._keys[key.id] = (self._clock() + self.ttl_s, key)
        self._keys.move_to_end(key.id)
        while len(self._keys) > self.max_entries:
            self._keys.popitem(last=False)

    async def get(self, ids: Iterable[str], *, create: bool = False) -> dict[str, DataKey]:
        """The keys of `ids` (one lookup per id not cached); with `create`, a new key for each
        that has none yet."""
        keys: dict[str, DataKey] = {}
        missing: list[str] = []
        for doc_id in dict.fromkeys(ids):
            cached = self._cached(doc_id)
            if cached is not None:
                keys[doc_id] = cached
            else:
                missing.append(doc_id)
        if not missing:
            return keys
        found = await self.store.find(missing)
        new = [doc_id for doc_id in missing if doc_id not in found] if create else []
        today = datetime.now(CHINA_TZ).date()
        for start in range(0, len(new), CONCURRENCY):
            chunk = new[start : start + CONCURRENCY]
            made = await asyncio.gather(
                *(self.store.create(self.master.new_key(doc_id, today)) for doc_id in chunk)
            )
            found.update(zip(chunk, made, strict=True))
        for doc_id, doc in found.items():
            key = self.master.unwrap(doc)
            keys[doc_id] = key
            self._keep(key)
        return keys

    def forget(self, ids: Iterable[str]) -> None:
        for doc_id in ids:
            self._keys.pop(doc_id, None)
