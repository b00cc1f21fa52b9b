"""Prompt templates and the rubric, read from ``prompts/`` and validated, so no prompt prose lives in Python.

A template is a Markdown file that opens with YAML front matter naming its version and variables::

    ---
    version: "critique-1"
    variables: [rubric, draft]
    ---
    Body with {rubric} and {draft} placeholders (str.format style; literal braces doubled).

The body's placeholders must be exactly the declared variables, and ``render`` refuses a missing or an
undeclared value. The rubric (``rubric.yaml``) holds the criteria, their texts in every supported language,
each criterion's severity and where a missing part belongs. Which passages state each criterion is the
trainers' data, in the knowledge folder (``coach.knowledge.links``).
"""

from __future__ import annotations

import functools
import re
import string
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError, model_validator

from coach.errors import PromptError
from coach.language import SUPPORTED_LANGUAGES
from coach.resources import shipped_prompts_dir

DEFAULT_PROMPTS_DIR = shipped_prompts_dir()
"""The prompts as shipped (checkout or package); ``Coach`` passes ``Settings.prompts_dir`` instead."""
RUBRIC_FILE = "rubric.yaml"
WHY_FILE = "why.yaml"
QUOTE_CHARS = 90  # a longer quoted sentence is cut at a word in the "why"
LANGUAGES = SUPPORTED_LANGUAGES  # the rubric is written in every supported language

_FRONT_MATTER = re.compile(r"\A---[ \t]*\n(.*?)\n---[ \t]*\n(.*)\Z", re.DOTALL)
_PROMPT_NAME = re.compile(r"[a-z][a-z0-9_-]*")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PromptTemplate(_Strict):
    """One prompt file: its name, version, declared variables and body."""

    name: Text
    version: Text
    variables: tuple[str, ...]
    body: Text

    @model_validator(mode="after")
    def _placeholders_are_declared(self) -> PromptTemplate:
        declared = set(self.variables)
        if len(declared) != len(self.variables):
            raise ValueError(f"variables of {self.name} list a name twice: {list(self.variables)}")
        used = placeholders(self.body)
        if used != declared:
            raise ValueError(
                f"placeholders of {self.name} do not match its declared variables: "
                f"undeclared {sorted(used - declared)}, unused {sorted(declared - used)}"
            )
        return self

    def render(self, **values: object) -> str:
        """The body with every declared variable filled in; ``PromptError`` on a missing or extra value."""
        missing = sorted(set(self.variables) - values.keys())
        extra = sorted(values.keys() - set(self.variables))
        if missing or extra:
            raise PromptError(
                f"prompt {self.name} ({self.version}) needs {list(self.variables)}: "
                f"missing {missing}, not declared {extra}",
                name=self.name,
            )
        empty = sorted(key for key, value in values.items() if value is None)
        if empty:
            raise PromptError(f"prompt {self.name}: no value (None) for {empty}", name=self.name)
        return self.body.format(**{key: str(value) for key, value in values.items()})


def placeholders(body: str) -> set[str]:
    """The ``{name}`` placeholders of a template body; positional or dotted fields are refused."""
    names: set[str] = set()
    try:
        fields = [field for _, field, _, _ in string.Formatter().parse(body) if field is not None]
    except ValueError as exc:  # an unmatched single brace
        raise ValueError(f"not a valid template ({exc}); double literal braces") from exc
    for field in fields:
        if not field.isidentifier():
            raise ValueError(f"placeholder {{{field}}} must be a plain name")
        names.add(field)
    return names


class _FrontMatter(_Strict):
    version: Text
    variables: tuple[str, ...] = ()


class Localized(_Strict):
    """One short text in each supported language."""

    en: Text
    ru: Text
    el: Text
    kk: Text
    mn: Text

    def get(self, language: str) -> str:
        """The text in ``language``, or the English one for a language the rubric does not carry."""
        return str(getattr(self, language)) if language in LANGUAGES else self.en


class Criterion(_Strict):
    """One rubric criterion: what it checks, how it is detected, what the agent reads."""

    id: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    kind: Literal["omission", "commission"] = Field(
        description="omission: the problem is something missing; commission: something said wrongly."
    )
    description: Text
    anchors: dict[Literal[1, 3, 5], Text]
    name: Localized
    good: Localized
    fix: Localized
    severity: Literal["high", "medium", "low"] = Field(
        default="medium", description="How much a violation hurts the customer: issues are ordered by it."
    )
    missing_at: Literal["start", "end"] = Field(
        default="start", description="Where a missing part belongs in a reply (an apology opens it, thanks close it)."
    )

    @model_validator(mode="after")
    def _complete(self) -> Criterion:
        if set(self.anchors) != {1, 3, 5}:
            raise ValueError(f"{self.id}: anchors must be given for scores 1, 3 and 5")
        return self


