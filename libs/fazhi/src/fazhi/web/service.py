"""What an api process holds while it runs: settings, MongoDB, keys, owners and the publisher."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from fazhi.bus.publisher import Publisher
from fazhi.bus.tail import LiveTail
from fazhi.receipts.writer import ReceiptWriter
from fazhi.roles import Role
from fazhi.settings import ServiceSettings
from fazhi.store.sealing import Keyring
from fazhi.web.auth import KeyStore, Principal
from fazhi.web.owners import OwnerCache
from fazhi.web.problems import Problem


@dataclass
class ServiceRuntime:
    settings: ServiceSettings
    mongo: AsyncMongoClient[dict[str, Any]]
    publisher: Publisher
    keys: KeyStore
    data_keys: Keyring
    """The service's data keys (personal data sealed at ingest, see `fazhi.store.sealing`)."""
    tail: LiveTail | None = None
    owners: OwnerCache = field(default_factory=OwnerCache)
    """Owners of the aggregates events were posted about, for the check at the door."""
    prepare: Callable[[ServiceRuntime], Awaitable[bool]] | None = None
    prepared: bool = False
    receipts: ReceiptWriter | None = None
    """Notes each accepted record for its receipt, off the request path (`fazhi.receipts`)."""

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        return self.mongo[self.settings.mongo_db]


async def runtime(request: Request) -> ServiceRuntime:
    """The process's runtime. A coroutine, as every dependency here: FastAPI runs a plain
    function dependency in a worker thread, a hand-off that costs more than the lookup."""
    rt = request.app.state.runtime
    assert isinstance(rt, ServiceRuntime)
    return rt


BEARER = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key bound to a unit and its roles: `Authorization: Bearer <key>`.",
)
"""Names the key in the OpenAPI document (`securitySchemes`) of every route that needs one."""


async def caller(
    request: Request,
    _: Annotated[HTTPAuthorizationCredentials | None, Security(BEARER)] = None,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Principal:
    """The key's holder, or 401: resolved before the request's parameters and body are
    validated, so an unauthenticated request learns nothing of the route."""
    return await (await runtime(request)).keys.authenticate(authorization)


Caller = Annotated[Principal, Depends(caller)]


async def operator(who: Caller) -> Principal:
    if not who.has(Role.OPERATOR):
        raise Problem(403, "This needs a key with the operator role.", kind="forbidden-role")
    return who


Operator = Annotated[Principal, Depends(operator)]
