"""``rehabill x12``: write 837P batches from visit files, read any X12 file we know.

``rehabill x12 837p VISITS.json -o OUT.x12`` codes and scrubs every visit, holds back the ones
with error findings (listing them), and writes the rest as one 005010X222A1 interchange. Interchange
control numbers come from ``--control-number`` or a persistent counter file, so every batch
this machine sends has its own ISA13.

``rehabill x12 read FILE`` prints what an 837P/835/999/277CA holds plus located findings; exit
1 when any finding is an error, 2 when the file cannot be read at all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import typer

from rehabill.cli.common import fail, parse_today, print_json
from rehabill.coding import UnitMethod
from rehabill.domain import Claim, Finding, parse_visits
from rehabill.errors import ConfigError, InputError, RehabillError, UsageError
from rehabill.services.scrubbing import Prepared, default_settings, prepare_claims
from rehabill.x12.p837 import BatchSettings, BatchSummary, Writer837P
from rehabill.x12.reader import has_error_findings, is_unreadable, read_x12

COUNTER_NAME = "x12-interchange-control-number"


def state_dir() -> Path:
    """Where rehabill keeps small state such as the control-number counter."""
    return Path(os.environ.get("REHABILL_STATE_DIR") or Path.home() / ".rehabill")


def next_control_number(counter: Path) -> int:
    """Read, increment and store the interchange counter (1..999999999, then wraps to 1).

    Raises:
        ConfigError: when the counter file holds something other than a number.
    """
    current = 0
    if counter.exists():
        text = counter.read_text().strip()
        if not text.isdigit():
            raise ConfigError(f"the control-number counter holds {text!r}, not a number",
                              location=str(counter))
        current = int(text)
    number = current % 999_999_999 + 1
    counter.parent.mkdir(parents=True, exist_ok=True)
    temporary = counter.with_suffix(".tmp")
    temporary.write_text(f"{number}\n")
    os.replace(temporary, counter)
    return number


def load_visits(path: Path) -> object:
    """The decoded JSON of a visit file.

    Raises:
        InputError: when the file is missing or not JSON.
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read the visit file: {exc.strerror}", location=str(path)) \
            from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InputError(f"the visit file is not JSON: {exc}", location=str(path)) from None


def write_batch(claims: tuple[Claim, ...], settings: BatchSettings, output: Path) -> BatchSummary:
    """Stream the claims into ``output`` (through a temporary file, so a failure leaves none)."""
    temporary = output.with_name(output.name + ".part")
    with temporary.open("w", encoding="ascii", errors="replace", newline="") as out:
        writer = Writer837P(settings, out.write)
        for claim in claims:
            writer.add(claim)
        summary = writer.close()
    os.replace(temporary, output)
    return summary


def _finding_line(finding: Finding, file: str = "") -> str:
    where = finding.location
    if where.segment is not None:
        place = f"{file or where.file}:{where.segment}"
        if where.element:
            place += f" {where.element}"
    else:
        place = str(where)
    return f"{place}: {finding.severity.value} {finding.code} {finding.message}"


def _dict_finding_line(item: object, file: str) -> str:
    if not isinstance(item, dict):
        return str(item)
    location = item.get("location")
    loc = location if isinstance(location, dict) else {}
    place = f"{file}:{loc.get('segment', '-')}"
    if loc.get("element"):
        place += f" {loc['element']}"
    return f"{place}: {item.get('severity')} {item.get('code')} {item.get('message')}"


def _describe(results: list[dict[str, object]], file: str) -> Iterator[str]:
    """Human lines for ``rehabill x12 read``."""
    for result in results:
        kind = result.get("kind")
        claims = result.get("claims")
        header = f"{kind} {result.get('control_number', '')}".rstrip()
        totals = result.get("totals")
        if isinstance(totals, dict):
            header += (f": {totals.get('claims')} claims, {totals.get('lines')} lines, "
                       f"charges {totals.get('charge')}")
        elif isinstance(claims, list):
            header += f": {len(claims)} claims"
        yield header
        for claim in claims if isinstance(claims, list) else []:
            if isinstance(claim, dict):
                lines = claim.get("lines")
                count = len(lines) if isinstance(lines, list) else 0
                yield (f"  {claim.get('claim_id')}  {claim.get('charge')}  {count} lines"
                       + (f"  status {claim['status']}" if "status" in claim else ""))
        findings = result.get("findings")
        for item in findings if isinstance(findings, list) else []:
            yield "  " + _dict_finding_line(item, file)