class Rubric(_Strict):
    """The versioned scoring rubric."""

    version: Text
    scale: dict[int, Text]
    criteria: tuple[Criterion, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Rubric:
        if set(self.scale) != {1, 2, 3, 4, 5}:
            raise ValueError("scale must describe every score from 1 to 5")
        if len(set(self.ids)) != len(self.ids):
            raise ValueError(f"criterion ids must be unique: {list(self.ids)}")
        return self

    @property
    def ids(self) -> tuple[str, ...]:
        """The criterion ids, in rubric order."""
        return tuple(c.id for c in self.criteria)

    def criterion(self, criterion_id: str) -> Criterion:
        """The criterion with this id; ``PromptError`` when the rubric has none."""
        for criterion in self.criteria:
            if criterion.id == criterion_id:
                return criterion
        raise PromptError(f"rubric {self.version} has no criterion {criterion_id!r}; it has {list(self.ids)}")

    def prompt_text(self, anchors: bool = True) -> str:
        """The criteria as compact English lines for the ``{rubric}`` variable of a prompt.

        Without anchors the text is about half as long: cheaper for a small model reading 50 tokens/s.
        """
        return "\n".join(
            f"- {c.id}: {c.description}"
            + (f" (1 = {c.anchors[1]} 3 = {c.anchors[3]} 5 = {c.anchors[5]})" if anchors else "")
            for c in self.criteria
        )


Place = Literal["after_greeting", "start", "before_signoff", "end"]


class WhyTemplates(_Strict):
    """Per criterion, what an issue's "why" says about this draft: the quoted words, or where the missing part goes."""

    version: Text
    places: dict[Place, Localized]
    said: dict[str, Localized]
    missing: dict[str, Localized]

    @model_validator(mode="after")
    def _placeholders(self) -> WhyTemplates:
        for kind, placeholder in (("said", "{quote}"), ("missing", "{where}")):
            for criterion, texts in getattr(self, kind).items():
                for language in LANGUAGES:
                    if placeholder not in texts.get(language):
                        raise ValueError(f"{kind}.{criterion}.{language} must contain {placeholder}")
        return self

    def said_text(self, criterion: str, language: str, quote: str) -> str | None:
        """The "why" of quoted words (cut at a word after ``QUOTE_CHARS``), or None without a template."""
        template = self.said.get(criterion)
        if template is None:
            return None
        quote = " ".join(quote.split())
        if len(quote) > QUOTE_CHARS:
            quote = quote[:QUOTE_CHARS].rsplit(" ", 1)[0] + " …"
        return template.get(language).replace("{quote}", quote)

    def missing_text(self, criterion: str, language: str, place: Place) -> str | None:
        """The "why" of a missing part, saying in words where it belongs; None without a template."""
        template = self.missing.get(criterion)
        if template is None:
            return None
        return template.get(language).replace("{where}", self.places[place].get(language))


def load_prompt(name: str, folder: Path | None = None) -> PromptTemplate:
    """The template ``<folder>/<name>.md`` (default folder: the shipped ``prompts/``), validated and cached."""
    if not _PROMPT_NAME.fullmatch(name):
        raise PromptError(f"{name!r} is not a prompt name", name=name)
    return _load_template_file((folder or DEFAULT_PROMPTS_DIR).resolve() / f"{name}.md")


def load_rubric(folder: Path | None = None) -> Rubric:
    """The rubric ``<folder>/rubric.yaml`` (default folder: the shipped ``prompts/``), validated and cached."""
    return _load_rubric_file((folder or DEFAULT_PROMPTS_DIR).resolve() / RUBRIC_FILE)


def load_why(folder: Path | None = None) -> WhyTemplates:
    """The "why" templates ``<folder>/why.yaml`` (default folder: the shipped ``prompts/``), validated and cached."""
    path = (folder or DEFAULT_PROMPTS_DIR).resolve() / WHY_FILE
    return _load_why_file(path)


@functools.lru_cache(maxsize=8)
def _load_why_file(path: Path) -> WhyTemplates:
    try:
        return WhyTemplates.model_validate(_parse_yaml(_read_text(path), path))
    except ValidationError as exc:
        raise PromptError(f"{path.name}: {_describe(exc)}", path=path) from exc


@functools.lru_cache(maxsize=64)
def _load_template_file(path: Path) -> PromptTemplate:
    name = path.stem
    match = _FRONT_MATTER.match(_read_text(path))
    if not match:
        raise PromptError(f"{path.name}: must open with a --- front matter block ---", name=name, path=path)
    meta = _parse_yaml(match.group(1), path)
    try:
        front = _FrontMatter.model_validate(meta)
        return PromptTemplate(name=name, version=front.version, variables=front.variables, body=match.group(2))
    except ValidationError as exc:
        raise PromptError(f"{path.name}: {_describe(exc)}", name=name, path=path) from exc


@functools.lru_cache(maxsize=8)
def _load_rubric_file(path: Path) -> Rubric:
    data = _parse_yaml(_read_text(path), path)
    try:
        return Rubric.model_validate(data)
    except ValidationError as exc:
        raise PromptError(f"{path.name}: {_describe(exc)}", path=path) from exc


def _read_text(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(f"{path}: cannot be read ({exc})", name=path.stem, path=path) from exc


def _parse_yaml(text: str, path: Path) -> object:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise PromptError(f"{path.name}: not valid YAML: {exc}", name=path.stem, path=path) from exc


def _describe(exc: ValidationError) -> str:
    """A validation error as short ``where: what`` clauses."""
    return "; ".join(
        f"{'.'.join(str(part) for part in error['loc']) or 'file'}: {error['msg']}" for error in exc.errors()
    )
