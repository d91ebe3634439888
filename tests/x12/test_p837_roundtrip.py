"""Hypothesis round trip: claims → 837P → read back → the same claims; pyx12 accepts each batch."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rehabill.domain import Claim, ClaimLine, Frequency
from rehabill.x12.envelope import split_transactions
from rehabill.x12.p837 import diagnosis_code
from rehabill.x12.p837_reader import read_837p
from rehabill.x12.tokens import tokenize

from .helpers import COMMERCIAL, SPOUSE, SUPERVISOR, render, visit
from .helpers import settings as batch_settings

CODES = ("97110", "97112", "97140", "97530", "97161", "97162", "97116", "97535", "G0283")
MODIFIERS = ("GP", "GO", "GN", "CQ", "CO", "59", "XU", "KX")
DIAGNOSES = ("I69.351", "R26.89", "M54.50", "M25.561", "S83.511A", "Z96.651", "R26.2",
             "M62.81", "G81.91", "R13.12", "F80.2", "Z47.1", "M17.11")
IDS = st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789-", min_size=1, max_size=20)


@st.composite
def claims(draw: st.DrawFn, index: int = 0) -> Claim:
    diagnoses = tuple(draw(st.lists(st.sampled_from(DIAGNOSES), min_size=1, max_size=12,
                                    unique=True)))
    dos = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 365)))
    lines = []
    for number in range(1, draw(st.integers(1, 8)) + 1):
        pointers = tuple(draw(st.lists(st.integers(1, len(diagnoses)), min_size=1, max_size=4,
                                       unique=True)))
        lines.append(ClaimLine(
            number=number,
            code=draw(st.sampled_from(CODES)),
            modifiers=tuple(draw(st.lists(st.sampled_from(MODIFIERS), max_size=4, unique=True))),
            units=draw(st.integers(1, 12)),
            charge=Decimal(draw(st.integers(1, 999_999))) / 100,
            date_of_service=dos,
            diagnosis_pointers=pointers,
            control_number=draw(IDS),
        ))
    dependent = draw(st.booleans())
    v = visit(
        visit_id=f"{draw(IDS)[:15]}{index}",
        date_of_service=dos,
        diagnoses=diagnoses,
        supervising_provider=SUPERVISOR if draw(st.booleans()) else None,
        authorization=None if draw(st.booleans()) else visit().authorization,
        patient=SPOUSE if dependent else visit().patient,
        coverage=COMMERCIAL if dependent else visit().coverage,
    )
    frequency = draw(st.sampled_from(list(Frequency)))
    reference = draw(IDS) if frequency is not Frequency.ORIGINAL else ""
    return Claim(v, tuple(lines), frequency, reference)


@st.composite
def batches(draw: st.DrawFn) -> list[Claim]:
    return [draw(claims(i)) for i in range(draw(st.integers(1, 6)))]


def _read(text: str):  # type: ignore[no-untyped-def]
    delimiters, segments, findings = tokenize(text)
    assert delimiters is not None and findings == []
    envelope: list = []  # type: ignore[type-arg]
    [transaction] = split_transactions(segments, envelope)
    assert envelope == []
    return read_837p(transaction, delimiters)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(batches())
def test_p837__round_trip_gives_back_the_same_claims(batch: list[Claim]) -> None:
    result = _read(render(batch, batch_settings()))  # render() also runs pyx12 on the batch
    assert result.findings == ()
    assert len(result.claims) == len(batch)
    for claim, back in zip(batch, result.claims, strict=True):
        assert back.claim_id == claim.claim_id
        assert back.charge == claim.total_charge
        assert back.frequency == claim.frequency.value
        assert back.original_reference == claim.original_reference
        assert back.diagnoses == tuple(diagnosis_code(d) for d in claim.visit.diagnoses)
        auth = claim.visit.authorization
        assert back.prior_authorization == (auth.number if auth else "")
        assert back.supervising_npi == (SUPERVISOR.npi if claim.visit.supervising_provider
                                        else "")
        assert back.patient_first_name == claim.visit.patient.first_name.upper()
        assert [(ln.code, ln.modifiers, int(ln.units), ln.charge, ln.diagnosis_pointers,
                 ln.date_of_service, ln.control_number) for ln in back.lines] == \
               [(ln.code, ln.modifiers, ln.units, ln.charge, ln.diagnosis_pointers,
                 ln.date_of_service, ln.control_number) for ln in claim.lines]

