"""Property-based fuzzing of the JSON API from its OpenAPI document: no input gets a 5xx.

Schemathesis generates requests for every /api operation (valid and invalid bodies, query
values); each runs with a logged-in admin session and its CSRF token, so the generated data
reaches the handlers, not just the guard. The check is schemathesis's ``not_a_server_error``.
"""

from __future__ import annotations

import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from rehabill.web import create_app
from rehabill.web.sessions import COOKIE_NAME
from rehabill.web.users import InMemoryUserRepository
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, PASSWORD, TODAY, USERS
from tests.web.conftest import settings as web_settings

APP = create_app(web_settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                 passwords=FAST_PASSWORDS, today=TODAY, books=make_books())
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)


def _session() -> tuple[str, str]:
    with TestClient(APP) as client:
        response = client.post("/api/login", json={"username": "root", "password": PASSWORD})
        return client.cookies[COOKIE_NAME], response.json()["csrf_token"]


COOKIE, CSRF = _session()


@schema.parametrize()
@settings(max_examples=40, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_api__no_server_errors(case: schemathesis.Case) -> None:
    response = case.call(headers={"X-CSRF-Token": CSRF}, cookies={COOKIE_NAME: COOKIE})
    case.validate_response(response, checks=[not_a_server_error])
    assert response.status_code < 500, response.text