def register(app: typer.Typer) -> None:
    """Add the ``x12`` command group to ``app``."""
    x12 = typer.Typer(name="x12", help="Write 837P batches; read 837P, 835, 999 and 277CA files.",
                      no_args_is_help=True)

    @x12.command("837p")
    def write_837p_command(
        visits: Path = typer.Argument(..., help="Visit file (JSON; DESIGN.md contract)."),
        output: Path = typer.Option(..., "-o", "--output", help="Where to write the 837P."),
        submitter_id: str = typer.Option("", envvar="REHABILL_X12_SUBMITTER_ID",
                                         help="1000A NM109 / ISA06 (default: billing NPI)."),
        submitter_name: str = typer.Option("", envvar="REHABILL_X12_SUBMITTER_NAME",
                                           help="1000A name (default: billing provider)."),
        receiver_id: str = typer.Option("RECEIVER", envvar="REHABILL_X12_RECEIVER_ID",
                                        help="1000B NM109 / ISA08 (the clearinghouse's id)."),
        receiver_name: str = typer.Option("RECEIVER", envvar="REHABILL_X12_RECEIVER_NAME",
                                          help="1000B receiver name."),
        contact_name: str = typer.Option("BILLING", envvar="REHABILL_X12_CONTACT_NAME",
                                         help="1000A PER02 contact name."),
        contact_phone: str = typer.Option("", envvar="REHABILL_X12_CONTACT_PHONE",
                                          help="1000A PER phone (required with --production)."),
        contact_email: str = typer.Option("", envvar="REHABILL_X12_CONTACT_EMAIL",
                                          help="1000A PER e-mail."),
        production: bool = typer.Option(False, "--production/--test",
                                        help="ISA15 P (production) or T (test, default)."),
        control_number: int | None = typer.Option(None, "--control-number",
                                                  help="ISA13; default: the next number of "
                                                  "the persistent counter."),
        method: str | None = typer.Option(None, "--method", help="cms or per-code "
                                          "(default: the payer's)."),
        as_json: bool = typer.Option(False, "--json", help="Print the outcome as JSON."),
        today: str = typer.Option("", "--today",
                                  help="Judge timely filing as of this date (YYYY-MM-DD)."),
    ) -> None:
        """Code VISITS, hold back visits with error findings, write the rest as an 837P."""
        try:
            unit_method = _method(method)
            parsed = parse_visits(load_visits(visits))
            prepared = prepare_claims(parsed.visits, parsed.findings,
                                      default_settings(parse_today(today),
                                                       method=unit_method))
            if not prepared.claims:
                _report(prepared, None, output, as_json)
                raise typer.Exit(1)
            first = prepared.claims[0].visit.billing_provider
            if production and not (contact_phone or contact_email):
                raise UsageError("a production batch needs --contact-phone or --contact-email")
            settings = BatchSettings(
                submitter_name=submitter_name or first.name.upper(),
                submitter_id=submitter_id or first.npi,
                receiver_name=receiver_name, receiver_id=receiver_id,
                interchange_control_number=control_number
                or next_control_number(state_dir() / COUNTER_NAME),
                created=datetime.now(), contact_name=contact_name,
                contact_phone=contact_phone or ("" if contact_email else "0000000000"),
                contact_email=contact_email, production=production,
            )
            summary = write_batch(prepared.claims, settings, output)
        except RehabillError as error:
            fail(error)
        except ValueError as error:  # a control number or id that does not fit the ISA
            fail(UsageError(str(error)))
        _report(prepared, summary, output, as_json)
        raise typer.Exit(1 if prepared.held else 0)

    @x12.command("read")
    def read_command(
        file: Path = typer.Argument(..., help="An X12 file: 837P, 835, 999 or 277CA."),
        as_json: bool = typer.Option(False, "--json", help="Print the DESIGN.md JSON."),
    ) -> None:
        """Print what FILE holds and every located finding."""
        try:
            raw = file.read_bytes()
        except OSError as exc:
            fail(InputError(f"cannot read the file: {exc.strerror}", location=str(file)))
        results = read_x12(raw.decode("utf-8", errors="replace"), str(file))
        if as_json:
            print_json(results)
        else:
            for line in _describe(results, str(file)):
                typer.echo(line)
        if is_unreadable(results):
            raise typer.Exit(2)
        raise typer.Exit(1 if has_error_findings(results) else 0)

    app.add_typer(x12, name="x12")


def _method(name: str | None) -> UnitMethod | None:
    if name is None:
        return None
    try:
        return UnitMethod(name.lower().replace("_", "-"))
    except ValueError:
        allowed = ", ".join(m.value for m in UnitMethod)
        raise UsageError(f"--method must be one of {allowed}, not {name!r}") from None


def _report(prepared: Prepared, summary: BatchSummary | None, output: Path,
            as_json: bool) -> None:
    if as_json:
        print_json({
            "output": str(output) if summary else None,
            "interchange_control_number": summary.interchange_control_number if summary
            else None,
            "written": [c.claim_id for c in prepared.claims] if summary else [],
            "held": [{"visit_id": visit_id, "findings": [f.as_dict() for f in findings]}
                     for visit_id, findings in prepared.held],
        })
        return
    if summary is not None:
        typer.echo(f"Wrote {summary.claims} claims ({summary.lines} lines, charges "
                   f"{summary.total_charge:.2f}) to {output}, interchange "
                   f"{summary.interchange_control_number:09d}, {summary.transactions} "
                   "transaction(s).")
    else:
        typer.echo("No claim could be written; nothing was written.")
    for visit_id, findings in prepared.held:
        typer.echo(f"Held back {visit_id}:")
        for finding in findings:
            typer.echo(f"  {_finding_line(finding)}")
    if prepared.warnings:
        typer.echo("Warnings on written claims:")
    for finding in prepared.warnings:
        typer.echo(f"  {_finding_line(finding)}")
