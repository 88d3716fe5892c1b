"""Every error answers `application/problem+json` (RFC 9457): a title, a status, a detail, and for
bad input the fields at fault. No stack trace reaches a client; 5xx are logged with the request id.

The texts are English, for developers and logs. What staff read comes from a stable machine `code`
(on the problem and on each field error, with its `params`): the admin holds the French (and
English) sentence for each code in one place (admin/src/problems.ts) and shows the English detail
only for a code it does not know. Schema errors carry pydantic's own error types as codes."""

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
from litestar.openapi.datastructures import ResponseSpec
from litestar.plugins import ReceiveRoutePlugin
from litestar.routes import BaseRoute, HTTPRoute
from litestar.status_codes import (
    HTTP_204_NO_CONTENT,
    HTTP_400_BAD_REQUEST,
    HTTP_404_NOT_FOUND,
    HTTP_409_CONFLICT,
    HTTP_422_UNPROCESSABLE_ENTITY,
    HTTP_500_INTERNAL_SERVER_ERROR,
)
from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.exc import DataError as SQLAlchemyDataError
from sqlalchemy.exc import DBAPIError
from sqlalchemy.exc import IntegrityError as SQLAlchemyIntegrityError

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


def field_error(field: str, message: str, code: str | None = None, **params: Any) -> dict[str, Any]:
    """One field at fault; `code` and `params` let a client word it in its own language."""
    error: dict[str, Any] = {"field": field, "detail": message, "pointer": "/" + field.replace(".", "/")}
    if code:
        error["code"] = code
    if params:
        error["params"] = params
    return error


def invalid(field: str, message: str, code: str | None = None, **params: Any) -> ProblemError:
    return ProblemError(
        HTTP_422_UNPROCESSABLE_ENTITY,
        f"{field}: {message}",
        errors=[field_error(field, message, code, **params)],
        code="invalid_input",
    )


def _scalar_params(ctx: Any) -> dict[str, Any]:
    """Pydantic's context of an error, kept to what JSON carries plainly (limits, expected values)."""
    if not isinstance(ctx, dict):
        return {}
    return {k: v for k, v in ctx.items() if isinstance(v, str | int | float | bool)}


def schema_error_code(error: Any) -> tuple[str | None, dict[str, Any]]:
    """The code and params of one pydantic error (its type and context)."""
    if not isinstance(error, dict) or not isinstance(error.get("type"), str):
        return None, {}
    return error["type"], _scalar_params(error.get("ctx"))


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


def _validation_errors(extra: Any, cause: BaseException | None) -> list[dict[str, Any]]:
    # Litestar keeps only the key and the message of a body's pydantic errors; the errors themselves
    # (with their types) are on the exception it raised from, in the same order.
    causes = getattr(cause, "errors", None)
    typed = causes if isinstance(causes, list) else []
    items = [item for item in extra if isinstance(item, dict)] if isinstance(extra, list) else []
    errors = []
    for index, item in enumerate(items):
        key = item.get("key") or item.get("source") or "body"
        code, params = schema_error_code(typed[index]) if len(typed) == len(items) else (None, {})
        errors.append(field_error(str(key), str(item.get("message", "invalid value")), code, **params))
    return errors


