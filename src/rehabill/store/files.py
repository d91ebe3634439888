"""Files read and written, and the X12 control numbers of each submitter.

A file is known by its direction ("in"/"out") and SHA-256; storing the same inbound file twice is
refused by a unique constraint, which is what makes re-importing or re-posting a file a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from rehabill.store.bulk import insert_ignore, insert_new
from rehabill.store.models import FileRow, SubmitterCounterRow, utcnow

X12_CONTROL_MAX = 999_999_999  # ISA13 / GS06 are at most nine digits


@dataclass(frozen=True, slots=True)
class StoredFile:
    """A file already on record."""

    id: int
    path: str
    kind: str
    created_at: object


def find_file(session: Session, direction: str, sha256: str) -> StoredFile | None:
    """The file with this content hash, if it was read (or written) before."""
    # Four columns, not the mapped object: the ORM's row set-up cost more than the lookup.
    row = session.execute(select(FileRow.id, FileRow.path, FileRow.kind, FileRow.created_at)
                          .where(FileRow.direction == direction, FileRow.sha256 == sha256)
                          .limit(1)).first()
    return None if row is None else StoredFile(row.id, row.path, row.kind, row.created_at)


def add_file(session: Session, *, direction: str, kind: str, path: str, sha256: str,
             size: int, batch_id: int | None = None,
             interchange_control_number: str = "") -> int | None:
    """Record a file; its id, or None when the same content is already recorded."""
    row = {"direction": direction, "kind": kind, "path": path, "sha256": sha256, "size": size,
           "batch_id": batch_id, "interchange_control_number": interchange_control_number,
           "created_at": utcnow()}
    ids = insert_new(session, FileRow, [row], ("direction", "sha256"))
    return ids.get((direction, sha256))


@dataclass(frozen=True, slots=True)
class ControlNumbers:
    """The next ISA13 and GS06, and the first of ``count`` ST02 numbers."""

    interchange: int
    group: int
    first_transaction: int


def next_control_numbers(session: Session, submitter_id: str, *,
                         transactions: int = 1) -> ControlNumbers:
    """Take the next interchange and group numbers and ``transactions`` ST02 numbers.

    One ``UPDATE ... RETURNING`` takes them, so two batches built at once (even by two
    processes) never share a number; the row lock is held until the unit of work ends.
    """
    insert_ignore(session, SubmitterCounterRow,
               [{"submitter_id": submitter_id, "interchange": 0, "group_number": 0,
                 "transaction_set": 0}], ("submitter_id",))
    t = SubmitterCounterRow
    stmt = (update(t).where(t.submitter_id == submitter_id)
            .values(interchange=t.interchange % X12_CONTROL_MAX + 1,
                    group_number=t.group_number % X12_CONTROL_MAX + 1,
                    transaction_set=t.transaction_set + transactions)
            .returning(t.interchange, t.group_number, t.transaction_set))
    interchange, group, last = session.execute(stmt).one()
    return ControlNumbers(interchange, group, last - transactions + 1)


class ControlNumberForecast:
    """The numbers ``next_control_numbers`` will take next, read without taking them.

    A batch file can then be written before the transaction that makes the batch (which
    takes the numbers and checks they are the ones forecast: another batch made meanwhile
    takes them first). Each ``next`` forecasts one more batch after the ones before.
    """

    def __init__(self, session: Session, *, lock: bool = False) -> None:
        """Read counters from ``session``; ``lock``: lock each counter row read (PostgreSQL
        ``FOR UPDATE``), so the forecast holds for the rest of a writing transaction."""
        self._session = session
        self._lock = lock
        self._counters: dict[str, tuple[int, int, int]] = {}

    def next(self, submitter_id: str, *, transactions: int = 1) -> ControlNumbers:
        """What the next ``next_control_numbers(submitter_id, transactions=...)`` takes."""
        current = self._counters.get(submitter_id)
        if current is None:
            t = SubmitterCounterRow
            query = select(t.interchange, t.group_number, t.transaction_set).where(
                t.submitter_id == submitter_id)
            row = self._session.execute(query.with_for_update() if self._lock else query
                                        ).first()
            current = (row[0], row[1], row[2]) if row is not None else (0, 0, 0)
        interchange, group, last = current
        taken = (interchange % X12_CONTROL_MAX + 1, group % X12_CONTROL_MAX + 1,
                 last + transactions)
        self._counters[submitter_id] = taken
        return ControlNumbers(taken[0], taken[1], last + 1)
