"""Fixtures for the web tests: an app with one user per role, a client that can log in."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy.orm import Session, sessionmaker

from rehabill.web import WebSettings, create_app
from rehabill.web.audit import InMemoryAuditLog
from rehabill.web.catalog import demo_catalog
from rehabill.web.users import InMemoryUserRepository, Passwords, Role, User
from tests.web.books import make_books

TODAY = date(2026, 3, 2)
PASSWORD = "correct horse battery staple"
SECRET = "test-secret-key-that-is-long-enough-0123456789"
# Cheap Argon2 parameters keep the suite fast; production uses argon2-cffi's defaults.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=64, parallelism=1))
USERS = {
    Role.THERAPIST: User("ana", FAST_PASSWORDS.hash(PASSWORD), Role.THERAPIST, "Ana Ruiz",
                         "1467560003"),
    Role.BILLER: User("bea", FAST_PASSWORDS.hash(PASSWORD), Role.BILLER, "Bea Stone"),
    Role.ADMIN: User("root", FAST_PASSWORDS.hash(PASSWORD), Role.ADMIN, "Practice Admin"),
}
OTHER_THERAPIST = User("lin", FAST_PASSWORDS.hash(PASSWORD), Role.THERAPIST, "Lin Park",
                       "1245319599")
MEDICARE_PATIENT = "pt-7c1e2a"
PER_CODE_PATIENT = "pt-2b9f44"


def settings(**overrides: object) -> WebSettings:
    """Settings with a test secret."""
    return WebSettings(secret_key=SecretStr(SECRET), **overrides)  # type: ignore[arg-type]


@pytest.fixture
def audit() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture(scope="session")
def shared_books() -> sessionmaker[Session]:
    """One seeded practice database for tests that only read (or do not mind writes)."""
    return make_books()


@pytest.fixture
def app(audit: InMemoryAuditLog, shared_books: sessionmaker[Session]) -> FastAPI:
    users = InMemoryUserRepository((*USERS.values(), OTHER_THERAPIST))
    return create_app(settings(), users=users, audit=audit, passwords=FAST_PASSWORDS,
                      today=TODAY, books=shared_books, catalog=demo_catalog(TODAY))


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def csrf_from(html: str) -> str:
    """The CSRF token in a page."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "page has no CSRF field"
    return match.group(1)


def login(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log in through the form; returns the session's CSRF token."""
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": username, "password": password,
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 303, response.text
    return csrf_from(client.get("/").text)


@pytest.fixture
def login_as(client: TestClient) -> Callable[[Role], str]:
    def do(role: Role) -> str:
        return login(client, USERS[role].username)
    return do


def visit_form(csrf: str, *, patient: str = MEDICARE_PATIENT, minutes: tuple[str, ...] = ("25",),
               codes: tuple[str, ...] = ("97530",), assistant: tuple[str, ...] | None = None,
               goal: str = "independent transfers", **extra: str) -> dict[str, object]:
    """A visit entry form as the browser posts it."""
    n = len(codes)
    return {
        "csrf_token": csrf, "visit_id": "", "patient": patient, "coverage": "",
        "date_of_service": TODAY.isoformat(), "rendering_npi": "1467560003",
        "assistant_npi": "", "diagnoses": "I69.351, R26.89",
        "code": list(codes), "minutes": list(minutes),
        "assistant_minutes": list(assistant or ("",) * n), "mode": ["one_on_one"] * n,
        "activity": ["sit-to-stand practice"] * n, "goal": [goal] * n,
        "assistance": ["minimal assist"] * n, **extra,
    }
