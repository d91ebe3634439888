"""``run_months``: payers and a posting clerk in their own processes change nothing in the books."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import DateTime, func, inspect, select, text

from rehabill.errors import InputError
from rehabill.services import cycle
from rehabill.services.cycle import Month, run_months, write_visit_file
from rehabill.services.imports import PreparedFile, import_file
from rehabill.services.uow import unit_of_work
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.facts import claim_facts
from rehabill.store.models import BatchRow


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


#: Tables the billers and the clerks both write: their row ids interleave as the processes go,
#: so those rows are compared without their ids, and a file by its path (an 837P's content,
#: so its hash, holds the time it was written, as do the answers that echo it).
SHARED_TABLES = frozenset({"files", "claim_status_history", "findings", "audit_events",
                           "worklist_items", "suspense_items"})


def _tables(url: str, work: Path) -> dict[str, list[tuple[object, ...]]]:
    """Every table's rows, but for the timestamp columns (they say when, not what)."""
    engine = make_engine(url)
    rows: dict[str, list[tuple[object, ...]]] = {}
    with engine.connect() as conn:
        paths = dict(conn.execute(text("SELECT id, path FROM files")).all())
        look = inspect(conn)
        for table in sorted(look.get_table_names()):
            names = [c["name"] for c in look.get_columns(table)
                     if not isinstance(c["type"], DateTime)
                     and not (c["name"] == "id" and table in SHARED_TABLES)
                     and not (c["name"] == "sha256" and table == "files")]
            columns = ", ".join(f'"{n}"' for n in names)
            query = text(f"SELECT {columns} FROM {table}")
            def plain(name: str, value: object) -> object:
                if name.endswith("file_id") and value is not None:
                    value = paths[value]
                if isinstance(value, dict | list):  # JSON columns, as PostgreSQL gives them
                    value = json.dumps(value, sort_keys=True)
                return value.replace(str(work), "<work>") if isinstance(value, str) else value

            rows[table] = sorted((tuple(plain(n, v) for n, v in zip(names, row, strict=True))
                                  for row in conn.execute(query)), key=repr)
    engine.dispose()
    return rows


def _run(url: str, months: list[Month], work: Path) -> None:
    engine = make_engine(url)
    migrate(engine)
    result = run_months(make_session_factory(engine), months, outbox=work / "out",
                        inbox=work / "in")
    assert result.posts and all(not p.refused for p in result.posts)
    engine.dispose()


def test_run_months__the_next_file_prepared_in_the_helper_gives_the_same_books(
        two_urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The billers' helper process parses the next month's file while this one scrubs: the
    books are the same, table by table, as when each file is prepared as it is imported."""
    months = _months(tmp_path)
    monkeypatch.setattr(cycle, "PREPARE_AHEAD_BYTES", 10**12)
    _run(two_urls[0], months, tmp_path / "in_turn")
    monkeypatch.setattr(cycle, "PREPARE_AHEAD_BYTES", 0)
    prepared: list[object] = []
    result = cycle._Ahead.result

    def counted(self: cycle._Ahead, factory: cycle.Factory) -> PreparedFile:
        prepared.append(self.path)
        return result(self, factory)

    monkeypatch.setattr(cycle._Ahead, "result", counted)
    _run(two_urls[1], months, tmp_path / "ahead")
    assert prepared == [m.visit_file for m in months[1:]]
    in_turn = _tables(two_urls[0], tmp_path / "in_turn")
    ahead = _tables(two_urls[1], tmp_path / "ahead")
    assert in_turn["visits"] and in_turn["ledger_entries"]
    assert list(in_turn) == list(ahead)
    for table, rows in in_turn.items():
        assert ahead[table] == rows, table


def test_run_months__a_bad_next_file_prepared_in_the_helper_raises_as_its_import_does(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An unusable file raises its ``InputError`` when its month is imported (after the month
    before is billed), as the import raises it, not the helper's wrapped failure."""
    months = _months(tmp_path)
    bad = tmp_path / "m7.json"
    bad.write_text('{"resourceType": "Patient"}')
    monkeypatch.setattr(cycle, "PREPARE_AHEAD_BYTES", 0)
    url = f"sqlite:///{tmp_path / 'books.db'}"
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine)
    with pytest.raises(InputError) as raised:
        run_months(factory, [months[0], replace(months[1], visit_file=bad)],
                   outbox=tmp_path / "out", inbox=tmp_path / "in")
    with pytest.raises(InputError) as plain:
        import_file(factory, bad)
    assert type(raised.value) is type(plain.value) and raised.value.exit_code == 2
    assert (str(raised.value), raised.value.location) == (str(plain.value), plain.value.location)
    assert raised.value.__cause__ is None
    with unit_of_work(factory) as session:
        assert session.scalar(select(func.count()).select_from(BatchRow))  # month one went
    engine.dispose()
