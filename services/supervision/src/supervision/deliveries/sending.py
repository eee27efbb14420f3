"""The HTTP calls of deliveries: one pooled client whose every new connection goes only to an
address the URL policy allows, checked after resolving the host (so a name that resolves to a
private address, or changes to one later, is refused at delivery time too), then connected to
that very address (no second lookup to race)."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import httpcore

from supervision.deliveries.domain import UrlPolicy

MAX_RESPONSE_BYTES = 64 * 1024
"""What is read of a receiver's answer (only its status counts)."""


class GuardedBackend(httpcore.AsyncNetworkBackend):
    def __init__(self, policy: UrlPolicy) -> None:
        self._policy = policy
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(
                host, port, type=socket.SOCK_STREAM
            )
        except OSError as exc:
            raise httpcore.ConnectError(f"{host} does not resolve: {exc}") from exc
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        refused = [a for a in addresses if not self._policy.address_allowed(a)]
        if not addresses or refused:
            raise httpcore.ConnectError(
                f"{host} resolves to {refused[0] if refused else 'nothing'}: not an address "
                "deliveries may go to"
            )
        return await self._inner.connect_tcp(
            addresses[0],
            port,
            timeout=timeout,
            local_address=local_address,
            socket_options=socket_options,
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise httpcore.ConnectError("deliveries go over TCP only")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


@dataclass(frozen=True)
class Sent:
    status: int | None
    """The receiver's HTTP status; None when no answer came (the error says why)."""
    seconds: float
    error: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


class Sender:
    """POSTs delivery bodies. Redirects are not followed (a 3xx is a failure): a receiver
    cannot send a delivery somewhere the policy did not check."""

    def __init__(self, policy: UrlPolicy, *, timeout_s: float, max_connections: int = 100) -> None:
        self._timeout_s = timeout_s
        self._pool = httpcore.AsyncConnectionPool(
            network_backend=GuardedBackend(policy),
            max_connections=max_connections,
            max_keepalive_connections=max_connections,
            keepalive_expiry=30.0,
            retries=0,
        )

    async def post(self, url: str, body: bytes, headers: Mapping[str, str]) -> Sent:
        started = time.perf_counter()
        timeout = self._timeout_s
        try:
            async with asyncio.timeout(timeout):
                async with self._pool.stream(
                    "POST",
                    url,
                    headers=[(k.encode(), v.encode()) for k, v in headers.items()],
                    content=body,
                    extensions={
                        "timeout": {
                            "connect": timeout,
                            "read": timeout,
                            "write": timeout,
                            "pool": timeout,
                        }
                    },
                ) as response:
                    read = 0
                    async for chunk in response.aiter_stream():
                        read += len(chunk)
                        if read > MAX_RESPONSE_BYTES:
                            break
                    status = response.status
        except (httpcore.TimeoutException, TimeoutError):
            return Sent(None, time.perf_counter() - started, f"no answer within {timeout:g} s")
        except (httpcore.NetworkError, httpcore.ProtocolError, httpcore.UnsupportedProtocol) as exc:
            return Sent(None, time.perf_counter() - started, str(exc)[:500] or repr(exc))
        except OSError as exc:
            return Sent(None, time.perf_counter() - started, repr(exc)[:500])
        return Sent(status, time.perf_counter() - started)

    async def close(self) -> None:
        await self._pool.aclose()
