"""835 writer: the same model the reader returns, back to 005010X221A1 text.

``read_835_text(write_835(payments))`` gives back equal payments (segment numbers aside), which
the Hypothesis round-trip test holds in place. Segment order follows the 005010X221A1 loop
order: header (BPR, TRN, CUR, REF, DTM), 1000A payer, 1000B payee, then per LX header the
2100 claims (CLP, CAS, NM1, MIA, MOA, REF, DTM, PER, AMT, QTY) with their 2110 lines (SVC, DTM,
CAS, REF, AMT, QTY, LQ), and PLB last.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from decimal import Decimal

from rehabill.x12.envelope import SegmentWriter, open_interchange, write_trailers
from rehabill.x12.remit835 import (
    Adjustment,
    AmountRef,
    ClaimPayment,
    DateRef,
    HeaderGroup,
    Party,
    RefId,
    Remittance,
    ServiceLine,
)
from rehabill.x12.tokens import Delimiters


def amount_text(value: Decimal | None) -> str:
    """An X12 R-type number: plain digits, no exponent ("" for None).

    ``str`` writes amounts (exponent at most 0, not tiny) as ``format(value, "f")`` does, at
    about a third of its cost; only what it writes in scientific notation goes through
    ``format`` (the writers format every amount of every file).
    """
    if value is None:
        return ""
    text = str(value)
    if "E" in text or "e" in text:
        return format(value, "f")
    return text


def write_835(payments: Iterable[Remittance], *, sender_id: str = "PAYER",
              receiver_id: str = "PROVIDER", control_number: int = 1,
              created: datetime | None = None, production: bool = False,
              delimiters: Delimiters | None = None) -> str:
    """One interchange with one functional group (HP) holding each payment as its own ST.

    Args:
        payments: the 835 transactions to write.
        sender_id: ISA06/GS02 (the payer).
        receiver_id: ISA08/GS03 (the provider or clearinghouse).
        control_number: ISA13/GS06; ST02 numbers run from 0001.
        created: the interchange date/time (default 2026-01-01 00:00, for reproducibility).
        production: ISA15 P (else T).
        delimiters: the delimiters to use (default ``* : ^ ~``).

    Returns:
        The file's text.
    """
    return "".join(iter_835_text(payments, sender_id=sender_id, receiver_id=receiver_id,
                                 control_number=control_number, created=created,
                                 production=production, delimiters=delimiters))


def iter_835_text(payments: Iterable[Remittance], *, sender_id: str = "PAYER",
                  receiver_id: str = "PROVIDER", control_number: int = 1,
                  created: datetime | None = None, production: bool = False,
                  delimiters: Delimiters | None = None) -> Iterator[str]:
    """Like ``write_835`` but yields the text claim by claim (for files of any size)."""
    w = open_interchange(sender_id=sender_id, receiver_id=receiver_id,
                         control_number=control_number, created=created or datetime(2026, 1, 1),
                         delimiters=delimiters or Delimiters(), functional_id="HP",
                         version="005010X221A1", production=production)
    sets = 0
    for number, payment in enumerate(payments, start=1):
        sets += 1
        yield from _transaction(w, payment, f"{number:04d}")
    write_trailers(w, group_control_number=control_number, transactions=sets,
                   interchange_control_number=control_number)
    yield w.take()


def _transaction(w: SegmentWriter, p: Remittance, st02: str) -> Iterator[str]:
    w.reset_count()
    w.segment("ST", "835", p.control_number or st02, p.version)
    pay = p.payment
    banking = list(pay.banking) + [""] * (10 - len(pay.banking))
    w.segment("BPR", pay.handling, amount_text(pay.amount), pay.credit_debit, pay.method,
              pay.format, *banking[:10], pay.date)
    t = p.trace
    w.segment("TRN", t.type, t.number, t.originator, t.supplemental)
    if p.currency:
        w.segment("CUR", *p.currency)
    _refs(w, p.refs)
    _dates(w, p.dates)
    _party(w, p.payer)
    _party(w, p.payee)
    groups = {g.number: g for g in p.groups}
    current: str | None = None
    for claim in p.claims:
        if claim.lx != current and claim.lx:
            _group(w, groups.pop(claim.lx, HeaderGroup(claim.lx)))
        current = claim.lx
        _claim(w, claim)
        yield w.take()
    for group in groups.values():
        _group(w, group)
    for plb in p.provider_adjustments:
        pairs: list[str | Sequence[str]] = []
        for item in plb.items:
            pairs.append((item.reason, item.reference))
            pairs.append(amount_text(item.amount))
        w.segment("PLB", plb.provider_id, plb.period_end, *pairs)
    w.segment("SE", str(w.count + 1), p.control_number or st02)
    yield w.take()


def _group(w: SegmentWriter, group: HeaderGroup) -> None:
    w.segment("LX", group.number)
    for summary in group.summaries:
        w.segment(summary[0], *summary[1:])


def _party(w: SegmentWriter, party: Party) -> None:
    if not party.entity:
        return
    w.segment("N1", party.entity, party.name, party.id_qualifier, party.id)
    if party.address:
        w.segment("N3", *party.address)
    if party.city or party.state or party.zip or party.country:
        w.segment("N4", party.city, party.state, party.zip, party.country)
    _refs(w, party.refs)
    for contact in party.contacts:
        w.segment("PER", *contact)


def _refs(w: SegmentWriter, refs: Iterable[RefId]) -> None:
    for ref in refs:
        w.segment("REF", ref.qualifier, ref.value)


def _dates(w: SegmentWriter, dates: Iterable[DateRef]) -> None:
    for item in dates:
        w.repeated("DTM", item.qualifier, item.value)


def _amounts(w: SegmentWriter, seg_id: str, values: Iterable[AmountRef]) -> None:
    for value in values:
        w.segment(seg_id, value.qualifier, amount_text(value.amount))


def _adjustments(w: SegmentWriter, adjustments: Sequence[Adjustment]) -> None:
    """Consecutive adjustments of one group share a CAS, at most six triples each."""
    if not adjustments:
        return
    group = adjustments[0].group
    triples: list[str] = []
    for a in adjustments:
        if a.group != group or len(triples) == 18:
            w.segment("CAS", group, *triples)
            group, triples = a.group, []
        triples += (a.reason, amount_text(a.amount), amount_text(a.quantity))
    w.segment("CAS", group, *triples)


def _claim(w: SegmentWriter, c: ClaimPayment) -> None:
    w.segment("CLP", c.claim_id, c.status, amount_text(c.charge), amount_text(c.paid),
              amount_text(c.patient_responsibility), c.filing_indicator, c.payer_claim_number,
              *c.extra)
    _adjustments(w, c.adjustments)
    for person in c.people:
        w.segment("NM1", person.entity, person.type, person.last, person.first, person.middle,
                  "", person.suffix, person.id_qualifier, person.id)
    if c.inpatient:
        w.segment("MIA", *c.inpatient)
    if c.outpatient:
        w.segment("MOA", *c.outpatient)
    _refs(w, c.refs)
    _dates(w, c.dates)
    for contact in c.contacts:
        w.segment("PER", *contact)
    _amounts(w, "AMT", c.amounts)
    _amounts(w, "QTY", c.quantities)
    for line in c.lines:
        _line(w, line)


def _line(w: SegmentWriter, line: ServiceLine) -> None:
    original = line.original.parts() if line.original is not None else ""
    w.repeated("SVC", line.procedure.parts(), amount_text(line.charge), amount_text(line.paid),
               line.revenue_code, amount_text(line.units), original,
               amount_text(line.original_units))
    _dates(w, line.dates)
    _adjustments(w, line.adjustments)
    _refs(w, line.refs)
    _amounts(w, "AMT", line.amounts)
    _amounts(w, "QTY", line.quantities)
    for remark in line.remarks:
        w.repeated("LQ", remark.qualifier, remark.code)
