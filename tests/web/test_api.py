"""The JSON API: the ``rehabill units --json`` contract, coding a visit, API login, OpenAPI."""

from __future__ import annotations

import json
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.web.users import Role
from tests.web.conftest import PASSWORD
from tests.web.test_roles import VISIT


@pytest.mark.parametrize(("terms", "method", "discipline"), [
    (["97530=25", "97110=10/13", "97161"], "cms", "pt"),
    (["97530=25", "97110=10"], "per-code", "pt"),
    (["97535=8", "97530=7"], "cms", "ot"),
    (["92507=40"], "cms", "slp"),
])
def test_api_units__matches_the_cli_json(client: TestClient, login_as: Callable[[Role], str],
                                         terms: list[str], method: str,
                                         discipline: str) -> None:
    csrf = login_as(Role.BILLER)
    response = client.post("/api/units", json={"terms": terms, "method": method,
                                               "discipline": discipline},
                           headers={"X-CSRF-Token": csrf})
    cli = CliRunner().invoke(build_app(), ["units", "--json", "--method", method,
                                           "--discipline", discipline, *terms])
    assert response.status_code == 200
    assert response.json() == json.loads(cli.stdout)


def test_api_code_visit__claim_lines_explanation_findings(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    visit = {**VISIT, "services": [{"code": "97530", "minutes": 25},
                                   {"code": "97110", "minutes": 5, "assistant_minutes": 13},
                                   {"code": "97161"}],
             "assistant": {"npi": "1588667638", "first_name": "Joe", "last_name": "Kim",
                           "credential": "PTA"}}
    body = client.post("/api/code-visit", json=visit, headers={"X-CSRF-Token": csrf}).json()
    assert body["visit_id"] == "V-1" and body["method"] == "cms"
    lines = [(line["code"], line["units"], line["modifiers"]) for line in body["claim"]["lines"]]
    assert ("97161", 1, ["GP"]) in lines
    assert sum(units for code, units, _ in lines if code != "97161") == 3  # 43 min → 3 units
    assert any("CQ" in mods for _, _, mods in lines)
    assert all(isinstance(line["charge"], str) for line in body["claim"]["lines"])
    assert body["claim"]["total_charge"].count(".") == 1
    assert body["explanation"] and body["explanation"] == body["units"]["explanation"]
    assert body["findings"] == [] or {"code", "severity"} <= set(body["findings"][0])


def test_api_code_visit__method_override_and_findings(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    visit = {**VISIT, "services": [{"code": "97530", "minutes": 25},
                                   {"code": "97110", "minutes": 10}, {"code": "97999"}]}
    body = client.post("/api/code-visit?method=per-code", json=visit,
                       headers={"X-CSRF-Token": csrf}).json()
    assert body["method"] == "per-code"
    assert sum(line["units"] for line in body["claim"]["lines"]) == 3
    assert "coding.unknown_code" in {f["code"] for f in body["findings"]}


def test_api_login__cookie_and_csrf_token_for_scripts(client: TestClient) -> None:
    response = client.post("/api/login", json={"username": "bea", "password": PASSWORD})
    assert response.status_code == 200
    token = response.json()["csrf_token"]
    assert response.json()["role"] == "biller"
    assert client.get("/api/me").json()["username"] == "bea"
    assert client.post("/api/units", json={"terms": ["97110=8"]},
                       headers={"X-CSRF-Token": token}).json()["total_units"] == 1
    assert client.post("/api/logout", headers={"X-CSRF-Token": token}).status_code == 200
    client.cookies.clear()
    assert client.get("/api/me").status_code == 401


def test_api_login__refuses_bad_credentials_and_form_posts(client: TestClient) -> None:
    assert client.post("/api/login", json={"username": "bea",
                                           "password": "x"}).status_code == 401
    assert client.post("/api/login", content=json.dumps({"username": "bea",
                                                         "password": PASSWORD}),
                       headers={"content-type": "text/plain"}).status_code in (400, 422)


def test_openapi__documents_the_api_and_not_the_pages(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/units", "/api/code-visit", "/api/login", "/api/me"} <= set(paths)
    assert not any(not p.startswith("/api/") for p in paths)
    assert client.get("/docs").status_code == 404  # Swagger UI would load from a CDN
