"""The clerk's shortcuts change nothing: the same 999/277CA/835 files read into two copies of
the same books, one the plain way, give the same rows in every table, on SQLite and
PostgreSQL.

"The plain way" is posting with the claims read inside the posting transaction
(``SqlPostingStore.adopt`` refused), as posting did before it read them in a read-only
transaction first.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta, tzinfo
from pathlib import Path

import pytest
from sqlalchemy import DateTime, inspect, text

from rehabill.services import billing
from rehabill.services.cycle import simulate_payers, write_visit_file
from rehabill.services.imports import import_file
from rehabill.simulate.clinic import ClinicSpec, generate_visits
from rehabill.store import make_engine, make_session_factory, migrate
from rehabill.store.postings import SqlPostingStore

TODAY = date(2026, 7, 3)


def _bill(url: str, visits: Path, outbox: Path) -> list[Path]:
    engine = make_engine(url)
    migrate(engine)
    factory = make_session_factory(engine, immediate=True)
    import_file(factory, visits, actor="t")
    billing.scrub_stored_claims(factory, today=TODAY, actor="t")
    batch = billing.build_batch(factory, outbox=outbox, today=TODAY, actor="t")
    engine.dispose()
    return [Path(f.path) for f in batch.files]


def _answer(url: str, inbox: list[Path]) -> dict[str, list[tuple[object, ...]]]:
    """Read the acknowledgments and post the 835s; every table's rows, but for the timestamp
    columns (they say when, not what)."""
    engine = make_engine(url)
    factory = make_session_factory(engine, immediate=True)
    for path in inbox:
        if path.suffix in (".999", ".277"):
            billing.read_acknowledgments(factory, path, actor="clerk")
    for path in inbox:
        if path.suffix == ".835":
            assert not billing.post_remittance(factory, path, actor="clerk").refused
    rows = {}
    with engine.connect() as conn:
        look = inspect(conn)
        for table in sorted(look.get_table_names()):
            names = [f'"{c["name"]}"' for c in look.get_columns(table)
                     if not isinstance(c["type"], DateTime)]
            query = text(f"SELECT {', '.join(names)} FROM {table}")
            rows[table] = sorted((tuple(row) for row in conn.execute(query)), key=repr)
    engine.dispose()
    return rows


class _Clock(datetime):
    """The batches' creation time (ISA09/10, GS04/05, BHT04/05, and so the files' hashes)
    held still, so both books get the same files even when their runs straddle a minute."""

    @classmethod
    def now(cls, tz: tzinfo | None = None) -> _Clock:
        return cls(2026, 7, 3, 9, 30)


def test_answers__read_before_the_transaction_give_the_same_books(
        two_urls: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(billing, "datetime", _Clock)
    visits = generate_visits(ClinicSpec(seed=11, start=date(2026, 5, 4), weeks=8, patients=12,
                                        mistake_rate=0.1))
    path = write_visit_file([v for v in visits if v.date_of_service < TODAY - timedelta(3)],
                            tmp_path / "visits.json")
    plain_url, fast_url = two_urls
    sent = _bill(plain_url, path, tmp_path / "out")
    files = {p: p.read_bytes() for p in sent}
    assert _bill(fast_url, path, tmp_path / "out") == sent
    assert {p: p.read_bytes() for p in sent} == files  # the same batches, byte for byte
    inbox = simulate_payers(sent, tmp_path / "in", seed=5, not_after=TODAY, received=TODAY,
                            paid_on=TODAY + timedelta(days=14))
    assert {p.suffix for p in inbox} == {".999", ".277", ".835"}
    fast = _answer(fast_url, inbox)
    adopted = SqlPostingStore.adopt
    refused: list[bool] = []

    def refuse(self: SqlPostingStore, *args: object) -> bool:
        refused.append(adopted(self, *args))  # type: ignore[arg-type]
        self.adopted, self.adopted_keys = {}, frozenset()
        return False

    monkeypatch.setattr(SqlPostingStore, "adopt", refuse)
    plain = _answer(plain_url, inbox)
    assert refused and all(refused)
    assert fast["ledger_entries"] and fast["claim_status_history"]
    assert plain == fast
