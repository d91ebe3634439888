"""Billing actions through the pages on a fresh practice: scrub, CMS-1500 batch and download,
uploads refused whole, rescrub, dashboard and reports API."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from rehabill.web import create_app
from rehabill.web.actions import transaction_kind
from rehabill.web.audit import InMemoryAuditLog
from rehabill.web.users import InMemoryUserRepository
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, TODAY, USERS, login, settings


@pytest.fixture(scope="module")
def audit() -> InMemoryAuditLog:
    return InMemoryAuditLog()


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, audit: InMemoryAuditLog) -> FastAPI:
    return create_app(settings(), users=InMemoryUserRepository(tuple(USERS.values())),
                      audit=audit, passwords=FAST_PASSWORDS, today=TODAY, books=make_books(),
                      outbox=tmp_path_factory.mktemp("books") / "outbox")


@pytest.fixture(scope="module")
def biller(app: FastAPI) -> Iterator[tuple[TestClient, str]]:
    with TestClient(app) as client:
        yield client, login(client, "bea")


def test_actions__scrub_then_cms1500_batch_downloads_a_pdf(
        biller: tuple[TestClient, str], audit: InMemoryAuditLog) -> None:
    client, csrf = biller
    scrubbed = client.post("/claims/scrub", data={"csrf_token": csrf})
    assert scrubbed.status_code == 200 and "Scrub finished" in scrubbed.text
    ready = client.get("/claims?status=scrubbed").text
    ids = re.findall(r'name="claim_id" value="(\d+)"', ready)
    assert ids
    page = client.post("/claims/batch", data={"csrf_token": csrf, "claim_id": ids[:3],
                                              "kind": "CMS-1500"})
    assert page.status_code == 200 and "Batch ready" in page.text
    link = re.search(r'href="(/files/\d+)"', page.text)
    assert link
    pdf = client.get(link.group(1))
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert "attachment" in pdf.headers["content-disposition"]
    assert client.get("/claims?status=batched").text.count('name="claim_id"') == 3
    assert ("update", "claim", ids[0]) in {(e.action.value, e.entity, e.entity_id)
                                           for e in audit.events}


def test_actions__batch_needs_ready_claims(biller: tuple[TestClient, str]) -> None:
    client, csrf = biller
    assert client.post("/claims/batch", data={"csrf_token": csrf}).status_code == 422
    batched = re.findall(r'name="claim_id" value="(\d+)"',
                         client.get("/claims?status=batched").text)
    again = client.post("/claims/batch", data={"csrf_token": csrf, "claim_id": batched})
    assert again.status_code == 422 and "ready" in again.text
    assert client.post(f"/claims/{batched[0]}/rescrub",
                       data={"csrf_token": csrf}).status_code == 409


def test_actions__upload_that_is_not_x12_is_refused(biller: tuple[TestClient, str]) -> None:
    client, csrf = biller
    response = client.post("/remittances", data={"csrf_token": csrf},
                           files={"file": ("era.835", b"hello", "text/plain")})
    assert response.status_code == 422 and "not an 835" in response.text


def test_actions__dashboard_and_reports_api(biller: tuple[TestClient, str]) -> None:
    client, _ = biller
    page = client.get("/dashboard")
    assert page.status_code == 200 and page.text.count("<svg") == 3
    assert 'data-kpi="denial rate"' in page.text
    data = client.get("/api/reports").json()
    assert data["ok"] and data["ar_aging"]["columns"][0] == "payer"
    assert {r[0] for r in data["kpis"]["rows"]} >= {"clean-claim rate", "days in A/R"}


def test_actions__transaction_kind_reads_st01(tmp_path: Path) -> None:
    isa = ("ISA*00*          *00*          *ZZ*A              *ZZ*B              *260302*1200*^"
           "*00501*000000001*0*P*:~")
    assert transaction_kind(isa + "GS*HP*A*B*20260302*1200*1*X*005010X221A1~ST*835*0001~") \
        == "835"
    assert transaction_kind("not x12") == ""
