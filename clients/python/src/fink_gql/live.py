"""GraphQL subscriptions over WebSocket, with the graphql-ws protocol (subprotocol ``graphql-transport-ws``).

The protocol is small enough to speak directly: ``connection_init`` (the token in its payload) answered by
``connection_ack``; ``subscribe`` with an id; then ``next`` messages until ``complete`` or ``error``; ``ping`` is
answered with ``pong``. See https://github.com/enisdenjo/graphql-ws/blob/master/PROTOCOL.md.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncGenerator, AsyncIterator
from types import TracebackType
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from .errors import FinkError

SUBPROTOCOL = Subprotocol("graphql-transport-ws")

# Close codes of the protocol, as GraphQL error codes.
_CLOSE_CODES = {
    4400: "BAD_REQUEST",
    4401: "UNAUTHENTICATED",
    4403: "FORBIDDEN",
    4408: "TIMEOUT",
    4429: "RATE_LIMITED",
    4500: "INTERNAL_SERVER_ERROR",
}


def _closed_error(closed: ConnectionClosed) -> FinkError:
    close = closed.rcvd
    code = close.code if close is not None else 1006
    reason = close.reason if close is not None and close.reason else "the connection was closed"
    return FinkError(_CLOSE_CODES.get(code, "CONNECTION_CLOSED"), f"{reason} (WebSocket close code {code})")


class Subscription(AsyncIterator[dict[str, Any]]):
    """The results of one subscription: an async iterator, and an async context manager that ends it.

    ``async for item in subscription`` yields the subscription field's value of every ``next`` message (e.g. one
    ``LiveAlertType`` dict per alert) and raises :class:`FinkError` with the GraphQL code when the server refuses
    the operation or closes the connection. Leaving ``async with`` (or calling :meth:`aclose`) ends the
    subscription and closes the connection; breaking out of a bare ``async for`` leaves that to the garbage
    collector.
    """

    def __init__(
        self,
        url: str,
        query: str,
        variables: dict[str, Any] | None,
        *,
        token: str | None,
        open_timeout: float,
    ) -> None:
        self._url = url
        self._query = query
        self._variables = variables or {}
        self._token = token
        self._open_timeout = open_timeout
        self._results = self._run()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> dict[str, Any]:
        return await self._results.__anext__()

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Ends the subscription (sends ``complete``) and closes the connection."""
        await self._results.aclose()

    async def _run(self) -> AsyncGenerator[dict[str, Any], None]:
        try:
            async with connect(self._url, subprotocols=[SUBPROTOCOL], open_timeout=self._open_timeout) as ws:
                await self._handshake(ws)
                await ws.send(
                    json.dumps(
                        {
                            "id": "1",
                            "type": "subscribe",
                            "payload": {"query": self._query, "variables": self._variables},
                        }
                    )
                )
                completed = False
                try:
                    async for raw in ws:
                        message = json.loads(raw)
                        kind = message.get("type")
                        if kind == "ping":
                            await ws.send(json.dumps({"type": "pong"}))
                        elif kind == "next" and message.get("id") == "1":
                            payload = message.get("payload") or {}
                            if payload.get("errors"):
                                raise FinkError.from_graphql(payload["errors"], data=payload.get("data"))
                            data = payload.get("data") or {}
                            # One root field per subscription: yield its value.
                            yield next(iter(data.values())) if len(data) == 1 else data
                        elif kind == "error" and message.get("id") == "1":
                            completed = True
                            raise FinkError.from_graphql(message.get("payload") or [])
                        elif kind == "complete" and message.get("id") == "1":
                            completed = True
                            return
                finally:
                    if not completed:
                        # The consumer stopped early: tell the server, best effort (the socket may be gone).
                        try:
                            await asyncio.wait_for(ws.send(json.dumps({"id": "1", "type": "complete"})), 2)
                        except (ConnectionClosed, asyncio.TimeoutError):
                            pass
                # The server closed the socket (normally) without completing the subscription.
                raise FinkError(
                    _CLOSE_CODES.get(ws.close_code or 1006, "CONNECTION_CLOSED"),
                    f"{ws.close_reason or 'the connection was closed'} (WebSocket close code {ws.close_code})",
                )
        except ConnectionClosed as closed:
            raise _closed_error(closed) from None

    async def _handshake(self, ws: ClientConnection) -> None:
        payload = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": payload}))
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), self._open_timeout))
            if message.get("type") == "connection_ack":
                return
            if message.get("type") == "ping":
                await ws.send(json.dumps({"type": "pong"}))
