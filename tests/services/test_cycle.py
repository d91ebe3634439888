"""``run_months``: payers and a posting clerk in their own processes change nothing in the books."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from rehabill.services.cycle import Month, run_months, write_visit_file
from rehabill.services.uow import unit_of_work
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.facts import claim_facts


def _months(tmp_path: Path) -> list[Month]:
    visits = generate_visits(ClinicSpec(seed=8, start=date(2026, 5, 4), weeks=8, patients=8,
                                        mistake_rate=0.1))
    out = []
    for number, month in enumerate((5, 6)):
        part = [v for v in visits if v.date_of_service.month == month]
        end = max(v.date_of_service for v in part)
        out.append(Month(write_visit_file(part, tmp_path / f"m{month}.json"),
                         end + timedelta(days=3), received=end + timedelta(days=3),
                         paid_on=end + timedelta(days=17), seed=3 + number))
    return out


def _books(url: str, months: list[Month], work: Path, overlap: bool) -> list[object]:
    engine = make_engine(url)
    migrate(engine)
    result = run_months(make_session_factory(engine), months, outbox=work / "out",
                        inbox=work / "in", overlap=overlap)
    assert result.posts and all(not p.refused for p in result.posts)
    assert ("waiting for payers" in result.timings) is overlap
    with unit_of_work(make_session_factory(engine)) as session:
        facts = sorted(claim_facts(session), key=lambda f: f.claim_id)
    engine.dispose()
    return list(facts)


def test_run_months__payers_in_their_own_process_give_the_same_books(tmp_path: Path) -> None:
    months = _months(tmp_path)
    one = _books(f"sqlite:///{tmp_path / 'turn.db'}", months, tmp_path / "turn", False)
    two = _books(f"sqlite:///{tmp_path / 'overlap.db'}", months, tmp_path / "overlap", True)
    assert one and one == two


@pytest.mark.postgres
def test_run_months__on_postgresql_the_clerk_posts_beside_the_billers(tmp_path: Path,
                                                                     pg_fresh_url: str) -> None:
    months = _months(tmp_path)
    one = _books(f"sqlite:///{tmp_path / 'turn.db'}", months, tmp_path / "turn", False)
    two = _books(pg_fresh_url, months, tmp_path / "pg", True)
    assert one and one == two
