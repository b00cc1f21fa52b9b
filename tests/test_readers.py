"""Readable where it is read: citations, answers and search results in the reader's language first."""

from __future__ import annotations

import pytest

from coach import Coach, InputError, Settings
from coach.knowledge.embeddings import Embedder
from coach.knowledge.retrieval import reader_first
from coach.models import Passage

RUDE_RU = "Не надо было так поздно заказывать. Ждите, мы ничего не можем сделать. Это не наша вина."
DEAD_LLM = "http://127.0.0.1:9/v1"


def _passage(pid: str, language: str, score: float) -> Passage:
    return Passage(id=pid, document=pid.split("#")[0], title="t", language=language, text="x", score=score)


def test_reader_first_keeps_closeness_within_each_group() -> None:
    ranked = [_passage("kk#1", "kk", 0.9), _passage("ru#2", "ru", 0.8), _passage("mn#1", "mn", 0.7)]
    ranked.append(_passage("ru#5", "ru", 0.6))
    assert [p.id for p in reader_first(ranked, "ru")] == ["ru#2", "ru#5", "kk#1", "mn#1"]
    assert [p.id for p in reader_first(ranked, "en")] == [p.id for p in ranked]  # no English: closeness only
    assert [p.id for p in reader_first(ranked, None)] == [p.id for p in ranked]


def test_a_russian_drafts_issues_cite_russian_passages_first(indexed_coach: Coach, embedder: Embedder) -> None:
    base = indexed_coach.settings
    coach = Coach(
        Settings(knowledge_dir=base.knowledge_dir, data_dir=base.data_dir, llm_base_url=DEAD_LLM, cache=False),
        embedder=embedder,
    )
    critique = coach.critique(RUDE_RU)
    links = coach.links.read()
    by_id = {p.id: p for p in critique.passages}
    checked = 0
    for issue in critique.issues:
        linked_ru = [pid for pid in links.passages_of(issue.criterion) if pid.startswith("ru-")]
        if linked_ru and issue.passage_ids:
            assert by_id[issue.passage_ids[0]].language == "ru", issue.criterion
            checked += 1
    assert checked >= 1


def test_search_for_the_page_lists_the_querys_language_first(indexed_coach: Coach) -> None:
    found = indexed_coach.search("Клиент злится: как извиниться и что предложить?", k=5, reader_first=True)
    languages = [p.language for p in found]
    assert "ru" in languages
    assert languages == sorted(languages, key=lambda language: language != "ru")


def test_docs_history_takes_a_documents_id_or_its_file_name(
    coach: Coach, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli.main import main
    from coach.knowledge.versions import AuditEntry

    name = "ru-handle-complaints-quickly.md"
    coach.versions.keep(name, b"# an older version\n\nIts text.\n")
    coach.versions.record(AuditEntry.now("tess", "replaced", name, b"old", b"new", version=1))
    by_id, by_file = coach.document_history("ru-handle-complaints-quickly"), coach.document_history(name)
    assert [v.sha256 for v in by_id] == [v.sha256 for v in by_file] != []
    assert coach.audit_log("ru-handle-complaints-quickly") == coach.audit_log(name) != []
    with pytest.raises(InputError, match="neither a document's id nor its file name"):
        coach.document_history("no-such-document")

    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(coach.settings.knowledge_dir))
    monkeypatch.setenv("COACH_DATA_DIR", str(coach.settings.data_dir))
    outputs = []
    for given in ("ru-handle-complaints-quickly", name):
        assert main(["docs", "history", given]) == 0
        outputs.append(capsys.readouterr().out)
    assert outputs[0] == outputs[1]
    assert "version 1" in outputs[0] and "tess  replaced" in outputs[0]
