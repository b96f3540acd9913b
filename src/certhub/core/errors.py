"""Domain errors that every interface (API, UI, CLI) turns into its own clear message."""

from __future__ import annotations


class CerthubError(Exception):
    """Base class. ``code`` is stable and machine-readable; ``field`` names the bad input."""

    status = 400
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        if code:
            self.code = code


class InvalidInput(CerthubError):
    status = 400
    code = "invalid"


class NotFound(CerthubError):
    """Missing, or not visible to the asker: the two are never told apart (no existence leak)."""

    status = 404
    code = "not_found"

    def __init__(self, message: str = "Not found.", **kwargs):
        super().__init__(message, **kwargs)


class PermissionDenied(CerthubError):
    """The asker may see the record but not do this to it."""

    status = 403
    code = "forbidden"


class Conflict(CerthubError):
    status = 409
    code = "conflict"
