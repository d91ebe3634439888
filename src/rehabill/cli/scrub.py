"""``rehabill scrub`` and ``rehabill rules``: check claims before they leave, list the rules.

Thin shell: read the visit file (and an optional policy file), hand values to
``rehabill.rules``, render. Exit 0 when no error finding, 1 when any, 2 when the input (or the
policy file) cannot be used at all.
"""

from __future__ import annotations

import copy
import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from rehabill.domain.findings import Finding, Location, Severity, sort_findings
from rehabill.domain.money import format_amount
from rehabill.domain.parse import parse_visits
from rehabill.errors import ConfigError, InputError
from rehabill.rules import CATALOG, ScrubResult, scrub_visits
from rehabill.rules.policy import (
    Policy,
    check_rule_codes,
    parse_policy,
)
from rehabill.services.scrubbing import default_settings


def read_visit_file(path: Path) -> object:
    """Decode the visit file, or raise InputError located at the file, line and column."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the visit file ({exc})", location=str(path)) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise InputError(f"input.malformed_json: {exc.msg}",
                         location=f"{path}:{exc.lineno}:{exc.colno}") from None


def read_policy_file(path: Path) -> Policy:
    """Read and check a ``--payer-policy`` file; ConfigError names the file and key."""
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read the policy file ({exc})", location=str(path)) from None
    policy = parse_policy(text, str(path), name=path.stem)
    check_rule_codes(policy, frozenset(CATALOG))
    return policy


def _input_claims(findings: list[Finding]) -> list[dict[str, Any]]:
    """Visits that could not be built, as claims with no lines and their input findings."""
    by_visit: dict[str, list[Finding]] = {}
    for f in findings:
        by_visit.setdefault(f.location.visit_id or "-", []).append(f)
    return [{"visit_id": visit_id, "lines": [], "findings": [f.as_dict() for f in group]}
            for visit_id, group in by_visit.items()]


def claim_json(result: ScrubResult) -> dict[str, Any]:
    """One scrubbed visit in the DESIGN.md shape (plus policy, held and changes)."""
    lines = [] if result.claim is None else [
        {"line": line.number, "code": line.code, "modifiers": list(line.modifiers),
         "units": line.units, "charge": format_amount(line.charge)}
        for line in result.claim.lines
    ]
    return {
        "visit_id": result.visit.visit_id,
        "policy": result.policy.name,
        "held": result.has_errors,
        "lines": lines,
        "findings": [f.as_dict() for f in result.findings],
        "changes": [c.as_dict() for c in result.changes],
    }


def _where(location: Location) -> str:
    parts = []
    if location.line is not None:
        parts.append(f"line {location.line}")
    if location.field:
        parts.append(location.field)
    return " ".join(parts) or "visit"


def _render_findings(findings: tuple[Finding, ...] | list[Finding]) -> list[str]:
    out = []
    for f in sort_findings(findings):
        out.append(f"  {f.severity.value:<7} {f.code}  ({_where(f.location)})")
        out.append(f"          {f.message}")
        if f.fix:
            out.append(f"          fix: {f.fix}")
    return out


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _count(findings: tuple[Finding, ...] | list[Finding], severity: Severity) -> int:
    return sum(1 for f in findings if f.severity is severity)


def render_result(result: ScrubResult) -> list[str]:
    """Human output for one visit: a header, its changes, then its findings, errors first."""
    errors = _count(result.findings, Severity.ERROR)
    warnings = _count(result.findings, Severity.WARNING)
    status = f"HELD ({_plural(errors, 'error')}, {_plural(warnings, 'warning')})" if errors \
        else f"ready ({_plural(warnings, 'warning')})"
    out = [f"{result.visit.visit_id}  [{result.policy.name}]  {status}"]
    for change in result.changes:
        out.append(f"  fixed   {change.field}: {change.before} -> {change.after} "
                   f"({change.reason})")
    out.extend(_render_findings(result.findings))
    return out


def _load_inputs(visits: Path, payer_policy: Path | None,
                 today: str | None) -> tuple[date, Policy | None, object]:
    """The run date, the ``--payer-policy`` policy and the decoded visit file; exit 2 if not."""
    try:
        run_date = date.fromisoformat(today) if today else date.today()
    except ValueError:
        typer.echo(f"error: --today {today!r} is not a date (YYYY-MM-DD)", err=True)
        raise typer.Exit(2) from None
    try:
        policy = read_policy_file(payer_policy) if payer_policy else None
        return run_date, policy, read_visit_file(visits)
    except (ConfigError, InputError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(exc.exit_code) from None


_CHANGED_FIELD = re.compile(r"^services\[(\d+)\]\.(units|modifiers)$")


def apply_changes(data: object, results: list[ScrubResult]) -> object:
    """The decoded visit file with every ``--fix`` change written into it (a new copy).

    Only the changed fields are touched (``services[i].units``, ``services[i].modifiers``);
    everything else, including fields rehabill does not read, is kept as it was.
    """
    out = copy.deepcopy(data)
    items = out.get("visits") if isinstance(out, dict) else out
    if not isinstance(items, list):
        return out
    by_id = {str(v.get("visit_id")): v for v in items if isinstance(v, dict)}
    for change in (c for r in results for c in r.changes):
        match = _CHANGED_FIELD.match(change.field)
        raw = by_id.get(change.visit_id)
        if match is None or raw is None:
            continue
        service = raw["services"][int(match.group(1))]
        if match.group(2) == "units":
            service["units"] = int(change.after)
        else:
            service["modifiers"] = change.after.split()
    return out


def register(app: typer.Typer) -> None:
    """Add ``scrub`` and ``rules`` to the app."""

    @app.command("scrub")
    def scrub_command(
        visits: Annotated[Path | None, typer.Argument(
            metavar="[VISITS.json]",
            help="Visit file (JSON list or {\"visits\": []}); without it, scrub the "
                 "claims in the database.")] = None,
        payer_policy: Annotated[Path | None, typer.Option(
            "--payer-policy", help="A payer policy TOML file to use for every visit.")] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
        fix: Annotated[bool, typer.Option(
            "--fix", help="Apply safe fixes (GP/GO/GN, units) and report each change.")] = False,
        output: Annotated[Path | None, typer.Option(
            "--output", "-o", help="With --fix: write the fixed visit file here.")] = None,
        today: Annotated[str | None, typer.Option(
            "--today", help="Judge timely filing as of this date (YYYY-MM-DD).")] = None,
        db: Annotated[str | None, typer.Option(
            "--db", help="Without a file: the database URL (default REHABILL_DATABASE_URL, "
                         "else sqlite:///rehabill.db).")] = None,
    ) -> None:
        """Check every visit's claim against Medicare and payer rules before it leaves.

        With a file, scrub its visits (nothing is stored). Without one, code the stored
        visits that have no claim yet and scrub every draft claim in the database: each
        claim becomes ``scrubbed`` or ``held`` with its findings.
        """
        if visits is None:
            if fix or output is not None:
                typer.echo("error: --fix and --output work on a visit file", err=True)
                raise typer.Exit(2)
            from rehabill.cli.books import scrub_database

            scrub_database(db, payer_policy, today, as_json)
            return
        if output is not None and not fix:
            typer.echo("error: --output needs --fix (it writes the fixed visits)", err=True)
            raise typer.Exit(2)
        run_date, policy, data = _load_inputs(visits, payer_policy, today)
        parsed = parse_visits(data)
        if not parsed.visits and any(f.code == "input.not_a_visit_list"
                                     for f in parsed.findings):
            for f in parsed.findings:
                typer.echo(f"error: {visits}: {f.code}: {f.message}", err=True)
            raise typer.Exit(2)
        settings = default_settings(run_date, policy)
        results = scrub_visits(parsed.visits, settings, fix=fix)
        if output is not None:
            output.write_text(json.dumps(apply_changes(data, results), indent=2) + "\n")
        failed = any(r.has_errors for r in results) or any(f.is_error for f in parsed.findings)
        if as_json:
            claims = _input_claims(parsed.findings) + [claim_json(r) for r in results]
            typer.echo(json.dumps({"claims": claims}, indent=2))
        else:
            _print_human(visits, parsed.findings, results)
        raise typer.Exit(1 if failed else 0)

    @app.command("rules")
    def rules_command(
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List every scrubber rule: code, severity, title and source."""
        rows = [{"code": r.code, "severity": r.severity.value, "title": r.title,
                 "source": r.source} for r in CATALOG.values()]
        if as_json:
            typer.echo(json.dumps(rows, indent=2))
            return
        width = max(len(r["code"]) for r in rows)
        for row in rows:
            typer.echo(f"{row['code']:<{width}}  {row['severity']:<7}  {row['title']}")
            typer.echo(f"{'':<{width}}  {'':<7}  source: {row['source']}")


def _print_human(path: Path, input_findings: list[Finding], results: list[ScrubResult]) -> None:
    for f in input_findings:
        typer.echo(f"{path}: {f.location}: {f.code}: {f.message}")
        if f.fix:
            typer.echo(f"          fix: {f.fix}")
    for result in results:
        for line in render_result(result):
            typer.echo(line)
        typer.echo("")
    held = sum(1 for r in results if r.has_errors)
    errors = sum(_count(r.findings, Severity.ERROR) for r in results)
    warnings = sum(_count(r.findings, Severity.WARNING) for r in results)
    changes = sum(len(r.changes) for r in results)
    summary = (f"{_plural(len(results), 'visit')} scrubbed: {len(results) - held} ready, "
               f"{held} held; {_plural(errors, 'error')}, {_plural(warnings, 'warning')}")
    if input_findings:
        summary += f"; {_plural(len(input_findings), 'input problem')}"
    if changes:
        summary += f"; {_plural(changes, 'change')} made by --fix"
    typer.echo(summary + ".")
