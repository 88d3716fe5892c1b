"""Every error answers `application/problem+json` (RFC 9457): a title, a status, a detail, and for
bad input the fields at fault. No stack trace reaches a client; 5xx are logged with the request id."""

from __future__ import annotations

from typing import Any

import structlog
from advanced_alchemy.exceptions import (
    DuplicateKeyError,
    IntegrityError,
    NotFoundError,
    RepositoryError,
)
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import (
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from pydantic import ValidationError as PydanticValidationError

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = structlog.get_logger("crm.errors")

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Payload too large",
    415: "Unsupported media type",
    422: "Invalid input",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class ProblemError(HTTPException):
    """Raised by services for a rule a request breaks: the message is for the user, the fields
    name what to fix."""

    def __init__(
        self,
        status_code: int,
        detail: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        headers: dict[str, str] | None = None,
        **extra: Any,
    ) -> None:
        super().__init__(detail=detail, status_code=status_code, headers=headers)
        self.errors = errors or []
        self.problem_extra = extra


def field_error(field: str, message: str) -> dict[str, str]:
    return {"field": field, "detail": message, "pointer": "/" + field.replace(".", "/")}


def invalid(field: str, message: str) -> ProblemError:
    return ProblemError(HTTP_422_UNPROCESSABLE_ENTITY, f"{field}: {message}", errors=[field_error(field, message)])


def problem_response(
    request: Request[Any, Any, Any],
    status: int,
    detail: str,
    *,
    errors: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    body: dict[str, Any] = {
        "type": "about:blank",
        "title": TITLES.get(status, "Error"),
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if errors:
        body["errors"] = errors
    body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _validation_errors(extra: Any) -> list[dict[str, Any]]:
    errors = []
    for item in extra if isinstance(extra, list) else []:
        if isinstance(item, dict):
            key = item.get("key") or item.get("source") or "body"
            errors.append(field_error(str(key), str(item.get("message", "invalid value"))))
    return errors


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ProblemError):
        return problem_response(
            request, exc.status_code, exc.detail, errors=exc.errors, headers=exc.headers, **exc.problem_extra
        )
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc.extra)
        named = ", ".join(e["field"] for e in errors)
        detail = f"Invalid input: {named}" if named else (exc.detail or "Invalid input")
        # A body that parses but breaks the schema is 422, like every rule a service refuses; a body
        # that does not parse, or a bad query or path parameter, stays 400.
        # Litestar names the source of parameter errors (query, path, header, cookie), not of body ones.
        items = [i for i in exc.extra or [] if isinstance(i, dict)] if isinstance(exc.extra, list) else []
        from_body = bool(items) and all(i.get("source") in (None, "body") for i in items)
        status = HTTP_422_UNPROCESSABLE_ENTITY if from_body and errors else exc.status_code
        return problem_response(request, status, detail, errors=errors, headers=exc.headers)
    if isinstance(exc, NotAuthorizedException):
        return problem_response(request, 401, exc.detail or "Authentication required", headers=exc.headers)
    return problem_response(request, exc.status_code, exc.detail, headers=exc.headers)


def _handle_pydantic(request: Request[Any, Any, Any], exc: PydanticValidationError) -> Response[dict[str, Any]]:
    errors = [field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"]) for e in exc.errors()]
    named = ", ".join(e["field"] for e in errors)
    return problem_response(request, HTTP_422_UNPROCESSABLE_ENTITY, f"Invalid input: {named}", errors=errors)


def _handle_repository(request: Request[Any, Any, Any], exc: RepositoryError) -> Response[dict[str, Any]]:
    if isinstance(exc, NotFoundError):
        return problem_response(request, HTTP_404_NOT_FOUND, "No such record")
    if isinstance(exc, DuplicateKeyError | IntegrityError):
        return problem_response(request, HTTP_409_CONFLICT, "This conflicts with a record that already exists")
    return _handle_unexpected(request, exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        request, HTTP_500_INTERNAL_SERVER_ERROR, "Something went wrong on our side; it has been logged."
    )


exception_handlers: dict[Any, Any] = {
    HTTPException: _handle_http,
    PydanticValidationError: _handle_pydantic,
    RepositoryError: _handle_repository,
    Exception: _handle_unexpected,
}

__all__ = ["PROBLEM_MEDIA_TYPE", "ProblemError", "exception_handlers", "field_error", "invalid"]
