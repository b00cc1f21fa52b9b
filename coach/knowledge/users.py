"""Who may sign in to the web page, and as what: the users file (``<data dir>/users.json`` by default).

Agents critique, rewrite, ask and search; trainers also change the guidelines and their rubric links.
Passwords are stored as salted scrypt hashes, never in plain text, and the file is written atomically and
readable by its owner only. No users file (or an empty one) means no login: `coach serve` then listens on
loopback only, unless told to run open.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import re
import secrets
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ValidationError

from coach.errors import CoachError, InputError
from coach.knowledge.versions import atomic_write

Role = Literal["agent", "trainer"]
ROLES: tuple[Role, ...] = ("agent", "trainer")
NAME = re.compile(r"[A-Za-z0-9._@-]{1,64}")
MIN_PASSWORD = 8
# scrypt's cost (n=2^14, r=8, p=1: about 16 MiB and 50 ms per check): slow to guess, quick enough to sign in.
SCRYPT = {"n": 2**14, "r": 8, "p": 1}


class UsersFileError(CoachError):
    """The users file cannot be read: the page must not start with a login it cannot check."""


class User(BaseModel):
    """One entry of the users file: the name, the role and the password's scrypt hash with its salt."""

    name: str
    role: Role
    salt: str
    hash: str


class UsersFile(BaseModel):
    """The content of the users file."""

    users: list[User] = []


def _hash(password: str, salt: bytes) -> str:
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, maxmem=64 * 2**20, dklen=32, **SCRYPT)
    return base64.b64encode(digest).decode("ascii")


class UserBook:
    """The users file: add, remove, list, and check a password (read again whenever it changed)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _read(self) -> UsersFile:
        try:
            return UsersFile.model_validate(json.loads(self.path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return UsersFile()
        except (ValueError, ValidationError) as exc:
            raise UsersFileError(f"{self.path} is not a valid users file: {exc}") from exc

    def _write(self, content: UsersFile) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(self.path, content.model_dump_json(indent=2).encode("utf-8"))
        os.chmod(self.path, 0o600)

    @property
    def login_enabled(self) -> bool:
        """True when the page asks for a login (the file names at least one user)."""
        return bool(self._read().users)

    def list(self) -> list[tuple[str, Role]]:
        """Every user's name and role, by name."""
        return sorted((user.name, user.role) for user in self._read().users)

    def add(self, name: str, password: str, role: Role) -> None:
        """Add a user, or give an existing one a new password and role."""
        if not NAME.fullmatch(name):
            raise InputError("a user name is 1-64 letters, digits or . _ @ -", field="name")
        if role not in ROLES:
            raise InputError(f"the role must be one of {', '.join(ROLES)}", field="role")
        if len(password) < MIN_PASSWORD:
            raise InputError(f"the password must have at least {MIN_PASSWORD} characters", field="password")
        salt = secrets.token_bytes(16)
        user = User(name=name, role=role, salt=base64.b64encode(salt).decode("ascii"), hash=_hash(password, salt))
        content = self._read()
        content.users = [u for u in content.users if u.name != name] + [user]
        self._write(content)

    def remove(self, name: str) -> None:
        """Remove a user; an unknown name is an InputError."""
        content = self._read()
        kept = [u for u in content.users if u.name != name]
        if len(kept) == len(content.users):
            raise InputError(f"there is no user {name!r}", field="name")
        self._write(UsersFile(users=kept))

    def verify(self, name: str, password: str) -> bool:
        """True when the password is this user's (constant-time comparison)."""
        user = next((u for u in self._read().users if u.name == name), None)
        if user is None:
            _hash(password, b"\0" * 16)  # same time for an unknown name as for a wrong password
            return False
        return hmac.compare_digest(_hash(password, base64.b64decode(user.salt)), user.hash)

    def role_of(self, name: str) -> Role | None:
        """A user's role, or None for a name not in the file."""
        return next((u.role for u in self._read().users if u.name == name), None)
