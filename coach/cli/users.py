"""``coach users``: who may sign in to the web page; passwords are asked for, never given on the command line."""

from __future__ import annotations

import argparse
import getpass
import sys

from coach.cli.common import Subcommands
from coach.errors import InputError
from coach.knowledge.users import ROLES, UserBook
from coach.settings import Settings


def register(commands: Subcommands) -> None:
    """Add ``users list|add|remove``."""
    users = commands.add_parser("users", help="who may sign in to the web page: agents and trainers")
    users.set_defaults(run=run)
    actions = users.add_subparsers(dest="users_command", required=True, metavar="ACTION")
    actions.add_parser("list", help="the users and their roles")
    add = actions.add_parser("add", help="add a user, or set an existing user's password and role")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="agent", help="trainers also change the guidelines")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin (for scripts)")
    remove = actions.add_parser("remove", help="remove a user")
    remove.add_argument("name")


def run(args: argparse.Namespace) -> int:
    book = UserBook(Settings().resolved_users_file)
    if args.users_command == "list":
        for name, role in book.list():
            print(f"{name}  {role}")
        return 0
    if args.users_command == "remove":
        book.remove(args.name)
        print(f"removed {args.name}")
        return 0
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(f"password for {args.name}: ")
        if getpass.getpass("again: ") != password:
            raise InputError("the two passwords differ", field="password")
    book.add(args.name, password, args.role)
    print(f"{args.name} can sign in as {args.role} ({book.path})")
    return 0
