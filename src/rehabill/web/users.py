"""Users, roles and passwords.

Passwords are hashed with Argon2id (argon2-cffi's defaults, RFC 9106). Users are kept behind the
small ``UserRepository`` protocol: an in-memory one here for tests and the demo, and a SQL one
over the store's ``users`` table (wired by the lead).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from rehabill.errors import ConflictError


class Role(StrEnum):
    """What a user may do (issue 7: therapist own visits, biller claims, admin everything)."""

    THERAPIST = "therapist"
    BILLER = "biller"
    ADMIN = "admin"


@dataclass(frozen=True, slots=True)
class User:
    """A person who logs in. ``provider_npi`` links a therapist to the clinician they are."""

    username: str
    password_hash: str
    role: Role
    display_name: str = ""
    provider_npi: str = ""
    active: bool = True

    @property
    def label(self) -> str:
        """The name to show in the header."""
        return self.display_name or self.username


class UserRepository(Protocol):
    """Where users live. Usernames are compared case-insensitively."""

    def get_by_username(self, username: str) -> User | None:
        """The user, or None."""
        ...

    def add(self, user: User) -> None:
        """Store a new user; raises ConflictError when the username is taken."""
        ...


class InMemoryUserRepository:
    """Users in a dict; for tests and the demo."""

    def __init__(self, users: tuple[User, ...] = ()) -> None:
        self._users: dict[str, User] = {}
        self._lock = threading.Lock()
        for user in users:
            self.add(user)

    def get_by_username(self, username: str) -> User | None:
        """The user, or None."""
        return self._users.get(username.strip().lower())

    def add(self, user: User) -> None:
        """Store a new user; raises ConflictError when the username is taken."""
        key = user.username.strip().lower()
        with self._lock:
            if key in self._users:
                raise ConflictError(f"username {user.username!r} is taken")
            self._users[key] = user

    def all(self) -> tuple[User, ...]:
        """Every user, by username."""
        return tuple(sorted(self._users.values(), key=lambda u: u.username))


class Passwords:
    """Argon2id hashing and verification, with constant work for unknown users."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or PasswordHasher()
        self._dummy = self._hasher.hash("not a real password: keeps timing even")

    def hash(self, password: str) -> str:
        """An encoded Argon2id hash of ``password``."""
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """True when ``password`` matches; does the same work when there is no hash."""
        try:
            return self._hasher.verify(password_hash or self._dummy, password) and \
                password_hash is not None
        except (VerificationError, InvalidHashError):
            return False

    def authenticate(self, users: UserRepository, username: str, password: str) -> User | None:
        """The active user whose password matches, or None."""
        user = users.get_by_username(username)
        ok = self.verify(user.password_hash if user else None, password)
        return user if ok and user is not None and user.active else None
