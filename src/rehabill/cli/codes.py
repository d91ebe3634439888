"""``rehabill codes``: what rehabill knows about a therapy code, as of a date."""

from __future__ import annotations

from datetime import date

import typer

from rehabill.cli.common import console, fail, print_json
from rehabill.domain.money import format_amount
from rehabill.errors import NotFoundError
from rehabill.reference import Reference, load


def code_facts(code: str, on: date, ref: Reference) -> dict[str, object]:
    """Everything known about ``code`` on ``on``: timing, discipline, MUE, NCCI, fee.

    Raises:
        NotFoundError: for a code not in the catalog.
    """
    info = ref.codes.get(code)
    if info is None:
        raise NotFoundError(f"{code} is not a therapy code rehabill knows")
    mue = ref.mue.get(code, on)
    fee = ref.fees.get(code, on)
    partners = []
    for edit in sorted(ref.ncci.partners(code, on), key=lambda e: (e.column1, e.column2)):
        other = edit.column2 if edit.column1 == code else edit.column1
        partners.append({"code": other, "column": 1 if edit.column1 == code else 2,
                         "modifier_indicator": edit.modifier_indicator,
                         "rationale": edit.rationale})
    return {
        "code": code,
        "label": info.label,
        "timed": info.timed,
        "disciplines": sorted(d.value for d in info.disciplines),
        "pfs_status": info.pfs_status,
        "as_of": on.isoformat(),
        "mue": None if mue is None else {"value": mue.value, "mai": mue.mai,
                                         "meaning": mue.mai_meaning},
        "ncci_partners": partners,
        "national_amount": None if fee is None else {
            "year": fee.year, "non_facility": format_amount(fee.nonfac_amount),
            "facility": format_amount(fee.fac_amount),
            "conversion_factor": str(fee.conversion_factor)},
    }


def register(app: typer.Typer) -> None:
    """Add ``codes`` to the app."""

    @app.command("codes")
    def codes_command(
        codes: list[str] = typer.Argument(None, help="Codes to show; none lists them all."),
        on: str = typer.Option("", "--date", help="As of this date (YYYY-MM-DD; default today)."),
        as_json: bool = typer.Option(False, "--json", help="Print JSON."),
    ) -> None:
        """What rehabill knows about therapy codes (timed?, MUE, NCCI pairs, national amount)."""
        ref = load()
        try:
            when = date.fromisoformat(on) if on else date.today()
        except ValueError:
            typer.echo(f"rehabill: --date {on!r} is not YYYY-MM-DD", err=True)
            raise typer.Exit(2) from None
        if not codes:
            rows = [{"code": c.code, "timed": c.timed, "label": c.label}
                    for c in ref.codes.all()]
            if as_json:
                print_json(rows)
            else:
                for row in rows:
                    typer.echo(f"{row['code']}  {'timed  ' if row['timed'] else 'untimed'}  "
                               f"{row['label']}")
            return
        try:
            facts = [code_facts(c.strip().upper(), when, ref) for c in codes]
        except NotFoundError as error:
            fail(error)
        if as_json:
            print_json(facts)
            return
        for fact in facts:
            _print_fact(fact)


def _print_fact(fact: dict[str, object]) -> None:
    out = console()
    out.print(f"[bold]{fact['code']}[/bold]  {fact['label']}")
    out.print(f"  {'timed (15-minute units)' if fact['timed'] else 'untimed (1 unit/session)'}"
              f"; disciplines {', '.join(fact['disciplines'])}; "  # type: ignore[arg-type]
              f"PFS status {fact['pfs_status']}")
    mue = fact["mue"]
    out.print(f"  MUE as of {fact['as_of']}: " + (
        f"{mue['value']} (MAI {mue['mai']}: {mue['meaning']})" if isinstance(mue, dict)
        else "no MUE data for that date"))
    fee = fact["national_amount"]
    out.print("  national amount: " + (
        f"${fee['non_facility']} non-facility, ${fee['facility']} facility ({fee['year']}, "
        f"CF {fee['conversion_factor']})" if isinstance(fee, dict)
        else "no fee schedule for that year"))
    partners = fact["ncci_partners"]
    assert isinstance(partners, list)
    if not partners:
        out.print("  NCCI: no therapy pairs in force")
    for p in partners:
        role = "column 1 (pays)" if p["column"] == 1 else "column 2 (bundled)"
        out.print(f"  NCCI with {p['code']}: {fact['code']} is {role}, modifier indicator "
                  f"{p['modifier_indicator']} — {p['rationale']}")
