"""``rehabill units``: what the minutes of a visit bill, by the 8-minute rule."""

from __future__ import annotations

import typer
from rich.table import Table

from rehabill.cli.common import console, fail, print_json
from rehabill.coding import UnitMethod, UnitResult, compute, modifiers
from rehabill.coding.claims import line_modifiers
from rehabill.domain.visit import Discipline, Service
from rehabill.errors import InputError
from rehabill.reference import Reference, load

MAX_MINUTES_PER_DAY = 24 * 60


def parse_term(term: str, ref: Reference) -> Service:
    """``CODE=MIN``, ``CODE=MIN/ASSISTANT_MIN`` or a bare untimed ``CODE``.

    Raises:
        InputError: unknown code, minutes that are not whole non-negative numbers, a timed code
            without minutes, or assistant minutes on an evaluation.
    """
    code, sep, minutes = term.partition("=")
    code = code.strip().upper()
    info = ref.codes.get(code)
    if info is None:
        raise InputError(f"{code or term!r} is not a therapy code rehabill knows "
                         "(see `rehabill codes`)", location=term)
    if not sep:
        if info.timed:
            raise InputError(f"{code} is a timed code: give its minutes as {code}=MINUTES",
                             location=term)
        return Service(code=code)
    therapist_raw, slash, assistant_raw = minutes.partition("/")
    therapist = _minutes(therapist_raw, term)
    assistant = _minutes(assistant_raw, term) if slash else 0
    if therapist + assistant > MAX_MINUTES_PER_DAY:
        raise InputError(f"{therapist + assistant} minutes is more than a day", location=term)
    if assistant and info.is_evaluation:
        raise InputError(f"{code} is an evaluation; an assistant cannot furnish it",
                         location=term)
    return Service(code=code, minutes=therapist, assistant_minutes=assistant)


def _minutes(raw: str, term: str) -> int:
    text = raw.strip()
    if not (text.isascii() and text.isdigit()):
        raise InputError(f"minutes must be a whole number of 0 or more, not {text!r}",
                         location=term)
    return int(text)


def units_json(result: UnitResult, discipline: Discipline) -> dict[str, object]:
    """The DESIGN.md contract for ``rehabill units --json``."""
    return {
        "method": result.method.value,
        "total_timed_minutes": result.total_timed_minutes,
        "total_units": result.total_units,
        "lines": [
            {"code": line.code, "units": line.units,
             "modifiers": list(line_modifiers(line, discipline)),
             "therapist_minutes": line.therapist_minutes,
             "assistant_minutes": line.assistant_minutes}
            for line in result.lines if line.units > 0
        ],
        "explanation": list(result.explanation),
    }


def register(app: typer.Typer) -> None:
    """Add ``units`` to the app."""

    @app.command("units")
    def units_command(
        terms: list[str] = typer.Argument(..., metavar="TERM...",
                                          help="CODE=MIN, CODE=MIN/ASSISTANT_MIN or CODE."),
        method: UnitMethod = typer.Option(UnitMethod.CMS, "--method",
                                          help="cms (total time) or per-code."),
        discipline: Discipline = typer.Option(Discipline.PT, "--discipline",
                                              help="pt, ot or slp: sets GP/GO/GN and CQ/CO."),
        as_json: bool = typer.Option(False, "--json", help="Print the contract's JSON."),
    ) -> None:
        """Units and modifiers for a day's minutes (CMS Pub 100-04 ch.5 §20.2)."""
        ref = load()
        try:
            services = [parse_term(term, ref) for term in terms]
            day = sum(s.total_minutes for s in services)
            if day > MAX_MINUTES_PER_DAY:
                raise InputError(f"{day} minutes in all is more than a day")
        except InputError as error:
            fail(error)
        split = modifiers.assistant_modifier(discipline) != ""
        result = compute(services, method, ref.codes.is_timed, split_assistant=split)
        data = units_json(result, discipline)
        if as_json:
            print_json(data)
            return
        out = console()
        table = Table(title=f"{result.total_timed_minutes} timed min → "
                            f"{result.timed_units} timed units ({method.value})")
        for column in ("code", "units", "modifiers", "therapist min", "assistant min"):
            table.add_column(column, justify="right" if "min" in column or column == "units"
                             else "left")
        for line in data["lines"]:  # type: ignore[attr-defined]
            table.add_row(line["code"], str(line["units"]), " ".join(line["modifiers"]),
                          str(line["therapist_minutes"]), str(line["assistant_minutes"]))
        out.print(table)
        for note in result.explanation:
            out.print(f"  • {note}")
