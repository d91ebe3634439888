"""A 277CA that arrives after another claim of its CLM01 was stored answers the claim it is for
(SQLite and PostgreSQL).

The stories: the practice sends a claim and the payer's 277CA accepts it with its claim number;
then the biller corrects it (frequency 7) or bills its balance to the secondary payer, and the
new claim shares the CLM01. A 277CA naming that CLM01 arrives: for the first claim (the payer
acknowledges it again) or for the new one. Before, every 277CA went to the newest claim of the
CLM01, which then took the first claim's status and payer claim number.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from rehabill.services import billing
from rehabill.store import books
from rehabill.store.models import AcknowledgmentRow, ClaimRow, FileRow
from rehabill.x12.ack277 import Ack277, ClaimAck, StatusCode, write_277ca
from tests.services.test_cob import TODAY, _add_secondary, _paid_by_primary
from tests.services.test_late_835 import _corrected, _sent

Factory = sessionmaker[Session]


def _accepted(charge: Decimal) -> StatusCode:
    """STC*A2:20:PR (accepted into adjudication) with the claim's charge in STC04."""
    return StatusCode("A2", "20", "PR", "20260721", "WQ", charge)


def _277ca(tmp_path: Path, name: str, *claims: tuple[str, Decimal, str],
           control: int = 70) -> Path:
    """A payer's 277CA file accepting each (CLM01, charge, REF*1K) claim."""
    ack = Ack277("0001", "LATE", "20260721", "PAYER", "PAYER", "RIVERSIDE", "RIVERSIDE",
                 claims=tuple(ClaimAck(key, (_accepted(charge),), number,
                                       provider_npi="1306849450", service_date="20260302")
                              for key, charge, number in claims))
    path = tmp_path / name
    path.write_text(write_277ca([ack], sender_id="PAYER", receiver_id="RIVERSIDE",
                                control_number=control))
    return path


def _claim(factory: Factory, claim_id: int) -> tuple[str, str]:
    """(status, payer claim number) of a claim."""
    with factory() as s:
        row = books.claim_for_update(s, claim_id)
    assert row is not None
    return str(row.status), str(row.payer_claim_number)


def _acks(factory: Factory, path: Path) -> list[tuple[int | None, str]]:
    """(claim id, REF*1K) of the acknowledgment rows the 277CA file ``path`` made, in order."""
    with factory() as s:
        return [(r.claim_id, r.control_number) for r in s.execute(
            select(AcknowledgmentRow.claim_id, AcknowledgmentRow.control_number)
            .join(FileRow, FileRow.id == AcknowledgmentRow.file_id)
            .where(FileRow.path == str(path)).order_by(AcknowledgmentRow.id))]


def test_read_acknowledgments__the_originals_277ca_after_its_correction_stays_on_it(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    stored = _claim(session_factory, corrected)
    late = _277ca(tmp_path, "late.277", (sent.key, sent.charge, sent.number))

    report = billing.read_acknowledgments(session_factory, late)

    assert not report.unmatched and not report.rejected
    assert _claim(session_factory, corrected) == stored  # no number, still to be sent
    assert _claim(session_factory, sent.claim_id)[1] == sent.number
    assert _acks(session_factory, late) == [(sent.claim_id, sent.number)]


def test_read_acknowledgments__one_277ca_for_the_original_and_the_sent_correction(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """The correction went out; the payer's next 277CA accepts it under a new number and
    repeats the original's acceptance: each claim gets its own."""
    sent = _sent(session_factory, visit_file, tmp_path)
    corrected = _corrected(session_factory, sent)
    billing.build_batch(session_factory, outbox=tmp_path / "outbox-7", today=TODAY,
                        claim_ids=[corrected])
    assert _claim(session_factory, corrected) == ("batched", "")
    both = _277ca(tmp_path, "both.277", (sent.key, sent.charge, sent.number),
                  (sent.key, sent.charge, "ICN-CORRECTED"))

    report = billing.read_acknowledgments(session_factory, both)

    assert report.accepted == (sent.key,)  # the correction; the original was accepted before
    assert _claim(session_factory, corrected) == ("accepted", "ICN-CORRECTED")
    assert _claim(session_factory, sent.claim_id)[1] == sent.number
    assert _acks(session_factory, both) == [(sent.claim_id, sent.number),
                                            (corrected, "ICN-CORRECTED")]


def test_read_acknowledgments__the_primarys_late_277ca_leaves_the_secondary_claim_alone(
        session_factory: Factory, visit_file: Path, tmp_path: Path) -> None:
    """The secondary claim carries the primary's CLM01; the primary payer's 277CA, sent
    again after the secondary claim went out, is the primary claim's."""
    primary = _paid_by_primary(session_factory, visit_file, tmp_path)
    _add_secondary(session_factory, primary)
    billing.move_balance(session_factory, primary, to="secondary", actor="t", today=TODAY)
    with session_factory() as s:
        row = s.execute(select(ClaimRow).where(ClaimRow.prior_claim_id == primary)).scalar_one()
        secondary, key = row.id, row.claim_key
    billing.build_batch(session_factory, outbox=tmp_path / "outbox-2", today=TODAY)
    status, number = _claim(session_factory, primary)
    charge = Decimal("0")
    with session_factory() as s:
        charge = Decimal(str(s.get(ClaimRow, primary).total_charge))  # type: ignore[union-attr]
    late = _277ca(tmp_path, "primary.277", (key, charge, number))

    billing.read_acknowledgments(session_factory, late)

    assert _claim(session_factory, secondary) == ("batched", "")
    assert _claim(session_factory, primary) == (status, number)
    assert _acks(session_factory, late) == [(primary, number)]
    answer = _277ca(tmp_path, "secondary.277", (key, charge, "AETNA-1"), control=71)
    assert billing.read_acknowledgments(session_factory, answer).accepted == (key,)
    assert _claim(session_factory, secondary) == ("accepted", "AETNA-1")
    assert _claim(session_factory, primary) == (status, number)
