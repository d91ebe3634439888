"""Generate docs/cli.md from the Typer app itself, so the CLI reference cannot drift.

``python -m rehabill.cli.reference > docs/cli.md``; ``tests/test_docs.py`` fails when the file
is out of date. Help text is taken from ``--help`` of every command, at a fixed width.
"""

from __future__ import annotations

from typing import Any

import typer
from typer.testing import CliRunner

from rehabill.cli.main import build_app


def _paths(command: Any, path: list[str]) -> list[list[str]]:
    out = [path]
    for name in sorted(getattr(command, "commands", {}) or {}):
        out.extend(_paths(command.commands[name], [*path, name]))
    return out


def render() -> str:
    """The CLI reference as Markdown."""
    app = build_app()
    runner = CliRunner()
    lines = ["# Command line reference", "",
             "Generated from the app by `python -m rehabill.cli.reference`; do not edit.", ""]
    for path in _paths(typer.main.get_command(app), [])[1:]:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "100", "NO_COLOR": "1",
                                                            "TERM": "dumb"},
                               prog_name="rehabill")
        lines += [f"## rehabill {' '.join(path)}", "", "```text",
                  *(line.rstrip() for line in result.stdout.strip().splitlines()), "```", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render(), end="")
