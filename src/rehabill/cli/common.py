"""Shared CLI helpers: printing JSON and failing with one clear line and the right exit code."""

from __future__ import annotations

import json
from typing import NoReturn

import typer
from rich.console import Console

from rehabill.errors import RehabillError


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
