"""The ``coach`` command: one module per command group, each a thin shell over the public ``Coach`` API.

May import: everything below it (the facade first); nothing imports it.
"""

from coach.cli.main import main

__all__ = ["main"]
