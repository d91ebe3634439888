"""Failures rehabill cannot get past. Problems *in the data* are Findings, not exceptions.

Hierarchy::

    RehabillError               exit 1, HTTP 500   base class; never raised bare
    ├── UsageError              exit 2, HTTP 400   a command or request is malformed
    │   └── InputError          exit 2, HTTP 422   an input file cannot be used at all
    ├── ConfigError             exit 2, HTTP 500   settings or a policy file are unusable
    ├── NotFoundError           exit 1, HTTP 404   a named thing does not exist
    └── ConflictError           exit 1, HTTP 409   the request clashes with stored state

``exit_code`` is what the CLI exits with; ``status`` is what the web layer answers.
"""

from __future__ import annotations


class RehabillError(Exception):
    """Base class of every error rehabill raises on purpose."""

    exit_code: int = 1
    status: int = 500

    def __init__(self, message: str, *, location: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.location = location

    def __str__(self) -> str:
        return f"{self.location}: {self.message}" if self.location else self.message


class UsageError(RehabillError):
    """A command line or request that cannot be understood."""

    exit_code = 2
    status = 400


class InputError(UsageError):
    """An input (file, term, document) that cannot be used at all."""

    status = 422


class ConfigError(RehabillError):
    """Settings or a policy file that cannot be used."""

    exit_code = 2


class NotFoundError(RehabillError):
    """A named record or code does not exist."""

    status = 404


class ConflictError(RehabillError):
    """The request conflicts with what is already stored."""

    status = 409