def _handle_http(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    if isinstance(exc, ProblemError):
        return problem_response(
            request, exc.status_code, exc.detail, errors=exc.errors, headers=exc.headers, **exc.problem_extra
        )
    if isinstance(exc, ValidationException):
        errors = _validation_errors(exc.extra, exc.__cause__)
        named = ", ".join(e["field"] for e in errors)
        detail = f"Invalid input: {named}" if named else (exc.detail or "Invalid input")
        # A body that parses but breaks the schema is 422, like every rule a service refuses; a body
        # that does not parse, or a bad query or path parameter, stays 400.
        # Litestar names the source of parameter errors (query, path, header, cookie), not of body ones.
        items = [i for i in exc.extra or [] if isinstance(i, dict)] if isinstance(exc.extra, list) else []
        from_body = bool(items) and all(i.get("source") in (None, "body") for i in items)
        status = HTTP_422_UNPROCESSABLE_ENTITY if from_body and errors else exc.status_code
        return problem_response(request, status, detail, errors=errors, headers=exc.headers, code="invalid_input")
    if isinstance(exc, NotAuthorizedException):
        return problem_response(
            request, 401, exc.detail or "Authentication required", headers=exc.headers, code="login_required"
        )
    return problem_response(request, exc.status_code, exc.detail, headers=exc.headers)


def _handle_pydantic(request: Request[Any, Any, Any], exc: PydanticValidationError) -> Response[dict[str, Any]]:
    errors = []
    for e in exc.errors():
        code, params = schema_error_code(e)
        errors.append(field_error(".".join(str(p) for p in e["loc"]) or "body", e["msg"], code, **params))
    named = ", ".join(e["field"] for e in errors)
    return problem_response(
        request, HTTP_422_UNPROCESSABLE_ENTITY, f"Invalid input: {named}", errors=errors, code="invalid_input"
    )


def _is_bad_value(exc: BaseException) -> bool:
    """Whether the database refused a value itself (SQLSTATE class 22: out of range, a NUL byte, text
    that is not of the column's type), however deep in the chain of causes. asyncpg refuses some
    before sending them (an integer wider than the column) with the same exception class."""
    import asyncpg

    seen: BaseException | None = exc
    for _ in range(10):
        if seen is None:
            return False
        if isinstance(seen, SQLAlchemyDataError | asyncpg.exceptions.DataError):
            return True
        if str(getattr(seen, "sqlstate", "") or "").startswith("22"):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


def _bad_value(request: Request[Any, Any, Any]) -> Response[dict[str, Any]]:
    # Input a schema let through but PostgreSQL cannot take: bad input, never a conflict nor a crash.
    # Without a body it came from the query (400), with one from the body (422), as for the schema.
    status = HTTP_422_UNPROCESSABLE_ENTITY if request.method in ("POST", "PUT", "PATCH") else HTTP_400_BAD_REQUEST
    return problem_response(
        request, status, "A value is out of range or holds characters that cannot be stored", code="bad_value"
    )


def _handle_repository(request: Request[Any, Any, Any], exc: RepositoryError) -> Response[dict[str, Any]]:
    if isinstance(exc, NotFoundError):
        return problem_response(request, HTTP_404_NOT_FOUND, "No such record", code="not_found")
    # advanced-alchemy wraps every statement error as an IntegrityError: a refused value is not one.
    if _is_bad_value(exc):
        return _bad_value(request)
    if isinstance(exc, DuplicateKeyError | IntegrityError):
        return problem_response(
            request, HTTP_409_CONFLICT, "This conflicts with a record that already exists", code="conflict"
        )
    return _handle_unexpected(request, exc)


def _handle_dbapi(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[dict[str, Any]]:
    """The same answers for a statement run outside a repository (a query of a service, the commit)."""
    if _is_bad_value(exc):
        return _bad_value(request)
    if isinstance(exc, SQLAlchemyIntegrityError):
        return problem_response(
            request, HTTP_409_CONFLICT, "This conflicts with a record that already exists", code="conflict"
        )
    return _handle_unexpected(request, exc)


def _handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    log.exception("unhandled_error", path=request.url.path, error_type=type(exc).__name__)
    return problem_response(
        request,
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Something went wrong on our side; it has been logged.",
        code="internal",
    )


exception_handlers: dict[Any, Any] = {
    HTTPException: _handle_http,
    PydanticValidationError: _handle_pydantic,
    RepositoryError: _handle_repository,
    DBAPIError: _handle_dbapi,
    Exception: _handle_unexpected,
}


# --- The problem answers in the OpenAPI document -------------------------------------------------
# Documented once, here, from what each operation is: its guards, its method, its parameters and its
# body. A controller declares only what truly differs (`problem_responses(429)` on login).


class FieldProblem(BaseModel):
    field: str = Field(description="The field at fault, dotted for nested ones")
    detail: str = Field(description="What is wrong with it, in English")
    pointer: str = Field(description="JSON pointer to the field in the body")
    code: str | None = Field(
        default=None, description="Stable machine code of the error (pydantic's error type for schema errors)"
    )
    params: dict[str, Any] | None = Field(default=None, description="The values the code's sentence names")


class Problem(BaseModel):
    """RFC 9457 problem details; some answers add members (e.g. `retry_after` with a 429)."""

    model_config = ConfigDict(extra="allow", title="Problem")

    type: str = Field(description="Always about:blank: the status says what kind of problem it is")
    title: str
    status: int
    detail: str = Field(description="What went wrong, in English")
    instance: str = Field(description="The path that was requested")
    code: str | None = Field(default=None, description="Stable machine code of the problem, for clients to word it")
    errors: list[FieldProblem] = Field(default_factory=list, description="The fields at fault, for bad input")


PROBLEM_DESCRIPTIONS = {
    400: "A body that does not parse, or a query, path or header parameter that breaks its schema",
    401: "No staff session: log in first",
    403: "The session's role is too low for this, or the X-CSRF-Token header is missing or wrong on a write",
    404: "No such record",
    409: "Conflicts with what is stored (a duplicate, a record in the wrong state, records still attached)",
    413: "The body is too large",
    422: "The input parses but breaks the schema or a rule; `errors` names the fields",
    429: "Too many attempts: wait for the Retry-After seconds",
    503: "A service this needs (PostgreSQL or Redis) is unavailable",
}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def problem_responses(*statuses: int) -> dict[int, ResponseSpec]:
    """The problem answers to declare on a handler, for a status the rules below cannot infer."""
    return {
        status: ResponseSpec(
            data_container=Problem,
            description=PROBLEM_DESCRIPTIONS.get(status, TITLES.get(status, "Error")),
            media_type=PROBLEM_MEDIA_TYPE,
            generate_examples=False,
        )
        for status in statuses
    }


def inferred_problem_statuses(
    method: str,
    *,
    guarded: bool,
    csrf_checked: bool,
    path_params: bool,
    other_params: bool,
    body: bool,
) -> set[int]:
    """The problem statuses an operation can answer, from what it is."""
    statuses: set[int] = set()
    if guarded:
        statuses |= {401, 403}
    if csrf_checked and method in WRITE_METHODS:
        statuses.add(403)
    if path_params:
        # A malformed id does not match the route (404); a path enum off its values is a 400.
        statuses |= {400, 404}
    if other_params:
        statuses |= {400, 422}
    if body:
        statuses |= {400, 413, 422}
    if method in WRITE_METHODS:
        # Services refuse rules (422) and conflicts with stored records (409) on any write; a
        # unique or foreign-key violation from the database maps to 409 whatever the handler.
        statuses |= {409, 422}
    return statuses


class ProblemDocsPlugin(ReceiveRoutePlugin):
    """Adds the problem answers each operation can give to its OpenAPI responses, as
    `application/problem+json` with the `Problem` schema. What a handler declares itself wins."""

    def __init__(self, csrf_exempt: frozenset[str] = frozenset()) -> None:
        self.csrf_exempt = csrf_exempt

    def receive_route(self, route: BaseRoute) -> None:
        if not isinstance(route, HTTPRoute):
            return
        for method, (handler, kwargs_model) in route.route_handler_map.items():
            if method in ("OPTIONS", "HEAD") or not handler.resolve_include_in_schema():
                continue
            statuses = inferred_problem_statuses(
                method,
                guarded=bool(handler.resolve_guards()),
                csrf_checked=route.path.startswith("/api/") and route.path not in self.csrf_exempt,
                path_params=bool(route.path_parameters),
                other_params=bool(
                    kwargs_model.expected_query_params
                    or kwargs_model.expected_header_params
                    or kwargs_model.expected_cookie_params
                ),
                body=(
                    "data" in kwargs_model.expected_reserved_kwargs
                    or kwargs_model.expected_data_dto is not None
                    or kwargs_model.expected_form_data is not None
                ),
            )
            declared = handler.responses or {}
            inferred = problem_responses(*sorted(statuses))
            if handler.status_code == HTTP_204_NO_CONTENT:
                # Litestar documents a body for a handler returning `Response[None]`; a 204 has none.
                inferred[HTTP_204_NO_CONTENT] = ResponseSpec(data_container=None, description="Done; no content")
            handler.responses = {**inferred, **declared}


__all__ = [
    "PROBLEM_MEDIA_TYPE",
    "Problem",
    "ProblemDocsPlugin",
    "ProblemError",
    "exception_handlers",
    "field_error",
    "invalid",
    "problem_responses",
]
