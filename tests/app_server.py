"""The web app running in this process against the fake OpenAI server, for the app and browser tests.

Nothing here talks to the real embedded LLM: `tests/fake_openai.py` answers the Yes/No logprob questions
of the scorer critic, the rewrite JSON and the plain-text answers.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from coach import Coach, Settings
from coach.knowledge.embeddings import Embedder
from coach.knowledge.users import Role, UserBook
from coach.writing.answers import SENTENCE_VECTORS_FILE
from tests.fake_openai import Behaviour, fake_openai_server, last_user_text

RUDE_DRAFT = (
    "Sir, there is no need to insult us. If you had read the confirmation email you would know refunds take "
    "up to 14 days. It has only been 9. Please be patient."
)
CUSTOMER = "This is the third time I'm writing. My refund of $129.99 for order #55102 still hasn't arrived."
REWRITE_TEXT = (
    "I'm sorry the refund is taking this long, and I understand why you are frustrated. Refunds take up to "
    "14 days and it has been 9, so it should arrive within 5 days. I will check on it and write to you tomorrow."
)
PASSWORD = "correct horse battery"  # every test user's password
ANSWER_TEXT = "Stay calm, acknowledge the customer's feelings [1] and never blame them [2]."


def rudeness_detector(request: dict) -> float:
    """P(yes) high only when the question asks about rudeness, blame or dismissal (the scorer critic)."""
    text = last_user_text(request).rsplit("Question:", 1)[-1].lower()
    return 0.95 if ("rude" in text or "blame" in text or "dismissive" in text) else 0.2


def respond(request: dict) -> str:
    """Fixed plain text: the new reply when a rewrite is asked for, else the answer."""
    prompt = last_user_text(request)
    return REWRITE_TEXT if "DRAFT" in prompt or "reply has these problems" in prompt else ANSWER_TEXT


def prepared_root(indexed: Coach, root: Path) -> Path:
    """`root` with a private copy of an indexed Coach's knowledge base and index (copying beats re-embedding)."""
    shutil.copytree(indexed.settings.knowledge_dir, root / "knowledge")
    shutil.copytree(indexed.settings.resolved_index_dir, root / "data" / "index")
    indexed.prepare_answers()  # once per run: the app's warm-up then finds every sentence vector kept
    shutil.copy2(indexed.settings.data_dir / SENTENCE_VECTORS_FILE, root / "data" / SENTENCE_VECTORS_FILE)
    return root


def app_settings(root: Path, url: str) -> Settings:
    """The knowledge and data dirs under `root`, the fake server as LLM, the scorer critic."""
    knowledge = root / "knowledge"
    return Settings(
        knowledge_dir=knowledge,
        data_dir=root / "data",
        llm_base_url=url,
        critic="learned",
        llm_max_retries=0,
        llm_timeout_s=10,
        cache=False,
        translate=False,  # a test makes the translations it needs
    )


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running_app(
    root: Path,
    embedder: Embedder,
    *,
    users: dict[str, Role] | None = None,
    open_page: bool = False,
    **settings: object,
) -> Iterator[tuple[str, Coach, Behaviour]]:
    """Serve the page on a free port; yields (page url, coach, fake LLM behaviour).

    ``users`` (name -> role) are written to the users file first, each with the password ``PASSWORD``.
    """
    from coach.web.serve import serve

    behaviour = Behaviour(respond=respond, yes_probability=rudeness_detector)
    with fake_openai_server(behaviour) as (url, state):
        base = app_settings(root, url)
        coach = Coach(base.model_copy(update=settings), embedder=embedder)
        book = UserBook(coach.settings.resolved_users_file)
        for name, role in (users or {}).items():
            book.add(name, PASSWORD, role)
        app = serve("127.0.0.1", free_port(), open_page=open_page, coach=coach, block=False)
        try:
            yield app.local_url or "", coach, state
        finally:
            app.close()
            coach.close()
