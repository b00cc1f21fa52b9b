"""The trainers' rubric links (knowledge/links.yaml): checks, edits with an audit, and links that follow passages.

Pure logic over hand-made passages, then the real knowledge base, a real Chroma store and the real embedder.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from coach import Coach, InputError, Settings
from coach.knowledge.diff import version_passages
from coach.knowledge.embeddings import Embedder
from coach.knowledge.links import (
    LINKS_FILE,
    Links,
    OrphanedLink,
    check_links,
    dump_links,
    follow_new_versions,
    read_links,
)
from coach.knowledge.passages import PassageRecord
from coach.knowledge.versions import sha256_of
from coach.prompts import load_rubric

RUBRIC_IDS = load_rubric().ids
DOC = "en-refunds.md"
INTRO = "Refund requests come in every day and every one of them deserves a careful and friendly answer."
APOLOGY = "Apologise for the delay first, in your own words, before you explain anything about the refund."
DATES = "Tell the customer the date the refund was sent and when their bank usually shows the money."
NEW = "Offer a goodwill voucher when a refund took longer than the date you promised to the customer."


def document(*paragraphs: str) -> bytes:
    return ("# Refunds\n\n" + "\n\n".join(paragraphs) + "\n").encode()


def ids_by_text(data: bytes) -> dict[str, str]:
    return {p.text: p.id for p in version_passages(DOC, data)}


def test_check_reports_gaps_unknown_links_and_unlinked_passages() -> None:
    links = Links(links={"tone": ["a#1", "gone#9"], "thanks": [], "colour": ["a#1"]})
    report = check_links(links, ["tone", "thanks"], {"a#1": "ru", "b#1": "el", "b#2": "el"})
    assert report.languages == ["el", "ru"]
    assert report.coverage == {"tone": {"el": 0, "ru": 1}, "thanks": {"el": 0, "ru": 0}}
    assert report.gaps == {"tone": ["el"], "thanks": ["el", "ru"]}
    assert report.criteria_without_passages == ["thanks"]
    assert report.unknown == {"tone": ["gone#9"]}
    assert report.unknown_criteria == ["colour"]
    assert report.unlinked_passages == ["b#1", "b#2"]
    assert not report.ok
    assert "thanks: no passage in el, ru" in report.summary() and "gone#9" in report.summary()


def test_the_shipped_links_resolve_and_their_gaps_are_reported(indexed_coach: Coach) -> None:
    report = indexed_coach.links.check()
    assert report.ok, report.summary()
    assert set(report.coverage) == set(RUBRIC_IDS)
    assert report.languages == ["el", "kk", "mn", "ru"]
    # A gap the knowledge base really has: no Greek passage says to apologise.
    assert "el" in report.gaps["apology_ownership"]
    assert 0 < len(report.unlinked_passages) < len(indexed_coach.links.passages()) / 2


def test_links_round_trip_through_the_file(tmp_path: Path) -> None:
    links = Links(
        links={"tone": ["a#1"]},
        rejected={"a#2": ["tone"]},
        orphaned=[OrphanedLink(criterion="tone", passage_id="a#3", text="old", since=datetime.now(UTC))],
        documents={"a.md": "0" * 64},
    )
    path = tmp_path / LINKS_FILE
    path.write_text(dump_links(links), encoding="utf-8")
    assert path.read_text(encoding="utf-8").startswith("# Which guideline passages")
    assert read_links(path) == links
    assert read_links(tmp_path / "absent.yaml") == Links()


def test_a_new_version_moves_links_with_their_passages_and_orphans_removed_ones() -> None:
    old = document(INTRO, APOLOGY, DATES)
    new = document(NEW, INTRO, APOLOGY)  # a paragraph added at the top shifts every id; DATES is removed
    before, after = ids_by_text(old), ids_by_text(new)
    assert before[APOLOGY] != after[APOLOGY]
    links = Links(
        links={"apology_ownership": [before[APOLOGY]], "expectations_timeframe": [before[DATES], "other#1"]},
        documents={DOC: sha256_of(old)},
    )
    moved = follow_new_versions(links, {DOC: new}, version_passages, lambda name, sha: old)
    assert moved.links["apology_ownership"] == [after[APOLOGY]]
    assert moved.links["expectations_timeframe"] == ["other#1"]  # another document's link is untouched
    assert [(o.criterion, o.passage_id, o.text) for o in moved.orphaned] == [
        ("expectations_timeframe", before[DATES], DATES)
    ]
    assert moved.documents == {DOC: sha256_of(new)}
    # Run again (as after a crash): nothing moves twice.
    assert follow_new_versions(moved, {DOC: new}, version_passages, lambda name, sha: old) == moved


def test_a_document_the_links_never_knew_is_only_recorded() -> None:
    data = document(INTRO)
    moved = follow_new_versions(Links(), {DOC: data}, version_passages, lambda name, sha: None)
    assert moved.links == {} and moved.documents == {DOC: sha256_of(data)}


# --------------------------------------------------------------------------- through Coach, real store


@pytest.fixture
def small(tmp_path: Path, embedder: Embedder) -> Coach:
    knowledge = tmp_path / "kb"
    knowledge.mkdir()
    data = document(INTRO, APOLOGY, DATES)
    (knowledge / DOC).write_bytes(data)
    ids = ids_by_text(data)
    links = Links(links={"apology_ownership": [ids[APOLOGY]]}, documents={DOC: sha256_of(data)})
    (knowledge / LINKS_FILE).write_text(dump_links(links), encoding="utf-8")
    coach = Coach(Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data"), embedder=embedder)
    coach.index()
    return coach


def passage_text(coach: Coach, passage_id: str) -> str:
    return next(p.text for p in coach.links.passages() if p.id == passage_id)


def test_linking_checks_its_input_and_is_audited(small: Coach) -> None:
    dates = ids_by_text(document(INTRO, APOLOGY, DATES))[DATES]
    small.links.link(dates, "expectations_timeframe", user="tina")
    assert small.links.read().passages_of("expectations_timeframe") == (dates,)
    small.links.reject(dates, "followup_thanks", user="tina")
    small.links.unlink(dates, "expectations_timeframe", user="tina")
    assert small.links.read().passages_of("expectations_timeframe") == ()
    entries = [e for e in small.audit_log() if e.document == LINKS_FILE]
    assert [(e.action, e.user) for e in entries] == [
        ("linked", "tina"),
        ("rejected-link", "tina"),
        ("unlinked", "tina"),
    ]
    assert all(e.before_sha256 and e.after_sha256 and e.before_sha256 != e.after_sha256 for e in entries)
    with pytest.raises(InputError, match="not a rubric criterion"):
        small.links.link(dates, "speed")
    with pytest.raises(InputError, match="no passage"):
        small.links.link("en-refunds#99", "expectations_timeframe")
    with pytest.raises(InputError, match="not linked"):
        small.links.unlink(dates, "expectations_timeframe")


def test_an_upload_shows_and_then_moves_the_links(small: Coach) -> None:
    new = document(NEW, INTRO, APOLOGY)
    change = small.preview_document(DOC, new)
    assert change.links_kept == 1 and change.links_orphaned == {}
    small.add_document(DOC, new, replace=True, user="tina")
    (linked,) = small.links.read().passages_of("apology_ownership")
    assert passage_text(small, linked) == APOLOGY
    assert not small.links.check().unknown and not small.links.check().orphaned
    # A version without the apology: the preview says which link it orphans, and after it the check reports it.
    bare = document(NEW, INTRO)
    assert small.preview_document(DOC, bare).links_orphaned == {linked: ["apology_ownership"]}
    small.add_document(DOC, bare, replace=True, user="tina")
    report = small.links.check()
    assert [o.text for o in report.orphaned] == [APOLOGY] and not report.unknown
    assert report.criteria_without_passages.count("apology_ownership") == 1
    # Revert: the passage is back word for word, and so is its link.
    small.revert_document(DOC, user="tina")
    assert small.links.read().passages_of("apology_ownership") == (linked,)
    assert small.links.read().orphaned == []
    # Removed again, then the orphan dropped by hand: nothing is left of it.
    small.add_document(DOC, bare, replace=True, user="tina")
    small.links.unlink(linked, "apology_ownership", user="tina")
    assert small.links.read().orphaned == [] and small.links.read().passages_of("apology_ownership") == ()


def test_a_hand_edit_in_the_folder_moves_the_links_on_coach_index(small: Coach) -> None:
    path = small.settings.knowledge_dir / DOC
    path.write_bytes(document(NEW, INTRO, APOLOGY, DATES))
    small.index(user="tina")
    (linked,) = small.links.read().passages_of("apology_ownership")
    assert passage_text(small, linked) == APOLOGY
    assert small.links.read().documents[DOC] == sha256_of(path.read_bytes())


def test_a_critique_cites_what_the_links_say_and_its_cache_key_follows_them(indexed_coach: Coach) -> None:
    draft = "Your parcel is late. It is not our fault, the courier lost it. Wait."
    critique = indexed_coach.critique(draft)
    linked = {cid: set(indexed_coach.links.read().passages_of(cid)) for cid in RUBRIC_IDS}
    cited = [(issue.criterion, pid) for issue in critique.issues for pid in issue.passage_ids]
    assert cited and all(pid in linked[cid] for cid, pid in cited)
    assert "+links-" in critique.prompt_version
    passages = indexed_coach.search(draft)
    key = indexed_coach._critiques.cache_key("critique", passages, draft, None)
    unlinked = next(iter(indexed_coach.links.check().unlinked_passages))
    indexed_coach.links.link(unlinked, "calm_professional_tone", user="test")
    try:
        assert indexed_coach._critiques.cache_key("critique", passages, draft, None) != key
    finally:
        indexed_coach.links.unlink(unlinked, "calm_professional_tone", user="test")


def test_passages_of_a_version_that_cannot_be_read_are_none() -> None:
    assert version_passages(DOC, None) == []
    assert version_passages(DOC, b"\xff\xfe not utf-8 \xff") == []
    assert isinstance(version_passages(DOC, document(INTRO))[0], PassageRecord)


def test_the_links_command_edits_and_checks(small: Coach, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from coach.cli.main import main

    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(small.settings.knowledge_dir))
    monkeypatch.setenv("COACH_DATA_DIR", str(small.settings.data_dir))
    dates = ids_by_text(document(INTRO, APOLOGY, DATES))[DATES]
    assert main(["links", "add", dates, "expectations_timeframe", "--user", "tina"]) == 0
    assert main(["links", "list"]) == 0
    assert f"expectations_timeframe (en 1): {dates}" in capsys.readouterr().out
    assert main(["links", "check"]) == 1  # most criteria have no passage in this one-document knowledge base
    assert "criterion without passages: followup_thanks" in capsys.readouterr().out
    assert main(["links", "add", dates, "speed"]) == 1
    assert "not a rubric criterion" in capsys.readouterr().err
    assert main(["links", "remove", dates, "expectations_timeframe"]) == 0
    assert small.links.read().passages_of("expectations_timeframe") == ()
    intro = ids_by_text(document(INTRO, APOLOGY, DATES))[INTRO]
    capsys.readouterr()
    assert main(["links", "suggest"]) == 0
    suggested = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert set(suggested) == {intro, dates}  # the passages linked to nothing, each with criteria to accept
    first = suggested[intro].split(" (")[0]
    assert main(["links", "reject", intro, first]) == 0
    capsys.readouterr()
    assert main(["links", "suggest"]) == 0
    assert first not in dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())[intro]
