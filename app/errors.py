"""The one error hierarchy. Routes and services raise these; one handler turns them into
``application/problem+json`` (RFC 9457) responses, and the CLI prints them to stderr."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class AppError(Exception):
    """Base for every error the service raises on purpose."""

    status: int = 500
    title: str = "Internal Server Error"
    type_slug: str = "internal"

    def __init__(self, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra
        # Response headers the error is sent with (the release a 404 was read from).
        self.headers: dict[str, str] = {}


class InvalidParameter(AppError):
    """A query or path parameter failed validation: names the parameter and why."""

    status = 422
    title = "Invalid parameter"
    type_slug = "invalid-parameter"


class BadRequest(AppError):
    """The request itself is malformed (bytes that are not UTF-8, control characters)."""

    status = 400
    title = "Bad Request"
    type_slug = "bad-request"


class NotFound(AppError):
    status = 404
    title = "Not Found"
    type_slug = "not-found"


class NotAcceptable(AppError):
    status = 406
    title = "Not Acceptable"
    type_slug = "not-acceptable"


class MethodNotAllowed(AppError):
    status = 405
    title = "Method Not Allowed"
    type_slug = "method-not-allowed"


class UriTooLong(AppError):
    status = 414
    title = "URI Too Long"
    type_slug = "uri-too-long"


class TooManyRequests(AppError):
    status = 429
    title = "Too Many Requests"
    type_slug = "too-many-requests"


class HeadersTooLarge(AppError):
    status = 431
    title = "Request Header Fields Too Large"
    type_slug = "request-header-fields-too-large"


class ServiceUnavailable(AppError):
    status = 503
    title = "Service Unavailable"
    type_slug = "unavailable"


@dataclass(frozen=True, order=True)
class SeedProblem:
    """One defect in the seed files, located by file and by the path inside it."""

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.path}" if self.path else self.file
        return f"{where}: {self.message}"


class SeedInvalid(AppError):
    """The seed files were rejected; ``problems`` lists every defect found, not just the first."""

    status = 422
    title = "Invalid seed"
    type_slug = "invalid-seed"

    def __init__(self, problems: list[SeedProblem]) -> None:
        self.problems = sorted(set(problems))
        super().__init__(
            f"{len(self.problems)} problem(s) in the seed files:\n"
            + "\n".join(str(p) for p in self.problems)
        )


class SeedLocked(AppError):
    """Another seed load holds the lock."""

    status = 409
    title = "Seed load in progress"
    type_slug = "seed-locked"


class ReleaseConflict(AppError):
    """A version already names other content."""

    status = 409
    title = "Release version already used"
    type_slug = "release-conflict"
