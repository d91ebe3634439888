"""Remittances (one per 835 transaction), ledger entries and suspense items.

``add_remittance`` is the guard against posting an ERA twice: ``remittances`` is unique by
payer (TRN03) + trace number (TRN02), and the insert skips a key already stored, also when
another process inserts it at the same moment (PostgreSQL makes the second wait, then skips).
A posting service posts only when it gets an id back (``store.postings`` does this).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from rehabill.store.bulk import (
    COPY_FROM,
    insert_all,
    insert_new,
    insert_rows,
    send_rows,
    table_of,
)
from rehabill.store.models import (
    LedgerEntryRow,
    PayerRow,
    RemittanceRow,
    SuspenseItemRow,
    utcnow,
)
from rehabill.store.types import to_money

LEDGER_KINDS = ("charge", "payment", "adjustment", "patient_responsibility", "reversal",
                "provider_level",
                # rehabill.ledger.EntryKind values (the posting math's own names)
                "contractual", "payer_reduction", "other_adjustment", "provider_adjustment")


def payer_row_id(session: Session, payer_key: str) -> int | None:
    """The row id of the payer with this payer id, or None."""
    return session.scalars(select(PayerRow.id).where(PayerRow.payer_key == payer_key)).first()


def add_remittance(session: Session, *, originator: str, trace_number: str,
                   payment_amount: Decimal, payer_id: int | None = None,
                   file_id: int | None = None, payment_method: str = "",
                   payment_date: date | None = None, payee_npi: str = "") -> int | None:
    """Record an 835 transaction; its id, or None when originator + trace number is stored.

    Args:
        session: the unit of work's session.
        originator: the payer as the 835 names it (TRN03).
        trace_number: the check or EFT trace number (TRN02).
        payment_amount: BPR02.
        payer_id: our payer row, when known.
        file_id: the 835 file's row.
        payment_method: BPR04 (CHK, ACH, NON...).
        payment_date: BPR16.
        payee_npi: the payee's NPI (N1*PE).
    """
    row = {"originator": originator, "trace_number": trace_number, "payer_id": payer_id,
           "file_id": file_id, "payment_amount": payment_amount,
           "payment_method": payment_method, "payment_date": payment_date,
           "payee_npi": payee_npi, "created_at": utcnow()}
    ids = insert_new(session, RemittanceRow, [row], ("originator", "trace_number"))
    return ids.get((originator, trace_number))


def remittance_id(session: Session, originator: str, trace_number: str) -> int | None:
    """The stored remittance with this originator and trace number, if any."""
    query = select(RemittanceRow.id).where(RemittanceRow.originator == originator,
                                           RemittanceRow.trace_number == trace_number)
    return session.scalars(query).first()


def add_ledger_entries(session: Session, entries: Sequence[dict[str, Any]]) -> None:
    """Append ledger entries (columns of ``ledger_entries``; ``kind`` one of LEDGER_KINDS).

    Raises:
        ValueError: for an unknown kind (a programming error, not bad data).
    """
    for entry in entries:
        if entry.get("kind") not in LEDGER_KINDS:
            raise ValueError(f"unknown ledger entry kind {entry.get('kind')!r}")
    now = utcnow()
    insert_all(session, LedgerEntryRow,
               [{"posted_at": now, **entry} for entry in entries])


LEDGER_ROW = ("claim_id", "claim_line_id", "remittance_id", "kind", "group_code", "carc", "rarc",
              "detail", "amount", "trace_number", "segment_number", "posted_at")


def add_ledger_rows(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """Append ledger entries given as tuples in ``LEDGER_ROW`` order (what posting writes).

    Raises:
        ValueError: for an unknown kind (a programming error, not bad data).
    """
    kinds = {row[3] for row in rows}
    if not kinds.issubset(LEDGER_KINDS):
        raise ValueError(f"unknown ledger entry kind {sorted(kinds - set(LEDGER_KINDS))[0]!r}")
    if len(rows) >= COPY_FROM:
        dialect = session.get_bind().dialect.name
        if dialect == "sqlite":
            _add_ledger_rows_sqlite(session, rows)
            return
        if dialect == "postgresql" and all(type(row[8]) is Decimal for row in rows):
            # every amount a Decimal: nothing to convert or refuse, COPY the rows as they are
            send_rows(session, table_of(LedgerEntryRow).name, LEDGER_ROW, rows)
            return
    insert_rows(session, LedgerEntryRow, LEDGER_ROW, rows)


def _add_ledger_rows_sqlite(session: Session, rows: Sequence[tuple[Any, ...]]) -> None:
    """SQLite: the rows straight to the driver, the two converted columns done in one pass.

    Money is bound as text (as ``types.Money`` does, floats refused); the posting time, the
    same for a whole batch, is converted once.
    """
    conn = session.connection()
    table = table_of(LedgerEntryRow)
    stamp = table.c.posted_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    times: dict[Any, Any] = {}

    def time_of(value: Any) -> Any:
        out = times[value] = value if value is None or stamp is None else stamp(value)
        return out

    cells = [(claim, line, remittance, kind, group, carc, rarc, detail,
              str(amount) if type(amount) is Decimal else _amount_text(amount),
              trace, segment, times[posted] if posted in times else time_of(posted))
             for (claim, line, remittance, kind, group, carc, rarc, detail, amount,
                  trace, segment, posted) in rows]
    send_rows(session, table.name, LEDGER_ROW, cells)


#: A ledger entry prepared before its remittance row exists (``postings.ledger_cells``): the
#: ``LEDGER_ROW`` columns but the remittance and the posting time, which one payment's entries
#: share.
LEDGER_CELLS = ("claim_id", "claim_line_id", "kind", "group_code", "carc", "rarc", "detail",
                "amount", "trace_number", "segment_number")


def add_ledger_cells(session: Session, cells: Sequence[tuple[Any, ...]], *,
                     remittance_id: int, amounts_as_text: bool) -> None:
    """Append one payment's ledger entries given as ``LEDGER_CELLS`` tuples.

    On SQLite, with the amounts already text (``amounts_as_text``: as ``types.Money`` binds
    them), the rows go to the driver as they are: the two shared values are written into the
    statement (an integer and a timestamp this function makes), so the writer holding the lock
    does no work per row. Elsewhere they become ``LEDGER_ROW`` tuples for ``add_ledger_rows``.

    Raises:
        ValueError: for an unknown kind (a programming error, not bad data).
    """
    kinds = {cell[2] for cell in cells}
    if not kinds.issubset(LEDGER_KINDS):
        raise ValueError(f"unknown ledger entry kind {sorted(kinds - set(LEDGER_KINDS))[0]!r}")
    now = utcnow()
    if not cells:
        return
    conn = session.connection()
    if not amounts_as_text or conn.dialect.name != "sqlite":
        add_ledger_rows(session, [
            (claim, line, remittance_id, kind, group, carc, rarc, detail,
             Decimal(amount) if amounts_as_text else amount, trace, segment, now)
            for claim, line, kind, group, carc, rarc, detail, amount, trace, segment in cells])
        return
    table = table_of(LedgerEntryRow)
    stamp = table.c.posted_at.type.dialect_impl(conn.dialect).bind_processor(conn.dialect)
    posted = stamp(now) if stamp is not None else now
    if not isinstance(posted, str) or not set(posted) <= _STAMP_CHARACTERS:
        raise TypeError(f"unexpected SQLite timestamp {posted!r}")
    shared = {"remittance_id": str(int(remittance_id)), "posted_at": f"'{posted}'"}
    names = (*LEDGER_CELLS, *shared)
    values = ("?",) * len(LEDGER_CELLS) + tuple(shared.values())
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({', '.join(names)}) "
                         f"VALUES ({', '.join(values)})", list(cells))


_STAMP_CHARACTERS = frozenset("0123456789-:. +T")


def _amount_text(value: Any) -> str | None:
    """What ``types.Money`` binds on SQLite for a value that is not a Decimal."""
    if value is None:
        return None
    if isinstance(value, float | bool) or not isinstance(value, int):
        raise TypeError(f"money must be Decimal or int, not {type(value).__name__}")
    return str(value)


def claim_ledger_total(session: Session, claim_id: int, kind: str | None = None) -> Decimal:
    """The sum of a claim's ledger entries (of one kind, or all)."""
    query = select(func.sum(LedgerEntryRow.amount)).where(LedgerEntryRow.claim_id == claim_id)
    if kind is not None:
        query = query.where(LedgerEntryRow.kind == kind)
    return to_money(session.execute(query).scalar())


def add_suspense_item(session: Session, *, amount: Decimal, reason: str,
                      remittance_id: int | None = None, file_id: int | None = None,
                      claim_key: str = "", trace_number: str = "",
                      segment_number: int | None = None) -> None:
    """Park money (or an 835 claim) that matches no stored claim."""
    insert_all(session, SuspenseItemRow, [{
        "remittance_id": remittance_id, "file_id": file_id, "claim_key": claim_key,
        "amount": amount, "reason": reason, "trace_number": trace_number,
        "segment_number": segment_number, "status": "open", "created_at": utcnow()}])
