"""``python -m coach.cli``: the same as the ``coach`` command."""

import sys

from coach.cli.main import main

sys.exit(main())
