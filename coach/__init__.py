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
from coach.knowledge.diff import DocumentChange, NewVersionError, PassageChange
from coach.knowledge.versions import AuditEntry, DocumentInfo, DocumentVersion
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
    RunRecord,
    Score,
    SimilarReply,
    Usage,
)
from coach.settings import Settings

__all__ = [
    "Answer",
    "AuditEntry",
    "Change",
    "Citation",
    "Coach",
    "Critique",
    "DocumentChange",
    "DocumentInfo",
    "DocumentVersion",
    "Issue",
    "Progress",
    "Rewrite",
    "RunRecord",
    "Score",
    "SimilarReply",
    "Usage",
    "CoachError",
    "IndexReport",
    "IndexStoreError",
    "InputError",
    "InvalidModelOutput",
    "KnowledgeError",
    "LLMError",
    "ModelIntegrityError",
    "NewVersionError",
    "PassageChange",
    "Passage",
    "Settings",
]
