"""Shared CLI helpers: printing JSON and failing with one clear line and the right exit code."""

from __future__ import annotations

import json
from datetime import date
from typing import NoReturn

import typer
from rich.console import Console

from rehabill.errors import RehabillError, UsageError


def console() -> Console:
    """A Rich console on stdout (no colour when piped)."""
    return Console(highlight=False)


def print_json(data: object) -> None:
    """Print ``data`` as indented JSON (amounts are already strings)."""
    typer.echo(json.dumps(data, indent=2, ensure_ascii=False))


def fail(error: RehabillError) -> NoReturn:
    """Print ``error`` as one line on stderr and exit with its exit code."""
    typer.echo(f"rehabill: {error}", err=True)
    raise typer.Exit(error.exit_code)


def parse_today(text: str | None) -> date:
    """``--today``: the date filing windows are judged against (default: the real today).

    Raises:
        UsageError: when the text is not YYYY-MM-DD.
    """
    if not text:
        return date.today()
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise UsageError(f"--today {text!r} is not a date (YYYY-MM-DD)") from None
