"""Documents and passages: verbatim text, stable ids, structure-aware splitting, bad files."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from coach.errors import KnowledgeError
from coach.knowledge.passages import (
    decode_document,
    find_document_files,
    parse_document,
    parse_notes,
    read_document,
    sentence_spans,
    split_passages,
    split_sentences,
)

from .conftest import KNOWLEDGE, SEEDS

_MARKER = re.compile(r"^\s*(\d+[.)]|[-*•])\s+", re.MULTILINE)


def normalise(text: str) -> str:
    """Whitespace collapsed and list markers dropped, the same way for seed and passage."""
    return " ".join(_MARKER.sub("", text).split())


def all_documents():
    return [read_document(path, 1_000_000) for path in find_document_files(KNOWLEDGE)]


def test_knowledge_has_the_five_seed_articles_with_front_matter():
    documents = all_documents()
    assert len(documents) == 5
    assert {doc.language for doc in documents} == {"mn", "kk", "ru", "el"}
    assert len({doc.source for doc in documents}) == 5
    for doc in documents:
        assert re.fullmatch(r"[a-z]{2}-[a-z0-9-]+", doc.id), doc.id
        assert doc.title and doc.source.endswith(".txt")


@pytest.mark.skipif(not SEEDS.is_dir(), reason="the seeds live in ../shared/seeds beside the project")
@pytest.mark.parametrize("doc", all_documents(), ids=lambda d: d.id)
def test_every_passage_is_verbatim_from_its_seed(doc):
    seed = normalise((SEEDS / doc.source).read_text(encoding="utf-8"))
    passages = split_passages(doc)
    assert passages
    for passage in passages:
        assert normalise(passage.text) in seed, passage.id


def test_debris_is_gone():
    text = " ".join(doc.body for doc in all_documents())
    for debris in ("Загрузить PDF", "Реклама", "Disclaimer", "How.com.vn", "Πνευματικά δικαιώματα", "Шуудангийн цаг"):
        assert debris not in text


def test_passage_ids_are_stable_unique_and_readable():
    first = [p.id for doc in all_documents() for p in split_passages(doc)]
    second = [p.id for doc in all_documents() for p in split_passages(doc)]
    assert first == second
    assert len(first) == len(set(first))
    assert all(re.fullmatch(r"[a-z]{2}-[a-z0-9-]+#\d+", pid) for pid in first)


def test_passages_are_citable_units_with_headings():
    passages = [p for doc in all_documents() for p in split_passages(doc)]
    lengths = [len(p.text) for p in passages]
    assert min(lengths) >= 40 and max(lengths) <= 900
    greek = {p.id: p for p in passages if p.document == "el-customer-queries"}
    assert greek["el-customer-queries#1"].section.startswith("Κατανόηση")
    assert greek["el-customer-queries#1"].text.startswith("Ακούστε ενεργά")


def test_numbered_tip_keeps_its_explanation_and_bullets_together():
    doc = parse_document(
        "# Guide\n\n## Tips\n\n1. Listen first.\n   Let them explain the whole problem.\n   - Ask for details.\n\n"
        "2. Apologise for any inconvenience caused to the customer, sincerely and early.\n",
        "guide.md",
    )
    passages = split_passages(doc)
    assert [p.text for p in passages] == [
        "Listen first.\nLet them explain the whole problem.\n- Ask for details.",
        "Apologise for any inconvenience caused to the customer, sincerely and early.",
    ]
    assert {p.section for p in passages} == {"Tips"}
    assert doc.title == "Guide" and doc.id == "guide" and doc.language == "en"


def test_short_lead_in_is_glued_to_the_next_block():
    doc = parse_document(
        "Here are three tips:\n\n- Thank the customer for their patience and their business.\n", "t.md"
    )
    assert [p.text for p in split_passages(doc)] == [
        "Here are three tips:\nThank the customer for their patience and their business."
    ]


def test_long_paragraph_is_cut_at_sentence_ends_verbatim():
    sentence = "Ойлгож байгаагаа харуулахын тулд идэвхтэй сонсох хэрэгтэй гэсэн үг юм."
    text = ".".join([sentence[:-1]] * 30) + "."
    doc = parse_document(text, "long.txt")
    passages = split_passages(doc)
    assert len(passages) > 1
    assert "".join(p.text for p in passages) == text
    assert all(len(p.text) <= 900 for p in passages)


def test_front_matter_is_optional_and_language_is_detected():
    doc = parse_document("Всегда благодарите клиента за терпение и за то, что он выбрал нас.", "спасибо.txt")
    assert doc.language == "ru"
    assert doc.title.startswith("Всегда")
    assert doc.id.startswith("doc-")


def test_sentence_spans_split_glued_sentences_and_keep_offsets():
    text = "Гомдол нь чухал.Тэд бас анхааруулдаг! Third one?  "
    spans = sentence_spans(text)
    assert [text[a:b] for a, b in spans] == ["Гомдол нь чухал.", "Тэд бас анхааруулдаг!", "Third one?"]
    assert split_sentences("No end") == ["No end"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        (b"\xff\xfe\x00binary\x00", "binary"),
        ("Привет".encode("cp1251"), "not valid UTF-8"),
        (b"x" * 2000, "over the"),
    ],
)
def test_bad_bytes_give_a_clear_error(raw, message):
    with pytest.raises(KnowledgeError, match=message):
        decode_document(raw, "bad.md", max_bytes=1000)


def test_bom_and_crlf_are_handled():
    assert decode_document("\ufeffline one\r\nline two".encode(), "ok.md", 1000) == "line one\nline two"


@pytest.mark.parametrize("text", ["", "   \n\n", "---\ntitle: Empty\n---\n\n"])
def test_document_without_text_is_rejected(text):
    with pytest.raises(KnowledgeError, match="no text"):
        parse_document(text, "empty.md")


def test_unreadable_file_is_a_knowledge_error(tmp_path: Path):
    missing = tmp_path / "gone.md"
    with pytest.raises(KnowledgeError, match="cannot be read"):
        read_document(missing, 1000)


def test_every_retrieval_note_points_at_an_existing_passage():
    notes_dir = KNOWLEDGE / "notes"
    for doc in (read_document(p, 1_000_000, notes_dir) for p in find_document_files(KNOWLEDGE)):
        passage_ids = {p.id for p in split_passages(doc)}
        assert doc.notes, doc.id
        assert set(doc.notes) <= passage_ids, set(doc.notes) - passage_ids
        noted = [p for p in split_passages(doc) if p.notes]
        assert all(len(p.notes) == 5 for p in noted)  # one joined text per language


def test_notes_change_the_document_hash(tmp_path: Path):
    (tmp_path / "notes").mkdir()
    doc_path = tmp_path / "guide.md"
    doc_path.write_text("Thank the customer for their patience and for their business with us.", encoding="utf-8")
    plain = read_document(doc_path, 10_000, tmp_path / "notes")
    (tmp_path / "notes" / "guide.yaml").write_text(
        'passages:\n  "guide#1":\n    rule: Thank them.\n    phrases:\n      en: ["Thanks for waiting."]\n',
        encoding="utf-8",
    )
    noted = read_document(doc_path, 10_000, tmp_path / "notes")
    assert noted.content_hash != plain.content_hash
    assert split_passages(noted)[0].notes == ("Thanks for waiting.",)


def test_broken_notes_are_a_clear_error():
    with pytest.raises(KnowledgeError, match="passages"):
        parse_notes("- just a list", "bad.yaml")
    with pytest.raises(KnowledgeError, match="not valid YAML"):
        parse_notes("passages: [unclosed", "bad.yaml")
