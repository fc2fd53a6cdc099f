"""The one exception the client raises for what the server refused or could not do."""

from __future__ import annotations

from typing import Any


class FinkError(Exception):
    """An error answered by the server (or the transport to it), carrying the GraphQL error code.

    ``code`` is the ``extensions.code`` of the first GraphQL error (``BAD_USER_INPUT``, ``NOT_FOUND``,
    ``UNAUTHENTICATED``, ``FORBIDDEN``, ``CONFLICT``, ``RATE_LIMITED``, ...); the cutout endpoints use the same codes.
    ``errors`` holds every error as the server sent it, ``status`` the HTTP status (None over WebSocket),
    ``argument`` the offending argument of a BAD_USER_INPUT (e.g. ``radiusArcsec``) when the server names one.
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        status: int | None = None,
        data: Any = None,
    ) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.errors: list[dict[str, Any]] = errors or []
        self.status = status
        self.data = data

    @property
    def argument(self) -> str | None:
        for error in self.errors:
            extensions = error.get("extensions")
            if isinstance(extensions, dict) and isinstance(extensions.get("argument"), str):
                return str(extensions["argument"])
        return None

    @classmethod
    def from_graphql(cls, errors: list[dict[str, Any]], *, status: int | None = None, data: Any = None) -> FinkError:
        """The exception for a GraphQL `errors` list: the first error's code and message."""
        first = errors[0] if errors else {}
        extensions = first.get("extensions")
        code = extensions.get("code") if isinstance(extensions, dict) else None
        return cls(
            str(code) if code else "INTERNAL_SERVER_ERROR",
            str(first.get("message", "unknown error")),
            errors=errors,
            status=status,
            data=data,
        )
