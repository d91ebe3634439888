"""The books commands: scrub (database), batch, ack, post, worklist, report, claim."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.services.cycle import simulate_payers, write_visit_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def books(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """A database that went through the whole cycle with the CLI."""
    folder = tmp_path_factory.mktemp("books")
    db = f"sqlite:///{folder / 'books.db'}"
    spec = ClinicSpec(seed=4, start=date(2026, 6, 1), weeks=3, patients=6, mistake_rate=0.2)
    visits = write_visit_file(generate_visits(spec), folder / "visits.json")
    assert _run("import", str(visits), "--db", db)[0] == 0
    code, out = _run("scrub", "--db", db, "--today", "2026-06-30")
    assert code == 1 and "held" in out
    code, out = _run("batch", "--db", db, "--outbox", str(folder / "outbox"),
                     "--today", "2026-06-30", "--json")
    assert code == 0
    files = [Path(f["path"]) for f in json.loads(out)["files"]]
    answers = simulate_payers(files, folder / "inbox")
    acks = [str(p) for p in answers if p.suffix != ".835"]
    code, out = _run("ack", *acks, "--db", db)
    assert code == 0 and "accepted" in out
    code, out = _run("post", *[str(p) for p in answers if p.suffix == ".835"], "--db", db)
    assert code == 0 and "claims posted" in out
    return db, folder


def test_scrub__visit_file_contract_is_unchanged(books: tuple[str, Path]) -> None:
    code, out = _run("scrub", str(books[1] / "visits.json"), "--json", "--today", "2026-06-30")
    assert code == 1
    assert set(json.loads(out)["claims"][0]) >= {"visit_id", "lines", "findings"}


def test_scrub__database_again_is_a_noop(books: tuple[str, Path]) -> None:
    code, out = _run("scrub", "--db", books[0], "--json")
    assert code == 0 and json.loads(out)["coded"] == 0


def test_post__again_says_already_posted(books: tuple[str, Path]) -> None:
    era = next((books[1] / "inbox").glob("*.835"))
    code, out = _run("post", str(era), "--db", books[0])
    assert code == 0 and "already posted; nothing changed" in out


def test_ack__not_x12_exits_2(books: tuple[str, Path]) -> None:
    code, out = _run("ack", str(books[1] / "visits.json"), "--db", books[0])
    assert code == 2 and out.count("\n") == 1 and out.startswith("rehabill: ")


def test_worklist__json_and_csv(books: tuple[str, Path]) -> None:
    code, out = _run("worklist", "--db", books[0], "--json")
    items = json.loads(out)["items"]
    assert code == 0 and items and {"claim", "carc", "next_action", "charge"} <= set(items[0])
    code, out = _run("worklist", "--db", books[0], "--csv")
    assert out.splitlines()[0].startswith("id,claim_id,claim,")
    assert len(out.splitlines()) == len(items) + 1


@pytest.mark.parametrize(("name", "by", "title"), [
    ("aging", "submission", "A/R aging by payer (submission)"),
    ("denials", "payer", "Denials by payer"),
    ("trends", "week", "Payment trends by week"),
    ("kpis", None, "KPIs as of 2026-07-31"),
    ("kx", None, "KX threshold standing"),
])
def test_report__json_csv_svg(books: tuple[str, Path], tmp_path: Path, name: str,
                              by: str | None, title: str) -> None:
    extra = ["--by", by] if by else []
    code, out = _run("report", name, *extra, "--as-of", "2026-07-31", "--db", books[0],
                     "--json", "--csv", str(tmp_path / "r.csv"))
    assert code == 0 and json.loads(out)["title"] == title
    assert (tmp_path / "r.csv").read_text().count("\n") == len(json.loads(out)["rows"]) + 1


def test_report__trends_svg(books: tuple[str, Path], tmp_path: Path) -> None:
    code, _ = _run("report", "trends", "--db", books[0], "--svg", str(tmp_path / "t.svg"))
    assert code == 0 and (tmp_path / "t.svg").read_text().startswith("<svg")


@pytest.mark.parametrize("args", [
    ("report", "profit"), ("report", "aging", "--by", "payer"),
    ("claim", "move-balance", "1", "--to", "moon"), ("batch", "--kind", "ub04"),
])
def test_usage_errors__exit_2_with_one_line(books: tuple[str, Path], args: tuple[str, ...]
                                            ) -> None:
    code, out = _run(*args, "--db", books[0])
    assert code == 2 and out.startswith("rehabill: ") and out.count("\n") == 1


def test_claim__resubmit_unknown_claim_exits_1(books: tuple[str, Path]) -> None:
    code, out = _run("claim", "resubmit", "99999", "--db", books[0])
    assert code == 1 and "no claim 99999" in out


def test_claim__resubmit_void_and_move_balance(books: tuple[str, Path]) -> None:
    code, out = _run("worklist", "--db", books[0], "--json")
    claim_id = str(json.loads(out)["items"][0]["claim_id"])
    code, out = _run("claim", "resubmit", claim_id, "--db", books[0], "--json",
                     "--today", "2026-06-30")
    assert code == 0 and json.loads(out)["frequency"] == "7"
    new_id = str(json.loads(out)["new_claim_id"])
    code, out = _run("claim", "move-balance", new_id, "--to", "patient", "--db", books[0])
    assert code == 0 and "Moved" in out
