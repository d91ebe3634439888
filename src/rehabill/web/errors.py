"""One error handler for the whole app: JSON ``{ok, error, errors, status}`` under /api,
``{status}.html`` (or ``error.html``) for pages.

``tests/web/test_error_shape.py`` holds the JSON shape in place. A page that needs a login
answers with a redirect to ``/login`` (htmx requests get ``HX-Redirect``). Unexpected errors are
logged by type and stack frames only: an exception message may hold patient data.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

from rehabill.errors import RehabillError

log = logging.getLogger("rehabill.web")

_TITLES = {400: "Bad request", 401: "Please log in", 403: "Not allowed", 404: "Not found",
           405: "Method not allowed", 409: "Conflict", 413: "Too large",
           415: "Unsupported media type", 422: "Cannot use that input",
           500: "Something went wrong", 503: "Not available"}
_STATUS_PAGES = frozenset({403, 404, 500})


class LoginRequired(RehabillError):
    """No valid session: pages redirect to /login, the API answers 401."""

    status = 401

    def __init__(self, message: str = "Log in to continue.") -> None:
        super().__init__(message)


class Forbidden(RehabillError):
    """Logged in, but the role (or a missing CSRF token) does not allow this."""

    status = 403


def is_api(request: Request) -> bool:
    """True for the JSON API (and the OpenAPI document)."""
    path = request.url.path
    return path == "/api" or path.startswith("/api/")


def error_payload(status: int, message: str, errors: list[dict[str, Any]] | None = None
                  ) -> dict[str, Any]:
    """The one JSON error shape."""
    return {"ok": False, "error": message, "errors": errors or [], "status": status}


def _validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    return [{"code": f"request.{e.get('type', 'invalid')}",
             "message": str(e.get("msg", "invalid")),
             "location": ".".join(str(p) for p in e.get("loc", ()))}
            for e in exc.errors()]


def _describe(exc: Exception) -> tuple[int, str, list[dict[str, Any]]]:
    if isinstance(exc, RehabillError):
        errors = getattr(exc, "errors", None) or []
        return exc.status, exc.message, list(errors)
    if isinstance(exc, RequestValidationError):
        return 422, "The request does not match what this endpoint accepts.", \
            _validation_errors(exc)
    if isinstance(exc, StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else _TITLES.get(exc.status_code, "")
        return exc.status_code, detail, []
    return 500, "Something went wrong on our side; the error was logged.", []


def install(app: FastAPI, templates: Jinja2Templates,
            page_values: Callable[[Request], dict[str, Any]]) -> None:
    """Register the handler for every error the app can meet; ``page_values`` gives the header
    (site name, the user if logged in) for error pages."""

    async def handle(request: Request, exc: Exception) -> Response:
        status, message, errors = _describe(exc)
        if status >= 500:
            frames = "".join(traceback.format_tb(exc.__traceback__))
            log.error("unhandled %s on %s %s\n%s", type(exc).__name__, request.method,
                      _route_template(request), frames)
        if is_api(request):
            return JSONResponse(error_payload(status, message, errors), status_code=status,
                                headers=_extra_headers(exc))
        if isinstance(exc, LoginRequired):
            return _login_redirect(request)
        name = f"{status}.html" if status in _STATUS_PAGES else "error.html"
        context = {**_safe_values(page_values, request), "status": status,
                   "title": _TITLES.get(status, "Error"), "message": message, "errors": errors}
        return templates.TemplateResponse(request, name, context, status_code=status,
                                          headers=_extra_headers(exc))

    for kind in (RehabillError, RequestValidationError, StarletteHTTPException, Exception):
        app.add_exception_handler(kind, handle)


def _safe_values(page_values: Callable[[Request], dict[str, Any]], request: Request
                 ) -> dict[str, Any]:
    try:
        return page_values(request)
    except Exception as exc:  # the error page must render even when the user store failed
        log.error("error page header failed: %s", type(exc).__name__)
        return {"site_name": "rehabill", "user": None, "csrf_token": "", "nav": ()}


def _extra_headers(exc: Exception) -> dict[str, str] | None:
    if isinstance(exc, StarletteHTTPException) and exc.headers:
        return dict(exc.headers)
    return None


def _login_redirect(request: Request) -> Response:
    if request.headers.get("HX-Request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": "/login"})
    return RedirectResponse("/login", status_code=303)


def _route_template(request: Request) -> str:
    route = request.scope.get("route")
    return str(getattr(route, "path", "?"))


class FindingsError(RehabillError):
    """Input that cannot be used, with the findings that say why (422)."""

    status = 422

    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors
