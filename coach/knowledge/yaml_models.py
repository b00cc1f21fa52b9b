"""Trainers' YAML files (the phrasebook, the plain-words glossary) read into pydantic models: parsed safely, validated
with an error that names the field, and cached until the file changes."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar, cast

import yaml
from pydantic import BaseModel, ValidationError

from coach.errors import KnowledgeError
from coach.knowledge.passages import safe_yaml

Model = TypeVar("Model", bound=BaseModel)


def parse_model(text: str, model: type[Model], name: str) -> Model:
    """The model from a file's YAML text; ``KnowledgeError`` naming the file and what is wrong."""
    try:
        data = safe_yaml(text)
    except yaml.YAMLError as exc:
        raise KnowledgeError(f"{name}: not valid YAML: {exc}") from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        where = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()[:5])
        raise KnowledgeError(f"{name}: {where}") from exc


def load_model(folder: Path, fallback: Path | None, filename: str, model: type[Model], missing: str) -> Model:
    """``<folder>/<filename>`` (else the ``fallback`` folder's, e.g. the shipped one), validated and cached;
    ``missing``: what the error says when neither exists."""
    path = folder / filename
    if not path.is_file() and fallback is not None:
        path = fallback / filename
    try:
        stamp = path.stat().st_mtime_ns
    except OSError as exc:
        raise KnowledgeError(f"{path}: {missing}") from exc
    return cast(Model, _load(path, stamp, model))


@functools.lru_cache(maxsize=8)
def _load(path: Path, stamp: int, model: type[BaseModel]) -> BaseModel:
    return parse_model(path.read_text(encoding="utf-8"), model, path.name)
