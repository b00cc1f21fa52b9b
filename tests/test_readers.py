"""Readable where it is read: citations, answers and search results in the reader's language first."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Sequence
from pathlib import Path

import pytest

from coach import Coach, InputError, Settings
from coach.knowledge.embeddings import Embedder, Vectors
from coach.knowledge.retrieval import reader_first
from coach.knowledge.translations import NOTE_PENDING, numbers_of, translation_problems
from coach.language import SUPPORTED_LANGUAGES, detect_language
from coach.models import Passage
from tests.fake_openai import Behaviour, fake_openai_server, last_user_text

RUDE_RU = "Не надо было так поздно заказывать. Ждите, мы ничего не можем сделать. Это не наша вина."
DEAD_LLM = "http://127.0.0.1:9/v1"
CURATED = "coach team (curated)"


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


def test_docs_translate_imports_a_file_keeping_good_lines_and_naming_bad_ones(
    coach: Coach, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from coach.cli.main import main

    pid = "mn-complaints-7-tips#6"
    english = coach.read_passage(pid, "en").text  # the curated one: a good translation
    lines = [
        json.dumps({"id": pid, "language": "en", "text": english + " "}),
        "{broken",
        json.dumps({"id": pid, "language": "kk", "text": english}),  # English is not Kazakh
    ]
    source = tmp_path / "mine.jsonl"
    source.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(coach.settings.knowledge_dir))
    monkeypatch.setenv("COACH_DATA_DIR", str(coach.settings.data_dir))
    assert main(["docs", "translate", "--import", str(source), "--user", "tess"]) == 1
    out, err = capsys.readouterr()
    assert "1 translations kept, 2 refused" in out
    assert "line 2: not JSON" in err and "not in Kazakh" in err
    assert coach.read_passage(pid, "en").translated_by == "tess"


# --------------------------------------------------------------------------- read_passage and translations

RU_PASSAGE = Passage(
    id="ru-handle-complaints-quickly#4",
    document="ru-handle-complaints-quickly",
    title="Как быстро решать жалобы",
    language="ru",
    text="Извинитесь перед клиентом и назовите срок решения: ответ в течение 24 часов, возврат за 14 дней.",
)
EN_GOOD = "Apologise to the customer and name a deadline: an answer within 24 hours, a refund within 14 days."
EN_NO_NUMBER = "Apologise to the customer and name a deadline: an answer within a day, a refund within two weeks."


def _translating_coach(tmp_path: Path, embedder: Embedder, url: str) -> Coach:
    settings = Settings(
        knowledge_dir=tmp_path / "knowledge", data_dir=tmp_path / "data", llm_base_url=url, llm_max_retries=0
    )
    (tmp_path / "knowledge").mkdir(exist_ok=True)
    return Coach(settings, embedder=embedder)


def test_translation_checks_refuse_a_lost_number_a_wrong_language_and_a_drifted_meaning() -> None:
    original = RU_PASSAGE.text
    assert translation_problems(original, EN_GOOD, "en", 0.95) == []
    assert translation_problems(original, EN_NO_NUMBER, "en", 0.95) == ["numbers dropped: 14, 24"]
    assert translation_problems(original, original, "en", 0.99) == ["not in English"]
    assert "meaning drifted" in translation_problems(original, EN_GOOD, "en", 0.5)[0]


def test_a_machine_translation_is_made_once_and_a_new_version_is_translated_again(
    tmp_path: Path, embedder: Embedder
) -> None:
    with fake_openai_server(Behaviour(content=EN_GOOD)) as (url, behaviour):
        reader = _translating_coach(tmp_path, embedder, url)._parts.reader
        assert reader.read(RU_PASSAGE, "en").note == NOTE_PENDING  # never waits unless asked
        assert behaviour.requests == []
        read = reader.read(RU_PASSAGE, "en", wait=True)
        assert (read.language, read.text, read.machine_translated) == ("en", EN_GOOD, True)
        assert (read.original_language, read.original_text) == ("ru", RU_PASSAGE.text)
        assert "Извинитесь" in last_user_text(behaviour.requests[0])
        assert reader.read(RU_PASSAGE, "en").text == EN_GOOD  # from the cache, no new request
        assert reader.read(RU_PASSAGE, "ru").text == RU_PASSAGE.text  # the original in its own language
        assert len(behaviour.requests) == 1
        newer = RU_PASSAGE.model_copy(update={"text": RU_PASSAGE.text.replace("14", "10")})
        assert reader.read(newer, "en").note == NOTE_PENDING  # the old version's translation is not this one's
        behaviour.content = EN_GOOD.replace("14", "10")
        assert reader.read(newer, "en", wait=True).text == behaviour.content
        assert len(behaviour.requests) == 2


def test_a_translation_that_drops_a_number_is_refused_and_the_original_shown(
    tmp_path: Path, embedder: Embedder
) -> None:
    with fake_openai_server(Behaviour(content=EN_NO_NUMBER)) as (url, _):
        reader = _translating_coach(tmp_path, embedder, url)._parts.reader
        read = reader.read(RU_PASSAGE, "en", wait=True)
    assert (read.language, read.text, read.machine_translated) == ("ru", RU_PASSAGE.text, False)
    assert "numbers dropped: 14, 24" in read.note


def test_a_trainers_translation_wins_until_the_passage_changes(tmp_path: Path, embedder: Embedder) -> None:
    with fake_openai_server(Behaviour(content=EN_GOOD)) as (url, behaviour):
        reader = _translating_coach(tmp_path, embedder, url)._parts.reader
        reader.read(RU_PASSAGE, "en", wait=True)
        mine = "Say sorry; answer in 24 hours, refund in 14 days."
        before, after = reader.trainers.put(RU_PASSAGE, "en", mine, "tess")
        assert before is None and after
        read = reader.read(RU_PASSAGE, "en")
        assert (read.text, read.machine_translated, read.translated_by) == (mine, False, "tess")
        assert reader.trainers.languages([RU_PASSAGE]) == {RU_PASSAGE.id: {"en"}}
        newer = RU_PASSAGE.model_copy(update={"text": RU_PASSAGE.text + " Спасибо."})
        assert reader.trainers.get(newer, "en") is None
        assert len(behaviour.requests) == 1


def test_read_passage_by_id_and_a_trainers_translation_through_the_coach(
    tmp_path: Path, coach: Coach, embedder: Embedder
) -> None:
    shutil.rmtree(coach.settings.knowledge_dir / "translations")  # this test is about one without the curated ones
    pid = "ru-handle-complaints-quickly#4"
    original = coach.read_passage(pid, "ru")
    assert (original.language, original.machine_translated, original.original_text) == ("ru", False, None)
    pending = coach.read_passage(pid, "kk")  # nothing made yet, and the page never waits
    assert (pending.language, pending.text, pending.note) == ("ru", original.text, NOTE_PENDING)
    short = "Тұтынушыдан кешірім сұраңыз."  # far shorter than the original: the meaning check refuses it
    with pytest.raises(InputError, match="meaning drifted"):
        coach.translate_passage(pid, "kk", short, user="tess")
    mine = coach.translate_passage(pid, "kk", short, user="tess", force=True)  # the trainer vouches for it
    assert (mine.language, mine.translated_by, mine.original_text) == ("kk", "tess", original.text)
    assert coach.read_passage(pid, "kk").text == short
    entry = coach.audit_log()[-1]
    assert (entry.action, entry.user, entry.document) == (
        "translated",
        "tess",
        "translations/ru-handle-complaints-quickly.yaml",
    )
    with pytest.raises(InputError):
        coach.read_passage("no-such#1", "en")


def test_a_trainers_translation_in_another_language_or_without_a_number_is_refused_even_when_forced(
    coach: Coach,
) -> None:
    pid = "ru-handle-complaints-quickly#2"
    original = coach.read_passage(pid, "ru").text
    with pytest.raises(InputError, match="not in Kazakh"):
        coach.translate_passage(pid, "kk", original, force=True)
    with pytest.raises(InputError, match="language"):
        coach.translate_passage(pid, "ru", original)  # its own language
    numbered = coach.read_passage("mn-complaints-7-tips#6", "mn").text
    assert numbers_of(numbered), "the test needs a passage with a number"
    english = coach.read_passage("mn-complaints-7-tips#6", "en").text
    with pytest.raises(InputError, match="numbers dropped"):
        coach.translate_passage("mn-complaints-7-tips#6", "en", re.sub(r"\d", "", english), force=True)


def test_every_shipped_passage_reads_in_every_language_from_a_curated_translation(indexed_coach: Coach) -> None:
    """knowledge/translations/ covers each shipped passage's current version in the four other languages, each
    in its language with the original's numbers (the meaning check and a blind rating are bench/readers.py's)."""
    passages = [c.passage for c in indexed_coach.store.all_passages()]
    assert len(passages) >= 60
    for passage in passages:
        for language in SUPPORTED_LANGUAGES:
            read = indexed_coach.read_passage(passage.id, language)
            assert read.language == language and not read.note, (passage.id, language, read.note)
            if language != passage.language:
                assert not read.machine_translated and read.translated_by == CURATED, (passage.id, language)
                assert detect_language(read.text) == language, (passage.id, language)
                assert numbers_of(passage.text) <= numbers_of(read.text), (passage.id, language)
                assert read.original_title == passage.title != read.title, "the title reads in that language too"
                if passage.section:
                    assert read.original_section == passage.section != read.section, (passage.id, language)
                back = indexed_coach.read_passage(passage.id, passage.language)
                assert (back.title, back.section, back.text) == (passage.title, passage.section, passage.text)


def test_coverage_shows_translated_cells_and_keeps_the_gaps() -> None:
    from coach.knowledge.links import LinkReport
    from coach.web import render_knowledge

    report = LinkReport(languages=["el", "ru"], coverage={"apology_ownership": {"el": 0, "ru": 2}})
    translated = {"apology_ownership": {"el": 2, "en": 2, "ru": 0, "kk": 0, "mn": 0}}
    headers, rows = render_knowledge.coverage_rows(report, {"apology_ownership": "Apology"}, translated)
    assert headers == ["criterion", "el", "ru", "en"]
    gap = render_knowledge.GAP
    assert rows == [["Apology (apology_ownership)", f"{gap} (+2 translated)", "2", f"{gap} (+2 translated)"]]


# --------------------------------------------------------------------------- ask in the question's language


def test_ask_answers_extractively_first_and_drops_a_synthesis_in_another_language(
    indexed_coach: Coach, embedder: Embedder
) -> None:
    base = indexed_coach.settings
    russian = "Сначала признайте чувства клиента, затем предложите решение [1]."
    with fake_openai_server(Behaviour(content=russian)) as (url, behaviour):
        settings = Settings(
            knowledge_dir=base.knowledge_dir, data_dir=base.data_dir, llm_base_url=url, llm_max_retries=0, cache=False
        )
        events = list(Coach(settings, embedder=embedder).ask_stream("How should I answer an angry customer?"))
    first, answer = events[0], events[-1].result
    assert first.stage == "retrieved" and re.search(r"\[\d\]", first.partial_text), "the extractive answer comes first"
    assert answer is not None and answer.extractive == first.partial_text
    assert 2 <= len(re.findall(r"\[\d\]", answer.extractive)) <= 3
    streamed = [r for r in behaviour.requests if r.get("stream")]
    assert len(streamed) == 2, "a synthesis in the wrong language is asked for once more"
    assert answer.synthesis == "" and answer.text == answer.extractive and not answer.grounding.language_ok


def test_the_passages_sentence_vectors_are_kept_on_disk_and_reused(tmp_path: Path, embedder: Embedder) -> None:
    from coach.writing.answers import SentencePicker

    class Counting(Embedder):
        calls = 0

        def passages(self, texts: Sequence[str]) -> Vectors:
            Counting.calls += 1
            return embedder.passages(texts)

    store = tmp_path / "sentence-vectors.npz"
    passage = RU_PASSAGE.model_copy(update={"text": RU_PASSAGE.text + " Спасибо клиенту за терпение."})
    first = SentencePicker(Counting(), store)
    assert first.warm([passage]) == 2 and Counting.calls == 1  # two sentences, one call
    assert first.warm([passage]) == 0 and Counting.calls == 1
    again = SentencePicker(Counting(), store)  # a new process: read from the data dir, nothing embedded
    question = embedder.queries(["Как извиниться?"])[0]
    assert again.best_sentences(question, [passage], "ru") and Counting.calls == 1
    store.write_bytes(b"not a vectors file")
    assert SentencePicker(Counting(), store).warm([passage]) == 2  # an unreadable file is an empty one


def test_a_translations_preamble_and_afterword_are_cut() -> None:
    from coach.knowledge.translations import without_wrapping

    made = 'Here is the English translation of the Kazakh text:\n\n"Stay calm."\n\nThis translation keeps the tone.'
    assert without_wrapping(made) == "Stay calm."
    assert without_wrapping("Stay calm: listen first.") == "Stay calm: listen first."


def test_the_background_job_translates_the_knowledge_base_and_the_page_reads_it(
    tmp_path: Path, embedder: Embedder
) -> None:
    """One small Russian document; the fake server answers every translation with the same English text."""
    knowledge = tmp_path / "knowledge"
    knowledge.mkdir()
    (knowledge / "ru-short.md").write_text(f"# Жалобы\n\n{RU_PASSAGE.text}\n", encoding="utf-8")
    with fake_openai_server(Behaviour(content=EN_GOOD)) as (url, behaviour):
        coach = _translating_coach(tmp_path, embedder, url)
        coach.index()
        job = coach.translate_in_background()
        assert job.wait(timeout=120) and (job.total, job.done) == (4, 4)  # en, el, kk, mn
        assert job.failed == 3  # English text is not Greek, Kazakh or Mongolian: refused, never shown
        read = coach.read_passage("ru-short#1", "en")
        assert read.machine_translated and read.text == EN_GOOD
        assert "not in Greek" in coach.read_passage("ru-short#1", "el").note
        asked = len(behaviour.requests)
        assert coach.translate_in_background().wait(timeout=60) and len(behaviour.requests) == asked  # kept
