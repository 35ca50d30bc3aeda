"""The device side's error tree.

::

    SyncClientError
    ├── StoreError                 the local database cannot be used
    │   └── StoreTooNew            made by a newer app release: refuse, never downgrade
    ├── NotSignedIn                an action needs a user, but nobody signed in on this device
    └── TransportError             talking to the server failed
        ├── TransientError         try again later: connect/read errors, timeouts, 5xx, 429
        │                          (``retry_after`` in seconds when the server said so)
        └── PermanentError         the server refused with a stable ``code`` (4xx): retrying
            │                      the same request will not help
            ├── AuthRequired       the refresh token is gone, used or revoked: sign in again
            └── ClientTooOld       HTTP 426: this app release is too old, update it

Domain refusals made *offline* (the phone runs the same rules as the server) are
``shared.errors.DomainError`` and are not part of this tree.
"""

from __future__ import annotations

from typing import Any


class SyncClientError(Exception):
    """Base of every error raised by ``sync.client``."""


class StoreError(SyncClientError):
    pass


class StoreTooNew(StoreError):
    def __init__(self, found: int, supported: int) -> None:
        super().__init__(f"local database schema v{found} is newer than this app (v{supported})")
        self.found = found
        self.supported = supported


class NotSignedIn(SyncClientError):
    pass


class TransportError(SyncClientError):
    """Base of errors talking to the server. ``code``/``message`` are shown to the user."""

    def __init__(self, message: str, *, code: str, status: int | None = None,
                 details: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.status = status
        self.details = details or {}


class TransientError(TransportError):
    def __init__(self, message: str, *, code: str = "SYNC_TRANSIENT", status: int | None = None,
                 details: dict[str, Any] | None = None, retry_after: float | None = None
                 ) -> None:
        super().__init__(message, code=code, status=status, details=details)
        self.retry_after = retry_after


class PermanentError(TransportError):
    pass


class AuthRequired(PermanentError):
    pass


class ClientTooOld(PermanentError):
    pass
