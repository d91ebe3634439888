"""Passwords, sessions, cookies, CSRF, headers, and no patient data in logs or URLs."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr, ValidationError

from rehabill.web import WebSettings, create_app
from rehabill.web.sessions import COOKIE_NAME, SessionCodec
from rehabill.web.users import InMemoryUserRepository, Passwords, Role
from tests.web.conftest import (
    FAST_PASSWORDS,
    PASSWORD,
    SECRET,
    TODAY,
    USERS,
    csrf_from,
    login,
    settings,
    visit_form,
)


def test_passwords__argon2id_hash_verifies_and_rejects() -> None:
    passwords = Passwords()
    encoded = passwords.hash("s3cret pass phrase")
    assert encoded.startswith("$argon2id$")
    assert passwords.verify(encoded, "s3cret pass phrase")
    assert not passwords.verify(encoded, "s3cret pass phrasE")
    assert not passwords.verify(None, "anything")
    assert not passwords.verify("not a hash", "anything")


def test_passwords__inactive_user_cannot_log_in() -> None:
    from dataclasses import replace

    users = InMemoryUserRepository((replace(USERS[Role.BILLER], active=False),))
    assert FAST_PASSWORDS.authenticate(users, "bea", PASSWORD) is None
    assert FAST_PASSWORDS.authenticate(users, "nobody", PASSWORD) is None


@pytest.mark.parametrize("secret", ["changethis", "short", "x" * 31])
def test_settings__weak_secret_is_refused(secret: str) -> None:
    with pytest.raises(ValidationError):
        WebSettings(secret_key=SecretStr(secret))


def test_settings__read_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_SECRET_KEY", SECRET)
    monkeypatch.setenv("REHABILL_SECURE_COOKIES", "true")
    loaded = WebSettings()  # type: ignore[call-arg]
    assert loaded.secure_cookies is True


def test_session__tampered_expired_or_foreign_cookie_is_rejected() -> None:
    codec = SessionCodec(SECRET, 60)
    session = codec.new("ana", now=1000)
    value = codec.encode(session)
    assert codec.decode(value, now=1030) == session
    assert codec.decode(value, now=1061) is None
    _payload, signature = value.split(".")
    forged = codec.encode(codec.new("root", now=1000)).split(".")[0]
    assert codec.decode(f"{forged}.{signature}", now=1030) is None
    assert SessionCodec("another-secret-" * 4, 60).decode(value, now=1030) is None
    assert codec.decode("garbage", now=1030) is None
    assert codec.decode(None) is None


def test_session__csrf_token_is_bound_to_the_session() -> None:
    codec = SessionCodec(SECRET, 60)
    one, two = codec.new("ana"), codec.new("ana")
    assert codec.is_valid_csrf(one, codec.csrf_token(one))
    assert not codec.is_valid_csrf(two, codec.csrf_token(one))
    assert not codec.is_valid_csrf(None, codec.csrf_token(one))


def _cookie_header(response: object) -> str:
    headers = response.headers.get_list("set-cookie")  # type: ignore[attr-defined]
    return next(h for h in headers if h.startswith(COOKIE_NAME))


def test_cookie__httponly_samesite_lax_not_secure_by_default(client: TestClient) -> None:
    header = _cookie_header(client.get("/login")).lower()
    assert "httponly" in header and "samesite=lax" in header and "secure" not in header


def test_cookie__secure_when_configured() -> None:
    app = create_app(settings(secure_cookies=True), passwords=FAST_PASSWORDS, today=TODAY,
                     users=InMemoryUserRepository(tuple(USERS.values())))
    with TestClient(app, base_url="https://testserver") as client:
        header = _cookie_header(client.get("/login")).lower()
    assert "; secure" in header and "httponly" in header


def test_login__wrong_password_is_refused_without_a_session(client: TestClient) -> None:
    token = csrf_from(client.get("/login").text)
    response = client.post("/login", data={"username": "ana", "password": "nope",
                                           "csrf_token": token}, follow_redirects=False)
    assert response.status_code == 401
    assert "do not match" in response.text
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


def test_login__needs_the_csrf_token_of_the_login_page(client: TestClient) -> None:
    client.get("/login")
    response = client.post("/login", data={"username": "ana", "password": PASSWORD,
                                           "csrf_token": "forged"}, follow_redirects=False)
    assert response.status_code == 403


def test_login__issues_a_new_session_id(client: TestClient) -> None:
    client.get("/login")
    before = client.cookies[COOKIE_NAME]
    login(client, "ana")
    after = client.cookies[COOKIE_NAME]
    codec = SessionCodec(SECRET, 60)
    old, new = codec.decode(before), codec.decode(after)
    assert old is not None and new is not None
    assert old.sid != new.sid and new.username == "ana" and old.username is None


def test_logout__clears_the_session(client: TestClient,
                                     login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    assert client.post("/logout", data={"csrf_token": csrf},
                       follow_redirects=False).status_code == 303
    assert client.get("/", follow_redirects=False).headers["location"] == "/login"


@pytest.mark.parametrize("how", ["none", "wrong-field", "wrong-header"])
def test_csrf__state_changing_requests_need_the_token(
        client: TestClient, login_as: Callable[[Role], str], how: str) -> None:
    csrf = login_as(Role.THERAPIST)
    data = visit_form(csrf)
    headers = {}
    if how == "none":
        data.pop("csrf_token")
    elif how == "wrong-field":
        data["csrf_token"] = csrf[::-1]
    else:
        data.pop("csrf_token")
        headers = {"X-CSRF-Token": ("y" if csrf[0] == "x" else "x") + csrf[1:]}  # never the token
    response = client.post("/visits/preview", data=data, headers=headers)
    assert response.status_code == 403


def test_csrf__htmx_header_is_accepted(client: TestClient,
                                        login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    data = visit_form(csrf)
    data.pop("csrf_token")
    response = client.post("/visits/preview", data=data,
                           headers={"X-CSRF-Token": csrf, "HX-Request": "true"})
    assert response.status_code == 200


def test_csrf__pages_carry_the_token_in_forms_and_for_htmx(
        client: TestClient, login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.THERAPIST)
    page = client.get("/visits/new").text
    assert f'"X-CSRF-Token": "{csrf}"' in page
    assert page.count(f'name="csrf_token" value="{csrf}"') >= 2  # logout + visit form


def test_htmx__expired_session_redirects_the_browser(client: TestClient) -> None:
    response = client.post("/visits/preview", data={}, headers={"HX-Request": "true"})
    assert response.status_code == 401 and response.headers["HX-Redirect"] == "/login"


def test_headers__csp_and_no_store(client: TestClient) -> None:
    response = client.get("/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["cache-control"] == "no-store"
    static = client.get("/static/vendor/htmx/htmx.min.js")
    assert static.status_code == 200 and "cache-control" not in static.headers


def test_pages__no_inline_script_or_cdn(client: TestClient,
                                        login_as: Callable[[Role], str]) -> None:
    login_as(Role.ADMIN)
    for path in ("/", "/visits/new", "/admin/users", "/visits"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "https://" not in html and "http://" not in html.replace(
            'xmlns="http://www.w3.org/2000/svg"', ""), path


PATIENT_WORDS = ("Lee", "Mark", "Alvarez", "1EG4TE5MK73", "1950-05-01", "I69.351")


def test_privacy__no_patient_data_in_logs_or_urls(
        client: TestClient, login_as: Callable[[Role], str],
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    urls: list[str] = []
    client.event_hooks["request"] = [lambda request: urls.append(str(request.url))]
    csrf = login_as(Role.THERAPIST)
    client.get("/visits/new")
    client.get("/visits/new/_patient", params={"patient": "pt-7c1e2a"})
    client.post("/visits/preview", data=visit_form(csrf))
    saved = client.post("/visits", data={**visit_form(csrf), "action": "draft"})
    assert saved.status_code == 200
    client.post("/api/code-visit", json={"visit_id": "V-9", "patient": {"last_name": "Lee"}},
                headers={"X-CSRF-Token": csrf})
    text = caplog.text + "\n".join(urls)
    assert "visit saved" in caplog.text
    for word in PATIENT_WORDS:
        assert word not in text, word
