"""Serve the coach web page: who may sign in, where it listens, and the models warmed up before the first user.

Run: `python app.py [--host H] [--port P] [--open]` (root script) or `coach serve`. Users in the users file
(`coach users add`) get a login page, and agents do not see the tools that change the guidelines. Without
users the page listens on loopback only, unless told to run open, and then it says so on top.
"""

from __future__ import annotations

import argparse
import ipaddress

import gradio as gr

from coach import Coach
from coach.knowledge.users import UserBook
from coach.web.app import CSS, HEAD, SEARCH_CONCURRENCY, build_app
from coach.web.options import add_serve_arguments
from coach.web.warmup import Warmup

OPEN_NOTICE = (
    "⚠ **This page is open:** anyone who can reach it can change the guidelines. "
    "Add users (`coach users add NAME --role trainer`) to ask for a login."
)


def _loopback(host: str) -> bool:
    """True for an address only this machine can reach."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def serve(
    host: str = "127.0.0.1",
    port: int = 7860,
    *,
    open_page: bool = False,
    coach: Coach | None = None,
    block: bool = True,
) -> gr.Blocks:
    """Load the index and the embedding model, start the LLM in the background, then serve the page.

    With users in the users file the page asks for a login and gives each user their role. Without, it
    serves loopback only, unless ``open_page`` (``--open``), and then it says on top that it is open.
    With ``block=False`` (tests) it returns the running app; call ``.close()`` on it.
    """
    coach = coach or Coach()
    users = UserBook(coach.settings.resolved_users_file)
    login = users.login_enabled
    if not login and not open_page and not _loopback(host):
        raise SystemExit(
            f"error: refusing to serve {host} without a login: anyone who can reach the page could change the "
            "guidelines. Add users (`coach users add NAME --role trainer`), or pass --open to run open."
        )
    coach.index()  # incremental: only changed documents cost time
    coach.search("warm-up", k=1)  # loads the embedding model before the first user waits on it
    warmup = Warmup(coach)
    warmup.thread.start()
    if coach.settings.translate:
        coach.translate_in_background()  # the page never waits: a missing translation shows the original
    notice = OPEN_NOTICE if open_page and not login else ""
    app = build_app(coach, warmup, roles=users.role_of if login else None, notice=notice)
    app.queue(default_concurrency_limit=SEARCH_CONCURRENCY)
    try:
        app.launch(
            server_name=host,
            server_port=port,
            auth=users.verify if login else None,
            allowed_paths=[str(coach.settings.data_dir / "batch")],
            head=HEAD,
            css=CSS,
            prevent_thread_lock=not block,
            quiet=not block,
        )
    finally:
        if block:
            coach.close()
    return app


def main(argv: list[str] | None = None) -> None:
    """`python app.py [--host H] [--port P] [--open]`: serve the page until interrupted."""
    parser = argparse.ArgumentParser(description="Start the coach web app.")
    add_serve_arguments(parser)
    args = parser.parse_args(argv)
    serve(args.host, args.port, open_page=args.open)


if __name__ == "__main__":
    main()
