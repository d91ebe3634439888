"""``rehabill import`` and ``rehabill db upgrade`` (exit codes 0/1/2, --json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from rehabill.cli.main import build_app
from rehabill.store import head_revision

DATA = Path(__file__).parents[1] / "data" / "import"


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'books.db'}"


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(build_app(), list(args))
    return result.exit_code, result.output


def test_import__rejected_visit_exits_1_and_names_its_location(db: str) -> None:
    code, out = _run("import", str(DATA / "visits.json"), "--db", db)
    assert code == 1
    assert "visit V-1003 / services[0].minutes: input.invalid_field" in out
    assert "3 visits: 2 imported, 0 already stored, 1 rejected." in out


def test_import__again_is_a_noop_exit_0(db: str) -> None:
    _run("import", str(DATA / "visits.json"), "--db", db)
    code, out = _run("import", str(DATA / "visits.json"), "--db", db, "--json")
    data = json.loads(out)
    assert code == 0
    assert data["already_imported"] is True and data["imported"] == 0


def test_import__json_report(db: str) -> None:
    code, out = _run("import", str(DATA / "visits.csv"), "--db", db, "--json")
    data = json.loads(out)
    assert code == 1
    assert (data["kind"], data["visits"], data["imported"], data["rejected"]) == \
        ("visits-csv", 3, 2, ["C-3"])
    assert data["findings"][0]["location"]["field"] == "row 6, column service.minutes"


@pytest.mark.parametrize("content", [b"{oops", b"[1, 2"])
def test_import__unusable_file_exits_2(db: str, tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    code, out = _run("import", str(path), "--db", db)
    assert code == 2
    assert "not valid JSON" in out


def test_import__missing_file_exits_2(db: str, tmp_path: Path) -> None:
    code, out = _run("import", str(tmp_path / "nope.json"), "--db", db)
    assert code == 2 and "cannot read the file" in out


def test_db_upgrade__creates_then_reports_head(db: str) -> None:
    code, out = _run("db", "upgrade", "--db", db)
    head = head_revision()
    assert code == 0 and f"revision {head} (was empty)" in out
    code, out = _run("db", "upgrade", "--db", db)
    assert f"(was {head})" in out


def test_db_upgrade__unusable_url_exits_2() -> None:
    code, out = _run("db", "upgrade", "--db", "nosuchdb://x")
    assert code == 2 and "database" in out


def test_db__default_url_comes_from_the_environment(tmp_path: Path,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REHABILL_DATABASE_URL", f"sqlite:///{tmp_path / 'env.db'}")
    code, _ = _run("db", "upgrade")
    assert code == 0 and (tmp_path / "env.db").exists()


@pytest.mark.postgres
def test_import__on_postgresql_from_an_empty_database(pg_fresh_url: str) -> None:
    code, out = _run("import", str(DATA / "fhir_bundle.json"), "--db", pg_fresh_url, "--json")
    assert code == 1 and json.loads(out)["imported"] == 1
    code, out = _run("import", str(DATA / "fhir_bundle.json"), "--db", pg_fresh_url)
    assert code == 0 and "already imported" in out
