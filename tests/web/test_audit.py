"""Every read and write of patient data records an audit event with opaque ids only."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient

from rehabill.web.audit import AuditAction, InMemoryAuditLog
from rehabill.web.users import Role
from tests.web.conftest import MEDICARE_PATIENT, visit_form


def _seen(audit: InMemoryAuditLog) -> list[tuple[str, str, str, str]]:
    return [(e.action.value, e.entity, e.entity_id, e.route) for e in audit.events]


def test_audit__entry_flow_records_reads_and_writes(
        client: TestClient, login_as: Callable[[Role], str], audit: InMemoryAuditLog) -> None:
    csrf = login_as(Role.THERAPIST)
    audit.clear()
    client.get("/visits/new")
    client.get("/visits/new/_patient", params={"patient": MEDICARE_PATIENT})
    client.post("/visits/preview", data=visit_form(csrf))
    location = client.post("/visits", data={**visit_form(csrf), "action": "draft"},
                           follow_redirects=False).headers["location"].split("?")[0]
    visit_id = location.rsplit("/", 1)[1]
    client.get(location)
    client.post("/visits", data={**visit_form(csrf), "visit_id": visit_id, "action": "draft"},
                follow_redirects=False)
    client.get("/visits")
    assert _seen(audit) == [
        ("read", "patient", "list", "/visits/new"),
        ("read", "patient", MEDICARE_PATIENT, "/visits/new/_patient"),
        ("read", "patient", MEDICARE_PATIENT, "/visits/preview"),
        ("create", "visit", visit_id, "/visits"),
        ("read", "visit", visit_id, "/visits/{visit_id}"),
        ("update", "visit", visit_id, "/visits"),
        ("read", "visit", visit_id, "/visits"),
    ]
    assert {e.actor for e in audit.events} == {"ana"}
    assert {e.role for e in audit.events} == {"therapist"}


def test_audit__api_coding_records_processing(
        client: TestClient, login_as: Callable[[Role], str], audit: InMemoryAuditLog) -> None:
    from tests.web.test_roles import VISIT

    csrf = login_as(Role.BILLER)
    audit.clear()
    assert client.post("/api/code-visit", json=VISIT,
                       headers={"X-CSRF-Token": csrf}).status_code == 200
    assert [(e.action, e.entity_id, e.actor) for e in audit.events] == [
        (AuditAction.PROCESS, "V-1", "bea")]


def test_audit__refused_requests_record_nothing(
        client: TestClient, login_as: Callable[[Role], str], audit: InMemoryAuditLog) -> None:
    login_as(Role.BILLER)
    audit.clear()
    client.get("/visits/new")
    client.get("/visits/new/_patient", params={"patient": MEDICARE_PATIENT})
    assert audit.events == ()


def test_audit__log_keeps_the_most_recent_events() -> None:
    from rehabill.web.audit import event

    log = InMemoryAuditLog(maxlen=2)
    for n in range(3):
        log.record(event("ana", "therapist", AuditAction.READ, "visit", f"V-{n}", "/"))
    assert [e.entity_id for e in log.events] == ["V-1", "V-2"]
