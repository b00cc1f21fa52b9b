"""One settings object, read from ``COACH_*`` environment variables (documented in the README)."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from coach import resources


class Settings(BaseSettings):
    """Every knob of coach. Precedence: explicit argument > environment variable > default."""

    model_config = SettingsConfigDict(env_prefix="COACH_", extra="ignore")

    knowledge_dir: Path = Field(
        default_factory=resources.default_knowledge_dir,
        description="Folder of guideline documents (.md/.txt) that `coach index` reads and uploads go to; "
        "`knowledge/` in a checkout, else `<user data dir>/knowledge`, seeded with the shipped guidelines.",
    )
    data_dir: Path = Field(
        default_factory=resources.default_data_dir,
        description="Folder for coach's own data (index, caches, model files); `data/` in a checkout, "
        "else the user data dir (`$XDG_DATA_HOME/coach`, default `~/.local/share/coach`).",
    )
    prompts_dir: Path = Field(
        default_factory=resources.shipped_prompts_dir,
        description="Folder of prompt templates, `rubric.yaml` and the critic's model; "
        "default: `prompts/` in a checkout, else the copy inside the installed package.",
    )
    index_dir: Path | None = Field(
        default=None,
        description="Chroma persistent store; defaults to `<data_dir>/index`.",
    )
    chroma_url: str | None = Field(
        default=None,
        description="URL of a Chroma server (`chroma run`); when set, used instead of index_dir.",
    )
    collection: str = Field(default="coach-passages", description="Chroma collection name.")
    embed_threads: int = Field(default=2, ge=1, description="CPU threads of the embedding model.")
    max_input_chars: int = Field(
        default=8000, ge=100, description="Longest draft, message or query accepted, in characters."
    )
    max_document_bytes: int = Field(
        default=1_000_000, ge=1000, description="Largest guideline document accepted, in bytes."
    )
    llm_base_url: str | None = Field(
        default=None,
        description="OpenAI-compatible server URL; unset = start the embedded llama.cpp model.",
    )
    llm_model: str = Field(default="qwen2.5-coder-1.5b-instruct", description="LLM model name.")
    llm_api_key: SecretStr | None = Field(
        default=None, description="API key for the LLM server; falls back to OPENAI_API_KEY."
    )
    llm_timeout_s: float = Field(default=120.0, gt=0, description="Timeout of one LLM call, seconds.")
    llm_max_retries: int = Field(default=2, ge=0, description="Retries of a failed LLM call.")
    critic: Literal["auto", "learned", "json"] = Field(
        default="auto",
        description="How critiques are judged: `learned` (classifiers over the draft's embedding, fitted on labelled "
        "drafts: milliseconds, no LLM), `json` (a capable LLM writes the critique); `auto` = learned.",
    )
    redact_pii: bool = Field(
        default=False,
        description="Mask emails, phones, card and order numbers before text goes to the LLM; restored in results.",
    )
    cache: bool = Field(default=True, description="Cache LLM results on disk under the data dir.")
    rewrite_adapt: bool = Field(
        default=True,
        description="In a rewrite, let the LLM adapt an example sentence that still has a [blank] (checked by code); "
        "off: the rewrite is sentence surgery with the phrasebook's sentences alone, no LLM call, under a second.",
    )
    translate: bool = Field(
        default=False,
        description="After the app's start-up index, machine-translate passages into the other languages in the "
        "background (one at a time, kept under the data dir); `coach index --translate` does it in the foreground. "
        "Off by default: a blind rater found 1 of 18 of the embedded 1.5B model's translations faithful; turn it on "
        "with a capable model behind COACH_LLM_BASE_URL.",
    )
    users_file: Path | None = Field(
        default=None,
        description="Who may sign in to the web page, with hashed passwords and roles (`coach users add`); "
        "unset = `<data dir>/users.json`. No users: no login, and the page serves loopback only unless `--open`.",
    )

    @property
    def resolved_users_file(self) -> Path:
        """The users file, defaulting to ``users.json`` under the data dir."""
        return self.users_file if self.users_file is not None else self.data_dir / "users.json"

    @property
    def resolved_index_dir(self) -> Path:
        """The index directory, defaulting to a folder under the data dir."""
        return self.index_dir if self.index_dir is not None else self.data_dir / "index"
