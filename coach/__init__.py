"""coach: quoted, cited feedback on customer-service replies, grounded in a multilingual knowledge base.

Importing this package is instant: no model is loaded and nothing touches the network until used.
"""

from coach.coach import Coach
from coach.errors import (
    CoachError,
    IndexStoreError,
    InputError,
    InvalidModelOutput,
    KnowledgeError,
    LLMError,
    ModelIntegrityError,
)
from coach.models import (
    Answer,
    Change,
    Citation,
    Critique,
    IndexReport,
    Issue,
    Passage,
    Progress,
    Rewrite,
    Score,
    Usage,
)
from coach.settings import Settings

__all__ = [
    "Answer",
    "Change",
    "Citation",
    "Coach",
    "Critique",
    "Issue",
    "Progress",
    "Rewrite",
    "Score",
    "Usage",
    "CoachError",
    "IndexReport",
    "IndexStoreError",
    "InputError",
    "InvalidModelOutput",
    "KnowledgeError",
    "LLMError",
    "ModelIntegrityError",
    "Passage",
    "Settings",
]
