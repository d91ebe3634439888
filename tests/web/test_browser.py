"""Browser tests: Playwright drives Debian's Chromium against a real uvicorn on loopback.

Covers logging in, entering a visit and watching units and findings change as minutes change,
a per-code payer's two unit methods, saving a draft and finalizing. Screenshots of each page go
to test-artifacts/screenshots/. Without /usr/bin/chromium the tests skip locally and FAIL when
CI=true (install it with .ci/install-browser; never `playwright install`).
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from rehabill.web import create_app
from rehabill.web.catalog import demo_catalog
from rehabill.web.sql import SqlAuditSink, SqlUserRepository, SqlVisitService
from tests.web.books import make_books
from tests.web.conftest import FAST_PASSWORDS, PASSWORD, TODAY, USERS, settings

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: run .ci/install-browser (apt-get install chromium)"
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def outbox(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("outbox")


@pytest.fixture(scope="module")
def server_url(outbox: Path) -> Iterator[str]:
    """The whole app on the store: users, visits, audit and billing in one SQLite database."""
    _require_chromium()
    books = make_books()
    users = SqlUserRepository(books)
    for user in USERS.values():
        users.add(user)
    catalog = demo_catalog(TODAY)
    app = create_app(settings(), users=users, audit=SqlAuditSink(books), catalog=catalog,
                     visits=SqlVisitService(books, catalog, clock=lambda: TODAY),
                     passwords=FAST_PASSWORDS, today=TODAY, books=books, outbox=outbox)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                           access_log=False))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start within 10 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Any, server_url: str) -> Iterator[Any]:
    context = browser.new_context(base_url=server_url, viewport={"width": 1440, "height": 1000},
                                  device_scale_factor=1)
    tab = context.new_page()
    tab.set_default_timeout(10_000)
    yield tab
    context.close()


def shot(page: Any, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def log_in(page: Any, username: str) -> None:
    page.goto("/")
    assert page.url.endswith("/login")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")


def expect_units(page: Any, units: int) -> None:
    from playwright.sync_api import expect

    expect(page.locator("#preview [data-total-units]")).to_have_text(str(units))


def finding_codes(page: Any) -> set[str]:
    return set(page.locator("#preview [data-findings] [data-code]").evaluate_all(
        "nodes => nodes.map(n => n.dataset.code)"))


def row(page: Any, index: int) -> Any:
    return page.locator("#services [data-service-row]").nth(index)


def test_browser__login_page_then_home(page: Any) -> None:
    from playwright.sync_api import expect

    page.goto("/")
    expect(page.get_by_role("heading", name="Log in to rehabill")).to_be_visible()
    shot(page, "01-login")
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("alert")).to_contain_text("do not match")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/")
    expect(page.get_by_role("heading", name="Good to see you, Ana")).to_be_visible()
    shot(page, "02-home")


def test_browser__units_and_findings_follow_the_minutes(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "ana")
    page.get_by_role("link", name="New visit").click()
    expect(page.locator("#preview")).to_contain_text("No patient is chosen")
    shot(page, "03-visit-new")
    page.get_by_label("Patient", exact=True).select_option(label="Lee, Mark · 05/01/1950")
    expect(page.locator("#coverage")).to_have_value("cv-51d0a3")
    first = row(page, 0)
    first.get_by_label("Code").select_option("97530")
    first.get_by_label("Therapist min").fill("5")
    first.get_by_label("Therapist min").press("Enter")  # must not submit the form
    expect_units(page, 0)
    expect(page.locator('#preview [data-code="entry.minutes_bill_no_unit"]')).to_be_visible()
    first.get_by_label("Therapist min").fill("25")
    expect_units(page, 2)
    assert "entry.minutes_bill_no_unit" not in finding_codes(page)
    first.get_by_label("Goal").fill("independent bed transfers in 4 weeks")
    first.get_by_label("Activity").fill("repeated wheelchair-to-bed transfers")
    first.get_by_label("Assistance").select_option("moderate assist")
    page.get_by_role("button", name="Add service").click()
    second = row(page, 1)
    second.get_by_label("Code").select_option("97110")
    second.get_by_label("Therapist min").fill("10")
    second.get_by_label("Assistant min").fill("13")
    expect_units(page, 3)
    expect(page.locator('#preview [data-code="entry.assistant_not_named"]')).to_be_visible()
    page.get_by_label("Assistant", exact=False).first.select_option(label="Joe Kim, PTA")
    expect(page.locator('#preview [data-code="entry.assistant_not_named"]')).to_have_count(0)
    second.get_by_label("Goal").fill("stand 10 minutes for cooking")
    second.get_by_label("Activity").fill("hip abductor strengthening")
    expect(page.locator("#preview")).to_contain_text("No problems found")
    expect(page.locator("#preview [data-explanation]")).to_contain_text("48 timed minutes")
    shot(page, "04-visit-entry")
    page.get_by_role("button", name="Save draft").click()
    expect(page.get_by_role("status")).to_contain_text("Draft saved")
    shot(page, "05-visit-draft")
    page.get_by_role("link", name="Edit draft").click()
    page.get_by_role("button", name="Finalize visit").click()
    expect(page.get_by_role("status")).to_contain_text("finalized")
    shot(page, "06-visit-final")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Visits").click()
    expect(page.locator("table")).to_contain_text("Lee, Mark")
    shot(page, "07-visits")


def test_browser__per_code_payer_shows_both_methods(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "ana")
    page.goto("/visits/new")
    page.get_by_label("Patient", exact=True).select_option(label="Alvarez, Rosa · 09/12/1984")
    expect(page.locator("#coverage")).to_have_value("cv-a8e217")
    first = row(page, 0)
    first.get_by_label("Code").select_option("97530")
    first.get_by_label("Therapist min").fill("25")
    page.get_by_role("button", name="Add service").click()
    row(page, 1).get_by_label("Code").select_option("97110")
    row(page, 1).get_by_label("Therapist min").fill("10")
    expect(page.locator("#preview [data-units-per-code]")).to_have_text("3 units")
    expect(page.locator("#preview [data-units-cms]")).to_have_text("2 units")
    shot(page, "08-visit-entry-per-code")
    row(page, 1).get_by_role("button", name="Remove this service").click()
    expect(page.locator("#preview [data-units-per-code]")).to_have_text("2 units")


def test_browser__biller_is_kept_out_of_visit_entry(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "bea")
    expect(page.get_by_role("link", name="New visit")).to_have_count(0)
    shot(page, "09-home-biller")
    response = page.goto("/visits/new")
    assert response is not None and response.status == 403
    expect(page.get_by_role("heading", name="You do not have access to this page")).to_be_visible()
    shot(page, "10-forbidden")


def test_browser__admin_adds_a_user(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "root")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    shot(page, "20-admin")
    page.get_by_role("link", name="Add a user").first.click()
    page.get_by_label("Username").fill("sam")
    page.get_by_label("Full name").fill("Sam Ode")
    page.get_by_label("Role").select_option("therapist")
    page.get_by_label("Clinician NPI").fill("1386604229")
    page.get_by_label("Password").fill("a long enough password")
    page.get_by_role("button", name="Add user").click()
    expect(page.get_by_role("status")).to_contain_text("User sam was added")
    shot(page, "11-admin-users")


def test_browser__admin_adds_a_secondary_coverage(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "root")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Admin").click()
    page.get_by_role("link", name="Patient coverages").click()
    page.get_by_label("Patient id").fill("P-0001")
    page.get_by_role("button", name="Find").click()
    page.wait_for_url("**/admin/coverages?patient=P-0001")
    adding = page.locator("details", has_text="Add a coverage")
    if adding.get_attribute("open") is None:
        adding.locator("summary").click()
    form = adding.locator("form")
    expect(form.get_by_label("Order")).to_have_value("secondary")
    form.get_by_label("Payer id").fill("TXMCD")
    form.get_by_label("Payer name").fill("Texas Medicaid")
    form.get_by_label("Member id").fill("512345678")
    form.get_by_label("Plan").fill("medicaid")
    shot(page, "21-admin-coverages")
    form.get_by_role("button", name="Add coverage").click()
    expect(page.get_by_role("status")).to_contain_text("Coverage saved")
    expect(page.get_by_role("table").first).to_contain_text("512345678")
    expect(page.get_by_role("table").first).to_contain_text("Secondary")


def test_browser__billing_pages(page: Any) -> None:
    from playwright.sync_api import expect

    log_in(page, "bea")
    nav = page.get_by_role("navigation", name="Main")
    nav.get_by_role("link", name="Claims").click()
    expect(page.get_by_role("heading", name="Claims", exact=True)).to_be_visible()
    shot(page, "12-claims")
    page.locator("table a[href^='/claims/']").first.click()
    expect(page.get_by_role("heading", name="History")).to_be_visible()
    shot(page, "13-claim-detail")
    nav.get_by_role("link", name="Remittances").click()
    expect(page.get_by_role("heading", name="Suspense")).to_be_visible()
    shot(page, "14-remittances")
    nav.get_by_role("link", name="Worklist").click()
    expect(page.locator("[data-work-item]").first).to_contain_text("CARC 50")
    shot(page, "15-worklist")


def answer_batch(batch: Path, into: Path, seed: int) -> list[Path]:
    """What the simulated payer sends back for an 837P batch: 999, 277CA and 835 files.

    No deductible (so payments are visible) and a 30% chance of a medical-necessity denial
    per line (so the worklist gets work); the seed makes it the same every run.
    """
    from decimal import Decimal

    from rehabill.simulate.payer import DenialRates, PayerSimulator, claims_from_837p, profile_for
    from rehabill.x12.envelope import split_transactions
    from rehabill.x12.p837_reader import read_837p
    from rehabill.x12.tokens import tokenize

    text = batch.read_text("utf-8")
    delimiters, segments, findings = tokenize(text, batch.name)
    assert delimiters is not None
    paths = []
    for n, txn in enumerate(split_transactions(segments, findings, batch.name)):
        claims = claims_from_837p(read_837p(txn, delimiters, batch.name))
        profile = profile_for(claims[0].visit.coverage.plan)
        rates = DenialRates(Decimal(0), Decimal("0.3"), Decimal(0), Decimal(0), Decimal(0))
        sim = PayerSimulator(replace(profile, payer_id=claims[0].visit.coverage.payer_id,
                                     deductible=Decimal(0), rates=rates,
                                     requires_authorization=False), seed=seed + n)
        answer = sim.adjudicate(claims, received=TODAY, group_control_number=txn.group.get(6),
                                set_control_number=txn.control_number, paid_on=TODAY)
        texts = answer.texts(payer_id=claims[0].visit.coverage.payer_id,
                             submitter_id="REHABILL")
        for suffix in ("999", "277", "835"):
            path = into / f"{batch.stem}-{n}.{suffix}"
            path.write_text(texts[suffix], encoding="utf-8")
            paths.append(path)
    return paths


def upload(page: Any, path: Path) -> None:
    from playwright.sync_api import expect

    page.goto("/remittances")
    page.get_by_label("835, 999 or 277CA file").set_input_files(str(path))
    page.get_by_role("button", name="Upload and post").click()
    expect(page.locator("[data-upload-result]")).to_contain_text("read")


def test_browser__billing_cycle(page: Any, outbox: Path, tmp_path: Path) -> None:
    """Scrub, batch, answer with the simulated payer, post, see payments, work a denial."""
    from playwright.sync_api import expect

    log_in(page, "bea")
    page.goto("/claims")
    page.get_by_role("button", name="Scrub new claims").click()
    expect(page.get_by_role("heading", name="Scrub")).to_be_visible()
    page.goto("/claims?status=scrubbed")
    assert page.locator("input[name=claim_id]").count() > 0
    page.get_by_label("Select every claim shown").check()
    expect(page.locator("[data-selected-count]")).not_to_have_text("0")
    shot(page, "16-claims-selected")
    page.get_by_role("button", name="Build batch").click()
    expect(page.get_by_role("heading", name="Batch ready")).to_be_visible()
    link = page.locator("a[data-download]").first
    with page.expect_download() as download:
        link.click()
    assert download.value.suggested_filename.endswith((".x12", ".837", ".txt"))
    shot(page, "17-batch")
    batches = sorted(outbox.rglob("*837*")) or sorted(p for p in outbox.rglob("*") if p.is_file())
    assert batches
    for n, batch in enumerate(batches):
        for answer in answer_batch(batch, tmp_path, seed=11 + n):
            upload(page, answer)
    shot(page, "18-remittance-posted")
    page.goto("/claims?status=paid")
    paid = page.locator("table a[href^='/claims/']")
    assert paid.count() > 0
    paid.first.click()
    expect(page.locator("h1 .status--paid")).to_be_visible()
    expect(page.locator("table").nth(1)).to_contain_text("Payment")
    shot(page, "19-claim-paid")
    page.goto("/worklist")
    item = page.locator("[data-work-item]").filter(has_text="CARC 50").first
    expect(item).to_be_visible()
    item.get_by_role("checkbox").check()
    page.get_by_label("Assign to").select_option("bea")
    page.get_by_label("Status", exact=True).select_option("in_progress")
    page.get_by_label("Note").fill("Asked the payer for the LCD; appeal letter drafted.")
    page.get_by_role("button", name="Apply").click()
    expect(page.get_by_role("status")).to_contain_text("Updated 1 item")
    shot(page, "21-worklist-worked")
    page.locator("[data-work-item]").filter(has_text="appeal letter drafted").first \
        .get_by_role("button", name="Resubmit corrected").click()
    expect(page.get_by_role("status")).to_contain_text("Corrected claim created")
    expect(page.locator(".crumbs")).to_be_visible()
    shot(page, "22-corrected-claim")
    page.goto("/dashboard")
    expect(page.locator("[data-kpi='denial rate']")).to_be_visible()
    shot(page, "23-dashboard")
