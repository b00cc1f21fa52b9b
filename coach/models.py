"""Pydantic models that cross coach's public boundary."""

from __future__ import annotations

from pydantic import BaseModel, Field


class Passage(BaseModel):
    """One citable guideline passage, as stored in the index and returned by search."""

    id: str = Field(description="Stable id, e.g. `mn-complaints-7-tips#4`.")
    document: str = Field(description="Id of the document the passage comes from.")
    title: str = Field(description="Title of that document.")
    section: str = Field(default="", description="Section heading the passage sits under.")
    language: str = Field(description="ISO 639-1 code of the passage's language.")
    text: str = Field(description="The passage, verbatim from the guideline.")
    score: float = Field(default=0.0, description="Relevance to the query (higher is better).")


class IndexReport(BaseModel):
    """What one `coach index` run did, document by document."""

    added: list[str] = Field(default_factory=list, description="Documents indexed for the first time.")
    updated: list[str] = Field(default_factory=list, description="Changed documents re-indexed.")
    removed: list[str] = Field(default_factory=list, description="Documents gone from the folder.")
    unchanged: list[str] = Field(default_factory=list, description="Documents left as they were.")
    skipped: dict[str, str] = Field(
        default_factory=dict, description="Files that could not be indexed, with the reason."
    )
    passages_added: int = 0
    passages_removed: int = 0
    total_passages: int = 0
    rebuilt: bool = Field(default=False, description="True when a corrupt store was rebuilt.")
    seconds: float = 0.0

    @property
    def changed(self) -> bool:
        """Whether the run changed the index at all."""
        return bool(self.added or self.updated or self.removed)

    def summary(self) -> str:
        """A few human-readable lines for the CLI."""
        lines = []
        if self.rebuilt:
            lines.append("index store was unreadable: rebuilt from scratch")
        for label, docs in (("added", self.added), ("updated", self.updated), ("removed", self.removed)):
            for doc in docs:
                lines.append(f"{label}: {doc}")
        for path, reason in self.skipped.items():
            lines.append(f"skipped: {path}: {reason}")
        lines.append(
            f"{len(self.unchanged)} unchanged, +{self.passages_added} / -{self.passages_removed} passages, "
            f"{self.total_passages} in index ({self.seconds:.2f} s)"
        )
        return "\n".join(lines)
