"""Roles on every route, as a matrix: role × route → allowed, 403, or login (redirect / 401).

The guard test walks the app's routes, so a new route without ``Allow`` fails here, and a new
guarded route must be added to ``MATRIX``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from rehabill.web.deps import Allow
from rehabill.web.users import Role
from tests.web.conftest import USERS, login, visit_form

T, B, A = Role.THERAPIST, Role.BILLER, Role.ADMIN
PUBLIC = {("GET", "/login"), ("POST", "/login"), ("POST", "/api/login"), ("GET", "/healthz")}
UNITS = {"terms": ["97110=30"]}
VISIT = {"visit_id": "V-1", "date_of_service": "2026-03-02",
         "billing_provider": {"npi": "1306849450", "tax_id": "123456789", "name": "R",
                              "address": {"line1": "1", "city": "A", "state": "TX",
                                          "zip": "78701"}},
         "patient": {"id": "P-1", "first_name": "M", "last_name": "L",
                     "birth_date": "1950-05-01"},
         "coverage": {"payer_id": "MEDICARE", "member_id": "1", "plan": "medicare_part_b"},
         "rendering_provider": {"npi": "1467560003", "first_name": "A", "last_name": "R",
                                "credential": "PT"},
         "services": [{"code": "97110", "minutes": 30}]}

# (method, path, roles allowed, body kind)
MATRIX: list[tuple[str, str, frozenset[Role], str]] = [
    ("GET", "/", frozenset({T, B, A}), ""),
    ("POST", "/logout", frozenset({T, B, A}), "form"),
    ("GET", "/visits", frozenset({T, A}), ""),
    ("GET", "/visits/new", frozenset({T, A}), ""),
    ("GET", "/visits/new/_patient?patient=pt-7c1e2a", frozenset({T, A}), ""),
    ("POST", "/visits/preview", frozenset({T, A}), "visit-form"),
    ("POST", "/visits", frozenset({T, A}), "visit-form"),
    ("GET", "/visits/{visit_id}", frozenset({T, A}), ""),
    ("GET", "/visits/{visit_id}/edit", frozenset({T, A}), ""),
    ("GET", "/admin/users", frozenset({A}), ""),
    ("POST", "/admin/users", frozenset({A}), "user-form"),
    ("GET", "/dashboard", frozenset({B, A}), ""),
    ("GET", "/api/reports", frozenset({B, A}), ""),
    ("POST", "/claims/scrub", frozenset({B, A}), "form"),
    ("POST", "/claims/batch", frozenset({B, A}), "form"),
    ("POST", "/claims/{claim_id}/rescrub", frozenset({B, A}), "action"),
    ("POST", "/claims/{claim_id}/resubmit", frozenset({B, A}), "action"),
    ("POST", "/claims/{claim_id}/reopen", frozenset({B, A}), "action"),
    ("POST", "/claims/{claim_id}/move", frozenset({B, A}), "action"),
    ("POST", "/remittances", frozenset({B, A}), "upload"),
    ("POST", "/worklist/{item_id}/resubmit", frozenset({B, A}), "action"),
    ("POST", "/worklist/{item_id}/move", frozenset({B, A}), "action"),
    ("GET", "/claims", frozenset({B, A}), ""),
    ("GET", "/claims/{claim_id}", frozenset({B, A}), ""),
    ("GET", "/remittances", frozenset({B, A}), ""),
    ("GET", "/files/{file_id}", frozenset({B, A}), "file"),
    ("GET", "/worklist", frozenset({B, A}), ""),
    ("POST", "/worklist/bulk", frozenset({B, A}), "work-form"),
    ("POST", "/api/worklist/{item_id}", frozenset({B, A}), "work-json"),
    ("GET", "/admin", frozenset({A}), ""),
    ("POST", "/admin/payers/{payer_id}/policy", frozenset({A}), "policy-form"),
    ("GET", "/admin/coverages?patient=P-0001", frozenset({A}), ""),
    ("POST", "/admin/patients/{patient_id}/coverages", frozenset({A}), "coverage-form"),
    ("POST", "/admin/patients/{patient_id}/coverages/{coverage_id}", frozenset({A}),
     "coverage-form"),
    ("GET", "/api/claims", frozenset({B, A}), ""),
    ("GET", "/api/claims/{claim_id}", frozenset({B, A}), ""),
    ("GET", "/api/worklist", frozenset({B, A}), ""),
    ("POST", "/api/logout", frozenset({T, B, A}), "json"),
    ("GET", "/api/me", frozenset({T, B, A}), ""),
    ("POST", "/api/units", frozenset({T, B, A}), "units"),
    ("POST", "/api/code-visit", frozenset({T, B, A}), "visit"),
]


def _routes(app: FastAPI) -> Iterator[APIRoute]:
    stack: list[Any] = list(app.routes)
    while stack:
        route = stack.pop()
        if isinstance(route, APIRoute):
            yield route
        elif hasattr(route, "original_router"):
            stack.extend(route.original_router.routes)


def _guards(route: APIRoute) -> list[Allow]:
    found: list[Allow] = []
    stack = [route.dependant]
    while stack:
        dependant = stack.pop()
        if isinstance(dependant.call, Allow):
            found.append(dependant.call)
        stack.extend(dependant.dependencies)
    return found


def test_roles__every_route_is_guarded_or_public(app: FastAPI) -> None:
    listed = {(m, p.split("?")[0]) for m, p, *_ in MATRIX}
    for route in _routes(app):
        for method in route.methods:
            key = (method, route.path)
            if key in PUBLIC:
                assert not _guards(route), key
                continue
            assert len(_guards(route)) == 1, f"{key} has no Allow guard"
            assert key in listed, f"{key} is guarded but missing from MATRIX"


def test_roles__matrix_roles_match_the_guards(app: FastAPI) -> None:
    guards = {(m, r.path): _guards(r)[0].roles for r in _routes(app) for m in r.methods
              if (m, r.path) not in PUBLIC}
    for method, path, roles, _ in MATRIX:
        assert guards[(method, path.split("?")[0])] == roles, path


def _call(client: TestClient, method: str, path: str, body: str, csrf: str,
          visit_id: str) -> Any:
    url = (path.replace("{visit_id}", visit_id).replace("{claim_id}", "1")
           .replace("{payer_id}", "1").replace("{item_id}", "1").replace("{file_id}", "999")
           .replace("{patient_id}", "1").replace("{coverage_id}", "1"))
    headers = {"X-CSRF-Token": csrf}
    if body == "json":
        return client.post(url, json={}, headers=headers)
    if body == "units":
        return client.post(url, json=UNITS, headers=headers)
    if body == "visit":
        return client.post(url, json=VISIT, headers=headers)
    if body == "visit-form":
        return client.post(url, data=visit_form(csrf), follow_redirects=False)
    if body == "user-form":
        return client.post(url, data={"csrf_token": csrf, "username": "new-user",
                                      "password": "a long enough password", "role": "biller"},
                           follow_redirects=False)
    if body == "action":  # the state of claim/item 1 decides: done, or refused with a reason
        return client.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    if body == "upload":
        return client.post(url, data={"csrf_token": csrf},
                           files={"file": ("x.txt", b"not x12", "text/plain")},
                           follow_redirects=False)
    if body == "file":  # no such file: allowed roles get 404, the guard answers first
        return client.get(url, follow_redirects=False)
    if body == "work-form":
        return client.post(url, data={"csrf_token": csrf, "item_id": "1", "note": "called"},
                           follow_redirects=False)
    if body == "work-json":
        return client.post(url, json={"note": "called"}, headers=headers)
    if body == "policy-form":
        return client.post(url, data={"csrf_token": csrf, "policy": "medicare_part_b"},
                           follow_redirects=False)
    if body == "coverage-form":  # an empty member id: allowed roles get the form back (422)
        return client.post(url, data={"csrf_token": csrf, "payer_id": "TXMCD",
                                      "member_id": ""}, follow_redirects=False)
    if body == "form":
        return client.post(url, data={"csrf_token": csrf}, follow_redirects=False)
    return client.get(url, follow_redirects=False)


@pytest.fixture
def draft_id(app: FastAPI) -> str:
    """A draft saved by an admin, so every allowed role can open it (therapists: their own)."""
    with TestClient(app) as owner:
        csrf = login(owner, USERS[T].username)
        response = owner.post("/visits", data={**visit_form(csrf), "action": "draft"},
                              follow_redirects=False)
    return str(response.headers["location"].split("/")[2].split("?")[0])


@pytest.mark.parametrize("role", [None, T, B, A], ids=["anonymous", "therapist", "biller",
                                                       "admin"])
@pytest.mark.parametrize(("method", "path", "roles", "body"), MATRIX,
                         ids=[f"{m} {p}" for m, p, *_ in MATRIX])
def test_roles__matrix(app: FastAPI, draft_id: str, role: Role | None, method: str, path: str,
                       roles: frozenset[Role], body: str) -> None:
    with TestClient(app, raise_server_exceptions=True) as client:
        csrf = login(client, USERS[role].username) if role else "no-session"
        response = _call(client, method, path, body, csrf, draft_id)
    if role is None:
        if path.startswith("/api/"):
            assert response.status_code == 401
        else:
            assert response.status_code == 303
            assert response.headers["location"] == "/login"
    elif role in roles:
        allowed = {"file": (404,), "action": (200, 303, 400, 409, 422)}.get(body, (200, 303, 422))
        assert response.status_code in allowed, response.text[:300]
        assert response.headers.get("location") != "/login" or path.endswith("logout")
    else:
        assert response.status_code == 403
