"""The index against a real Chroma store and the real embedded model: incremental, robust, searchable."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coach import Coach, InputError, Settings

pytestmark = pytest.mark.slow

NEW_DOC = """---
id: en-thanks
title: Thank the customer
language: en
---
# Thank the customer

Always thank the customer for their patience and for taking the time to tell us about the problem.
"""


def test_index_is_idempotent_and_incremental(coach: Coach, knowledge_dir: Path):
    first = coach.index()
    assert len(first.added) == 5 and first.passages_added == first.total_passages > 40
    again = coach.index()
    assert not again.changed and again.passages_added == 0 and len(again.unchanged) == 5

    (knowledge_dir / "en-thanks.md").write_text(NEW_DOC, encoding="utf-8")
    added = coach.index()
    assert added.added == ["en-thanks"] and added.passages_added == 1
    assert added.total_passages == first.total_passages + 1

    greek = knowledge_dir / "el-customer-queries.md"
    greek.write_text(greek.read_text(encoding="utf-8").split("## Ακολουθώντας:")[0], encoding="utf-8")
    updated = coach.index()
    assert updated.updated == ["el-customer-queries"] and sorted(updated.unchanged) == sorted(
        [
            "en-thanks",
            "kk-dissatisfied-clients",
            "mn-complaints-7-tips",
            "mn-service-best-practices",
            "ru-handle-complaints-quickly",
        ]
    )
    assert 0 < updated.passages_added < updated.passages_removed

    (knowledge_dir / "en-thanks.md").unlink()
    removed = coach.index()
    assert removed.removed == ["en-thanks"] and removed.passages_removed == 1
    assert "en-thanks#1" not in {p.id for p in coach.search("thank the customer for their patience", k=10)}


def test_new_document_is_searchable_at_once(coach: Coach):
    coach.index()
    report = coach.add_document("en-thanks.md", NEW_DOC.encode())
    assert report.added == ["en-thanks"]
    hits = coach.search("Always thank the customer for their patience and for taking the time to tell us.", k=5)
    assert "en-thanks#1" in [p.id for p in hits]


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.md", b"   \n", "no text"),
        ("binary.md", b"\x00\x01\x02" * 100, "binary"),
        ("big.txt", b"a" * 2_000_000, "limit"),
        ("notes.pdf", b"%PDF-1.4", "only .md and .txt"),
    ],
)
def test_bad_upload_changes_nothing(coach: Coach, knowledge_dir: Path, name: str, content: bytes, message: str):
    before = sorted(p.name for p in knowledge_dir.iterdir())
    with pytest.raises(InputError, match=message):
        coach.add_document(name, content)
    assert sorted(p.name for p in knowledge_dir.iterdir()) == before


def test_unreadable_documents_are_skipped_with_a_reason(coach: Coach, knowledge_dir: Path):
    (knowledge_dir / "cp1251.txt").write_bytes("Жалоба клиента".encode("cp1251"))
    (knowledge_dir / "blank.md").write_text("\n\n", encoding="utf-8")
    report = coach.index()
    assert set(report.skipped) == {"cp1251.txt", "blank.md"}
    assert "UTF-8" in report.skipped["cp1251.txt"] and "no text" in report.skipped["blank.md"]
    assert len(report.added) == 5


def test_corrupt_index_is_rebuilt(settings: Settings, embedder):
    index_dir = settings.resolved_index_dir
    index_dir.mkdir(parents=True)
    (index_dir / "chroma.sqlite3").write_bytes(b"this is not a database" * 100)
    report = Coach(settings, embedder=embedder).index()
    assert report.rebuilt and len(report.added) == 5


def test_index_path_that_is_a_file_is_a_clear_error(settings: Settings, embedder):
    settings.resolved_index_dir.parent.mkdir(parents=True)
    settings.resolved_index_dir.write_text("not a folder")
    with pytest.raises(Exception, match="not a directory"):
        Coach(settings, embedder=embedder).index()


def test_missing_index_is_built_on_first_search(coach: Coach, settings: Settings):
    shutil.rmtree(settings.resolved_index_dir, ignore_errors=True)
    hits = coach.search("Извините, что заставили вас ждать", k=3)
    assert len(hits) == 3 and coach.store.count() > 40


@pytest.mark.parametrize("text", ["", "   ", "x" * 1_000_000])
def test_empty_and_oversized_queries_are_input_errors(indexed_coach: Coach, text: str):
    with pytest.raises(InputError):
        indexed_coach.search(text)


def test_k_is_bounded(indexed_coach: Coach):
    with pytest.raises(InputError, match="k must be"):
        indexed_coach.search("hello there", k=0)


def test_search_returns_k_distinct_passages_with_all_fields(indexed_coach: Coach):
    hits = indexed_coach.search("You should have read the terms before ordering. Nothing we can do.", k=5)
    assert len(hits) == 5 and len({p.id for p in hits}) == 5
    for passage in hits:
        assert passage.id.startswith(passage.document + "#")
        assert passage.title and passage.text and passage.language in {"mn", "kk", "ru", "el"}
        assert -1.0 <= passage.score <= 1.0
    assert [p.score for p in hits] == sorted((p.score for p in hits), reverse=True), "best first"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # each language finds the Greek/Russian "let them explain, do not interrupt" advice
        ("Please stop interrupting me and let me finish explaining the problem.", "el-customer-queries#1"),
        ("Μην με διακόπτετε, αφήστε με να εξηγήσω το πρόβλημα μέχρι το τέλος.", "el-customer-queries#1"),
        # a Russian question finds the Greek advice to thank the customer
        ("Нужно ли благодарить клиента за терпение?", "el-customer-queries#10"),
    ],
)
def test_cross_lingual_search_finds_the_principle(indexed_coach: Coach, query: str, expected: str):
    assert expected in [p.id for p in indexed_coach.search(query, k=5)]
