"""One error shape: ``{ok, error, errors, status}`` under /api, error pages elsewhere."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rehabill.web.users import Role

SHAPE = {"ok", "error", "errors", "status"}


def assert_shape(response: object, status: int) -> dict[str, object]:
    body = response.json()  # type: ignore[attr-defined]
    assert response.status_code == status  # type: ignore[attr-defined]
    assert set(body) == SHAPE
    assert body["ok"] is False and body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    assert isinstance(body["errors"], list)
    return body  # type: ignore[no-any-return]


def test_error_shape__unauthenticated_api_call_is_401(client: TestClient) -> None:
    assert_shape(client.post("/api/units", json={"terms": ["97110=30"]}), 401)


def test_error_shape__missing_csrf_header_is_403(client: TestClient,
                                                 login_as: Callable[[Role], str]) -> None:
    login_as(Role.BILLER)
    assert_shape(client.post("/api/units", json={"terms": ["97110=30"]}), 403)


def test_error_shape__unknown_api_path_is_404(client: TestClient) -> None:
    assert_shape(client.get("/api/nothing-here"), 404)


def test_error_shape__request_validation_lists_each_problem(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    body = assert_shape(client.post("/api/units", json={"terms": [], "method": "weekly"},
                                    headers={"X-CSRF-Token": csrf}), 422)
    locations = {e["location"] for e in body["errors"]}  # type: ignore[union-attr]
    assert {"body.terms", "body.method"} <= locations


def test_error_shape__unusable_visit_lists_its_findings(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    body = assert_shape(client.post("/api/code-visit", json={"visit_id": "V-9"},
                                    headers={"X-CSRF-Token": csrf}), 422)
    assert body["errors"][0]["code"] == "input.invalid_field"  # type: ignore[index]


def test_error_shape__bad_term_is_422_with_message(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    body = assert_shape(client.post("/api/units", json={"terms": ["99999=10"]},
                                    headers={"X-CSRF-Token": csrf}), 422)
    assert "99999" in str(body["error"])


def test_error_shape__unexpected_error_is_500_without_details(app: FastAPI) -> None:
    @app.get("/api/boom")
    async def boom() -> None:
        raise RuntimeError("Lee, Mark 1950-05-01")  # a message that must not leak

    with TestClient(app, raise_server_exceptions=False) as test_client:
        body = assert_shape(test_client.get("/api/boom"), 500)
    assert "Lee" not in str(body)


@pytest.mark.parametrize(("path", "status", "template_marker"), [
    ("/no-such-page", 404, "We could not find that page"),
    ("/visits/new", 403, "You do not have access to this page"),
])
def test_error_shape__pages_render_status_templates(
        client: TestClient, login_as: Callable[[Role], str], path: str, status: int,
        template_marker: str) -> None:
    login_as(Role.BILLER)
    response = client.get(path)
    assert response.status_code == status
    assert response.headers["content-type"].startswith("text/html")
    assert template_marker in response.text
    assert f'data-status="{status}"' in response.text


def test_error_shape__conflict_page_uses_error_html(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    from tests.web.conftest import visit_form

    csrf = login_as(Role.THERAPIST)
    saved = client.post("/visits", data={**visit_form(csrf), "action": "finalize"},
                        follow_redirects=False)
    response = client.get(saved.headers["location"].split("?")[0] + "/edit")
    assert response.status_code == 409
    assert 'data-status="409"' in response.text and "final" in response.text


def test_error_shape__unexpected_page_error_renders_500_html(app: FastAPI) -> None:
    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("Lee, Mark")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        response = test_client.get("/boom")
    assert response.status_code == 500
    assert "Something went wrong" in response.text and "Lee" not in response.text
