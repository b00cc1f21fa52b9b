"""The one exception tree of coach; the CLI and app turn these into readable messages.

CoachError
├── InputError            bad user input (empty or oversized text, bad file)
├── KnowledgeError        a guideline document cannot be read or has no text
├── NewVersionError       an upload would replace a document: confirm it (carries the change;
│                         defined beside DocumentChange in coach.knowledge.diff)
├── IndexStoreError       the Chroma store is unreachable or unusable
└── LLMError              the LLM failed after bounded retries
    ├── ModelIntegrityError   embedded weights missing or failing their sha256
    ├── InvalidModelOutput    the model's answer failed validation (keeps the raw text)
    └── Cancelled             the caller stopped listening, so generation was stopped
"""

from __future__ import annotations


class CoachError(Exception):
    """Root of every error coach raises on purpose."""


class InputError(CoachError):
    """User input that coach cannot work with; names the field and the limit."""

    def __init__(self, message: str, *, field: str = "text", limit: int | None = None) -> None:
        super().__init__(message)
        self.field = field
        self.limit = limit


class KnowledgeError(CoachError):
    """A guideline document that cannot be read, decoded or split."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class IndexStoreError(CoachError):
    """The vector store cannot be opened, reached or written."""


class PromptError(CoachError):
    """A prompt or rubric file that is missing or invalid, or a template rendered with the wrong values."""

    def __init__(self, message: str, *, name: str | None = None, path: object | None = None) -> None:
        super().__init__(message)
        self.name = name
        self.path = path


class LLMError(CoachError):
    """The LLM could not give an answer; carries the HTTP status, attempts made and any Retry-After."""

    def __init__(
        self, message: str, *, status: int | None = None, attempts: int = 0, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.attempts = attempts
        self.retry_after = retry_after

    @property
    def transient(self) -> bool:
        """Whether trying again later may help: rate limits, server errors, timeouts, unreachable server."""
        return self.status is None or self.status == 429 or self.status >= 500


class ModelIntegrityError(LLMError):
    """The embedded model file is missing or its sha256 does not match the pinned one."""

    @property
    def transient(self) -> bool:
        """Never: the file will not fix itself."""
        return False


class InvalidModelOutput(LLMError):
    """The model answered, but not with something that passes validation."""

    def __init__(self, message: str, *, raw: str = "", attempts: int = 0) -> None:
        super().__init__(message, attempts=attempts)
        self.raw = raw

    @property
    def transient(self) -> bool:
        """Never: at temperature 0 the same prompt gives the same invalid answer."""
        return False


class Cancelled(LLMError):
    """The caller stopped listening, so generation was stopped."""
