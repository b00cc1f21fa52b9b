"""The users file: hashed passwords, roles, and the `coach users` command."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from coach.errors import InputError
from coach.knowledge.users import UserBook, UsersFileError
from tests.test_cli import run_cli


def test_passwords_are_stored_hashed_and_checked(tmp_path: Path) -> None:
    book = UserBook(tmp_path / "users.json")
    assert not book.login_enabled and book.role_of("ann") is None
    book.add("ann", "s3cret-words", "agent")
    book.add("tess", "other-words", "trainer")
    text = book.path.read_text(encoding="utf-8")
    assert "s3cret-words" not in text and "other-words" not in text
    assert stat.S_IMODE(book.path.stat().st_mode) == 0o600
    assert book.login_enabled
    assert book.verify("ann", "s3cret-words") and not book.verify("ann", "other-words")
    assert not book.verify("nobody", "s3cret-words")
    assert book.list() == [("ann", "agent"), ("tess", "trainer")]
    assert book.role_of("tess") == "trainer"


def test_same_password_gets_a_different_salt_and_a_new_password_replaces_the_old(tmp_path: Path) -> None:
    book = UserBook(tmp_path / "users.json")
    book.add("ann", "same-password", "agent")
    book.add("bob", "same-password", "agent")
    hashes = {u["hash"] for u in json.loads(book.path.read_text(encoding="utf-8"))["users"]}
    assert len(hashes) == 2
    book.add("ann", "new-password", "trainer")
    assert book.verify("ann", "new-password") and not book.verify("ann", "same-password")
    assert book.role_of("ann") == "trainer" and len(book.list()) == 2
    book.remove("bob")
    assert book.list() == [("ann", "trainer")]


@pytest.mark.parametrize(
    ("name", "password", "role", "field"),
    [("", "long-enough", "agent", "name"), ("a b", "long-enough", "agent", "name"),
     ("ann", "short", "agent", "password"), ("ann", "long-enough", "admin", "role")],
)  # fmt: skip
def test_bad_users_are_refused_with_the_field_named(tmp_path: Path, name, password, role, field) -> None:
    book = UserBook(tmp_path / "users.json")
    with pytest.raises(InputError) as refused:
        book.add(name, password, role)
    assert refused.value.field == field
    assert not book.path.exists()
    with pytest.raises(InputError, match="no user"):
        book.remove("ghost")


def test_a_broken_users_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "users.json"
    path.write_text('{"users": [{"name": "ann"}]}', encoding="utf-8")
    with pytest.raises(UsersFileError, match="not a valid users file"):
        UserBook(path).verify("ann", "whatever-pw")


@pytest.mark.slow
def test_coach_users_command(tmp_path: Path) -> None:
    env = {"COACH_DATA_DIR": str(tmp_path / "data"), "COACH_KNOWLEDGE_DIR": str(tmp_path / "kb")}
    add = ("users", "add", "tess", "--role", "trainer", "--password-stdin")
    added = run_cli(*add, env_extra=env, stdin="pass-word-1\n")
    assert added.returncode == 0, added.stderr
    assert "tess can sign in as trainer" in added.stdout
    listed = run_cli("users", "list", env_extra=env)
    assert listed.stdout.split() == ["tess", "trainer"]
    book = UserBook(tmp_path / "data" / "users.json")
    assert book.verify("tess", "pass-word-1")
    short = run_cli("users", "add", "ann", "--password-stdin", env_extra=env, stdin="short\n")
    assert short.returncode == 1 and "at least 8 characters" in short.stderr and "Traceback" not in short.stderr
    assert run_cli("users", "remove", "tess", env_extra=env).returncode == 0
    assert not book.login_enabled
