"""Claims, worklist, remittances and admin pages on a seeded practice database."""

from __future__ import annotations

import re
from collections.abc import Callable

from fastapi.testclient import TestClient

from rehabill.simulate.clinic import generate_visits
from rehabill.web.audit import InMemoryAuditLog
from rehabill.web.users import Role
from tests.web.books import SPEC


def test_claims__list_filters_by_status_and_payer(client: TestClient,
                                                  login_as: Callable[[Role], str]) -> None:
    login_as(Role.BILLER)
    every = client.get("/claims")
    assert every.status_code == 200
    rows = re.findall(r'href="/claims/(\d+)"', every.text)
    assert len(rows) >= 5
    none = client.get("/claims?status=paid")
    assert re.findall(r'href="/claims/(\d+)"', none.text) == []
    medicare = client.get("/claims?payer=MEDICARE&date_from=2026-01-01&date_to=2026-12-31")
    assert medicare.status_code == 200
    assert "Medicare" in medicare.text


def test_claims__detail_shows_lines_history_and_worklist(client: TestClient,
                                                         login_as: Callable[[Role], str],
                                                         audit: InMemoryAuditLog) -> None:
    login_as(Role.BILLER)
    page = client.get("/claims/1")
    assert page.status_code == 200
    assert "Lines" in page.text and "History" in page.text and "Ledger" in page.text
    assert "Draft" in page.text
    assert "not medically necessary" in page.text
    assert ("bea", "read", "claim", "1") in {(e.actor, e.action.value, e.entity, e.entity_id)
                                             for e in audit.events}
    assert client.get("/claims/999999").status_code == 404


def test_worklist__denial_in_plain_words_with_carc_text(client: TestClient,
                                                         login_as: Callable[[Role], str],
                                                         audit: InMemoryAuditLog) -> None:
    login_as(Role.BILLER)
    page = client.get("/worklist")
    assert page.status_code == 200
    assert "CARC 50" in page.text and "N115" in page.text
    assert "Appeal" in page.text
    assert any(e.entity == "worklist_item" for e in audit.events)


def test_remittances__suspense_says_why(client: TestClient,
                                        login_as: Callable[[Role], str]) -> None:
    login_as(Role.BILLER)
    page = client.get("/remittances")
    assert page.status_code == 200
    assert "No claim with this id" in page.text and "$42.10" in page.text


def test_admin__payer_policy_can_be_chosen(client: TestClient,
                                           login_as: Callable[[Role], str]) -> None:
    csrf = login_as(Role.ADMIN)
    page = client.get("/admin")
    assert page.status_code == 200 and "Payers and policies" in page.text
    bad = client.post("/admin/payers/1/policy", data={"csrf_token": csrf, "policy": "nope"})
    assert bad.status_code == 422
    ok = client.post("/admin/payers/1/policy",
                     data={"csrf_token": csrf, "policy": "medicare_part_b"})
    assert ok.status_code == 200 and "Payer policy saved" in ok.text


def test_billing_pages__links_carry_ids_not_names(client: TestClient,
                                                  login_as: Callable[[Role], str]) -> None:
    login_as(Role.ADMIN)
    names = {v.patient.last_name.lower() for v in generate_visits(SPEC)}
    names |= {v.patient.id.lower() for v in generate_visits(SPEC)}
    for path in ("/claims", "/worklist", "/remittances", "/admin", "/claims/1"):
        text = client.get(path).text
        hrefs = re.findall(r'(?:href|action)="([^"]+)"', text)
        assert hrefs
        assert any(name in text.lower() for name in names) or path in ("/admin", "/remittances")
        for href in hrefs:
            assert re.fullmatch(r"[#/A-Za-z0-9_.?=&%:-]*", href), href
            assert not any(name in href.lower() for name in names), href


def test_api__claims_and_worklist_json(client: TestClient,
                                       login_as: Callable[[Role], str]) -> None:
    login_as(Role.BILLER)
    claims = client.get("/api/claims?limit=3").json()
    assert claims["ok"] and len(claims["claims"]) == 3
    assert isinstance(claims["claims"][0]["charge"], str)
    detail = client.get(f"/api/claims/{claims['claims'][0]['id']}").json()
    assert detail["claim"]["lines"]
    work = client.get("/api/worklist").json()
    assert work["items"][0]["carc"] == "50" and work["items"][0]["carc_text"]


def test_worklist__bulk_assign_note_and_status(client: TestClient,
                                               login_as: Callable[[Role], str],
                                               audit: InMemoryAuditLog) -> None:
    csrf = login_as(Role.BILLER)
    empty = client.post("/worklist/bulk", data={"csrf_token": csrf, "note": "x"})
    assert empty.status_code == 422
    done = client.post("/worklist/bulk", data={"csrf_token": csrf, "item_id": ["1"],
                                               "assignee": "bea", "status": "in_progress",
                                               "note": "Called payer, ref 88"},
                       follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/worklist?updated=1"
    mine = client.get("/worklist?mine=1")
    assert "Called payer, ref 88" in mine.text and "Updated" not in mine.text
    assert "In progress" in mine.text
    assert ("update", "worklist_item", "1") in {(e.action.value, e.entity, e.entity_id)
                                                for e in audit.events}
    api = client.post("/api/worklist/1", json={"status": "open"},
                      headers={"X-CSRF-Token": csrf}).json()
    assert api["items"][0]["status"] == "open"
    assert client.post("/api/worklist/99999", json={},
                       headers={"X-CSRF-Token": csrf}).status_code == 404
