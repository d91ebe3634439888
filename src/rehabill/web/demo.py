"""Demo logins for the in-memory user repository (``rehabill serve`` before the store lands,
tests and screenshots). Passwords are random unless given, and printed once by the CLI."""

from __future__ import annotations

import secrets

from rehabill import testing
from rehabill.web.users import InMemoryUserRepository, Passwords, Role, User

DEMO_ACCOUNTS = (
    ("ana", Role.THERAPIST, "Ana Ruiz", testing.THERAPISTS["PT"].npi),
    ("lin", Role.THERAPIST, "Lin Park", testing.THERAPISTS["OT"].npi),
    ("bea", Role.BILLER, "Bea Stone", ""),
    ("admin", Role.ADMIN, "Practice Admin", ""),
)


def demo_users(passwords: Passwords, password: str | None = None
               ) -> tuple[InMemoryUserRepository, dict[str, str]]:
    """The demo accounts and their passwords (one random password each unless ``password``)."""
    plain = {name: password or secrets.token_urlsafe(12) for name, *_ in DEMO_ACCOUNTS}
    users = tuple(User(name, passwords.hash(plain[name]), role, label, npi)
                  for name, role, label, npi in DEMO_ACCOUNTS)
    return InMemoryUserRepository(users), plain
