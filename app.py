"""Start the coach web page: `uv run python app.py [--host H] [--port P] [--open]` (same as `coach serve`).

The page itself lives in the package (`coach/web/serve.py`, `coach/web/app.py`), so an installed `coach` serves it.
"""

from coach.web.serve import main

if __name__ == "__main__":
    main()
