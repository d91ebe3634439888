"""``python -m rehabill`` runs the command line."""

from rehabill.cli.main import run

run()
