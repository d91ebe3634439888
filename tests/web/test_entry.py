"""Visit entry: the live preview follows the minutes; drafts and final visits are saved."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from rehabill.web.users import Role
from tests.web.conftest import PER_CODE_PATIENT, USERS, login, visit_form


def _units(html: str) -> int:
    match = re.search(r"data-total-units>(\d+)<", html)
    assert match, html[:500]
    return int(match.group(1))


def _codes(html: str) -> set[str]:
    return set(re.findall(r'class="finding finding--\w+" data-code="([\w.]+)"', html))


@pytest.fixture
def csrf(login_as: Callable[[Role], str]) -> str:
    return login_as(Role.THERAPIST)


@pytest.mark.parametrize(("minutes", "units", "findings"), [
    (("5",), 0, {"entry.minutes_bill_no_unit"}),
    (("8",), 1, set()),
    (("22",), 1, set()),
    (("23",), 2, set()),
    (("",), 0, {"entry.timed_without_minutes"}),
])
def test_preview__units_and_findings_follow_the_minutes(
        client: TestClient, csrf: str, minutes: tuple[str, ...], units: int,
        findings: set[str]) -> None:
    html = client.post("/visits/preview", data=visit_form(csrf, minutes=minutes)).text
    assert _units(html) == units
    assert _codes(html) == findings


def test_preview__cms_day_total_and_modifiers(client: TestClient, csrf: str) -> None:
    html = client.post("/visits/preview", data=visit_form(
        csrf, codes=("97530", "97110"), minutes=("25", "10"))).text
    assert _units(html) == 2  # 35 min → 2 units by CMS total time
    assert 'data-line="97530"' in html and ">GP<" in html
    assert "35 timed minutes → 2 units" in html
    assert "data-compare" not in html  # Medicare: one method


def test_preview__per_code_payer_shows_both_methods(client: TestClient, csrf: str) -> None:
    html = client.post("/visits/preview", data=visit_form(
        csrf, patient=PER_CODE_PATIENT, codes=("97530", "97110"), minutes=("25", "10"))).text
    assert re.search(r"data-units-per-code>3 units<", html)
    assert re.search(r"data-units-cms>2 units<", html)
    assert "per-code" in html


def test_preview__assistant_minutes_get_cq_and_need_an_assistant(
        client: TestClient, csrf: str) -> None:
    data = visit_form(csrf, codes=("97110",), minutes=("10",), assistant=("13",))
    assert "entry.assistant_not_named" in _codes(client.post("/visits/preview", data=data).text)
    data["assistant_npi"] = "1588667638"
    html = client.post("/visits/preview", data=data).text
    assert ">CQ<" in html and "entry.assistant_not_named" not in _codes(html)


def test_preview__input_problems_are_located_findings(client: TestClient, csrf: str) -> None:
    html = client.post("/visits/preview", data=visit_form(csrf, date_of_service="")).text
    assert "input.invalid_field" in _codes(html) and "date_of_service" in html
    html = client.post("/visits/preview", data=visit_form(csrf, minutes=("2000",))).text
    assert "entry.minutes_over_a_day" in _codes(html)
    html = client.post("/visits/preview", data=visit_form(csrf, patient="pt-unknown")).text
    assert _codes(html) == {"entry.no_patient"}
    html = client.post("/visits/preview", data=visit_form(csrf, codes=("",))).text
    assert _codes(html) == {"entry.no_services"}


def test_preview__unknown_code_is_a_coding_finding(client: TestClient, csrf: str) -> None:
    html = client.post("/visits/preview", data=visit_form(csrf, codes=("97999",))).text
    assert "coding.unknown_code" in _codes(html)


def test_patient_context__shows_coverages_of_the_patient(client: TestClient, csrf: str) -> None:
    html = client.get("/visits/new/_patient", params={"patient": "pt-915a7b"}).text
    assert html.count("<option") == 2 and "secondary" in html
    assert client.get("/visits/new/_patient", params={"patient": "zzz"}).status_code == 200


def test_save__draft_then_finalize(client: TestClient, csrf: str) -> None:
    saved = client.post("/visits", data={**visit_form(csrf), "action": "draft"},
                        follow_redirects=False)
    assert saved.status_code == 303
    path = saved.headers["location"].split("?")[0]
    visit_id = path.rsplit("/", 1)[1]
    assert re.fullmatch(r"V-[0-9A-F]{8}", visit_id)
    detail = client.get(saved.headers["location"]).text
    assert "Draft saved" in detail and "Edit draft" in detail
    edit = client.get(f"{path}/edit").text
    assert f'name="visit_id" value="{visit_id}"' in edit and 'value="25"' in edit
    final = client.post("/visits", data={**visit_form(csrf, minutes=("40",)),
                                         "visit_id": visit_id, "action": "finalize"},
                        follow_redirects=False)
    assert final.headers["location"].startswith(path)
    detail = client.get(path).text
    assert "Final" in detail and "Edit draft" not in detail
    again = client.post("/visits", data={**visit_form(csrf), "visit_id": visit_id,
                                         "action": "draft"})
    assert again.status_code == 409


def test_save__finalize_is_refused_while_errors_remain(client: TestClient, csrf: str) -> None:
    response = client.post("/visits", data={**visit_form(csrf, minutes=("",)),
                                            "action": "finalize"})
    assert response.status_code == 422
    assert "Fix the errors" in response.text
    assert client.get("/visits").text.count('href="/visits/V-') == 0


def test_visits__therapists_see_only_their_own(client: TestClient, csrf: str) -> None:
    saved = client.post("/visits", data={**visit_form(csrf), "action": "draft"},
                        follow_redirects=False).headers["location"].split("?")[0]
    client.cookies.clear()
    login(client, "lin")
    assert client.get(saved).status_code == 404
    assert saved not in client.get("/visits").text
    client.cookies.clear()
    login(client, USERS[Role.ADMIN].username)
    assert client.get(saved).status_code == 200
    assert saved in client.get("/visits").text


def test_new_visit__defaults_to_the_therapists_own_npi(client: TestClient, csrf: str) -> None:
    html = client.get("/visits/new").text
    assert '<option value="1467560003" selected>' in html
    assert "htmx.min.js" in html and 'hx-post="/visits/preview"' in html


def test_admin__adds_a_user_who_can_log_in(client: TestClient,
                                           login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.ADMIN)
    response = client.post("/admin/users", data={
        "csrf_token": csrf, "username": "sam", "password": "another long password",
        "role": "therapist", "display_name": "Sam Ode", "provider_npi": "1386604229"})
    assert "User sam was added" in response.text
    again = client.post("/admin/users", data={
        "csrf_token": csrf, "username": "SAM", "password": "another long password",
        "role": "biller"})
    assert again.status_code == 409
    client.cookies.clear()
    login(client, "sam", "another long password")
    assert client.get("/visits/new").status_code == 200


def test_wiring__scrubber_and_coding_options_are_used_once_each() -> None:
    from dataclasses import replace as dc_replace

    from fastapi.testclient import TestClient as Client

    from rehabill.coding import CodingOptions, UnitMethod
    from rehabill.domain.findings import Finding, Severity
    from rehabill.web import create_app
    from rehabill.web.users import InMemoryUserRepository
    from tests.web.conftest import FAST_PASSWORDS, TODAY, settings

    seen: list[str] = []

    def scrubber(visit: object, result: object) -> tuple[Finding, ...]:
        seen.append("scrub")
        duplicate = Finding("policy.example", Severity.WARNING, "From the payer policy.")
        return (duplicate, dc_replace(duplicate))

    app = create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                     passwords=FAST_PASSWORDS, today=TODAY, scrubber=scrubber,
                     coding_options=lambda v: CodingOptions(method=UnitMethod.PER_CODE))
    with Client(app) as client:
        csrf = login(client, "ana")
        html = client.post("/visits/preview", data=visit_form(
            csrf, codes=("97530", "97110"), minutes=("25", "10"))).text
    assert seen == ["scrub"]
    assert html.count('data-code="policy.example"') == 1
    assert "data-units-per-code>3 units<" in html  # Medicare patient, per-code options given
