"""Start the coach web page: `uv run python app.py [--host H] [--port P]` (same as `coach serve`).

The page itself lives in the package, `coach/web/app.py`, so an installed `coach` serves it too.
"""

from coach.web.app import main

if __name__ == "__main__":
    main()
