"""Versions of guideline documents: nothing replaced or removed is lost, and the index follows the folder.

Real Chroma stores in tmp_path and the real embedder, over a knowledge folder of two small documents.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from coach import Coach, InputError, NewVersionError, Settings
from coach.cli.main import main
from coach.knowledge.diff import describe_change
from coach.knowledge.embeddings import Embedder
from coach.knowledge.links import LINKS_FILE
from coach.knowledge.passages import parse_document, split_passages
from coach.knowledge.versions import sha256_of

REFUNDS = "en-refunds.md"
V1 = "# Refunds\n\nAlways tell the customer the exact date when the refund will arrive in their bank account.\n"
V2 = (
    "# Refunds\n\nNever promise a refund date; explain that the bank decides when the money reaches the account.\n\n"
    "Offer a discount code to every customer who has waited more than a week for a refund.\n"
)
V3 = "# Refunds\n\nApologise first, then give the refund's reference number so the customer can follow it.\n"
GREETING = "# Greeting\n\nGreet the customer by name in the first line of every reply, and sign with your own name.\n"


@pytest.fixture
def small_settings(tmp_path: Path) -> Settings:
    knowledge = tmp_path / "kb"
    knowledge.mkdir()
    (knowledge / REFUNDS).write_text(V1, encoding="utf-8")
    (knowledge / "en-greeting.md").write_text(GREETING, encoding="utf-8")
    return Settings(knowledge_dir=knowledge, data_dir=tmp_path / "data")


@pytest.fixture
def small(small_settings: Settings, embedder: Embedder) -> Coach:
    coach = Coach(small_settings, embedder=embedder)
    coach.index()
    return coach


def indexed_texts(coach: Coach) -> set[str]:
    return {candidate.passage.text for candidate in coach.store.all_passages()}


def passage_texts(text: str) -> set[str]:
    return {p.text for p in split_passages(parse_document(text, REFUNDS))}


def assert_consistent(coach: Coach) -> None:
    """The folder, the index, the last indexed copies, the history and the audit log agree."""
    documents, skipped = coach.load_documents()
    assert not skipped
    stored = coach.store.document_hashes()
    assert {d.id: d.content_hash for d in documents} == {doc_id: h for doc_id, (h, _) in stored.items()}
    for doc in documents:
        assert len(stored[doc.id][1]) == len(split_passages(doc)), f"{doc.id}: a partial set of passages"
    files = {p.name: p.read_bytes() for p in coach.settings.knowledge_dir.iterdir() if p.is_file()}
    assert coach.versions.indexed() == {name: data for name, data in files.items() if name != LINKS_FILE}
    links = coach.links.read()
    for name, sha in links.documents.items():  # the links' passage ids refer to the versions now
        assert name not in files or sha == sha256_of(files[name]), name
    for name in {e.document for e in coach.audit_log()} - {LINKS_FILE}:
        last = coach.audit_log(name)[-1]
        assert last.after_sha256 == (sha256_of(files[name]) if name in files else None), name
        for kept in coach.document_history(name):
            assert kept.path.name.split("-")[-1].startswith(kept.sha256[:12])


def test_a_new_version_is_described_by_its_passages() -> None:
    change = describe_change(REFUNDS, V1.encode(), V2.encode())
    assert change.exists and not change.identical
    assert [p.kind for p in change.passages] == ["changed", "added"]
    assert change.passages[0].before is not None and "exact date" in change.passages[0].before
    assert change.summary() == "+1 added, 1 changed, -0 removed, 0 unchanged passages"
    new = describe_change("en-new.md", None, GREETING.encode())
    assert not new.exists and [p.kind for p in new.passages] == ["added"]


@pytest.mark.slow
def test_an_upload_with_an_existing_name_is_a_new_version_kept_only_on_confirm(small: Coach) -> None:
    with pytest.raises(NewVersionError) as refused:
        small.add_document(REFUNDS, V2.encode())
    assert refused.value.change.count("added") == 1 and "new version" in str(refused.value)
    assert (small.settings.knowledge_dir / REFUNDS).read_text(encoding="utf-8") == V1
    assert passage_texts(V1) <= indexed_texts(small) and not small.document_history(REFUNDS)
    assert small.preview_document(REFUNDS, V2.encode()) == refused.value.change

    report = small.add_document(REFUNDS, V2.encode(), replace=True, user="ann")
    assert report.updated == ["en-refunds"]
    history = small.document_history(REFUNDS)
    assert [v.version for v in history] == [1] and history[0].path.read_text(encoding="utf-8") == V1
    assert passage_texts(V2) <= indexed_texts(small) and not passage_texts(V1) & indexed_texts(small)
    last = small.audit_log(REFUNDS)[-1]
    assert (last.user, last.action, last.version) == ("ann", "replaced", 1)
    assert (last.before_sha256, last.after_sha256) == (sha256_of(V1.encode()), sha256_of(V2.encode()))
    assert_consistent(small)


@pytest.mark.slow
def test_a_confirm_based_on_a_stale_preview_is_asked_again(small: Coach) -> None:
    preview = small.preview_document(REFUNDS, V2.encode())
    small.add_document(REFUNDS, V3.encode(), replace=True)  # someone else, between preview and confirm
    with pytest.raises(NewVersionError) as again:
        small.add_document(REFUNDS, V2.encode(), replace=True, base_sha256=preview.before_sha256)
    assert again.value.change.before_sha256 == sha256_of(V3.encode())
    assert (small.settings.knowledge_dir / REFUNDS).read_text(encoding="utf-8") == V3


@pytest.mark.slow
def test_revert_brings_the_old_passages_back_into_search(small: Coach) -> None:
    small.add_document(REFUNDS, V2.encode(), replace=True)
    report = small.revert_document(REFUNDS)  # the previous version: V1
    assert report.updated == ["en-refunds"]
    hits = small.search("Tell the customer the exact date the refund arrives in their bank account.", k=1)
    assert hits[0].text == V1.split("\n\n")[1].strip()
    assert [v.path.read_text(encoding="utf-8") for v in small.document_history(REFUNDS)] == [V1, V2]
    small.revert_document(REFUNDS, 2)
    assert passage_texts(V2) <= indexed_texts(small)
    assert len(small.document_history(REFUNDS)) == 3  # V1, V2, V1 again: every replaced state is kept
    with pytest.raises(InputError, match="no version 9"):
        small.revert_document(REFUNDS, 9)
    assert_consistent(small)


@pytest.mark.slow
def test_remove_then_revert_through_the_cli(
    small: Coach, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COACH_KNOWLEDGE_DIR", str(small.settings.knowledge_dir))
    monkeypatch.setenv("COACH_DATA_DIR", str(small.settings.data_dir))
    assert main(["docs", "remove", REFUNDS, "--user", "bob"]) == 0
    assert not (small.settings.knowledge_dir / REFUNDS).exists()
    assert main(["docs", "list"]) == 0
    listed = capsys.readouterr().out
    assert "en-greeting.md" in listed and REFUNDS not in listed
    assert main(["docs", "revert", REFUNDS]) == 0
    assert (small.settings.knowledge_dir / REFUNDS).read_text(encoding="utf-8") == V1
    assert main(["docs", "history", REFUNDS]) == 0
    history = capsys.readouterr().out
    assert "version 1" in history and "bob  removed" in history and "reverted" in history
    reopened = Coach(small.settings, embedder=small._embedder)
    assert passage_texts(V1) <= indexed_texts(reopened)
    assert main(["docs", "remove", "../etc/passwd"]) == 1
    assert_consistent(reopened)


@pytest.mark.slow
def test_coach_index_keeps_the_version_edited_or_deleted_in_the_folder(small: Coach) -> None:
    target = small.settings.knowledge_dir / REFUNDS
    target.write_text(V2, encoding="utf-8")
    report = small.index(user="editor")
    assert report.updated == ["en-refunds"]
    assert [v.path.read_text(encoding="utf-8") for v in small.document_history(REFUNDS)] == [V1]
    edited = small.audit_log(REFUNDS)[-1]
    assert (edited.action, edited.user, edited.version) == ("edited-in-folder", "editor", 1)
    assert not small.index().changed and len(small.document_history(REFUNDS)) == 1  # nothing kept twice

    target.unlink()
    assert small.index().removed == ["en-refunds"]
    assert [v.path.read_text(encoding="utf-8") for v in small.document_history(REFUNDS)] == [V1, V2]
    assert small.audit_log(REFUNDS)[-1].action == "deleted-in-folder"
    assert_consistent(small)


@pytest.mark.slow
def test_two_simultaneous_uploads_lose_nothing(small_settings: Settings, embedder: Embedder) -> None:
    first = Coach(small_settings, embedder=embedder)
    first.index()
    second = Coach(small_settings, embedder=embedder)  # its own lock object: only the file lock orders them
    start = threading.Barrier(2)
    errors: list[BaseException] = []

    def upload(coach: Coach, text: str) -> None:
        start.wait()
        try:
            coach.add_document(REFUNDS, text.encode(), replace=True)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=args) for args in ((first, V2), (second, V3))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    current = (small_settings.knowledge_dir / REFUNDS).read_text(encoding="utf-8")
    kept = [v.path.read_text(encoding="utf-8") for v in first.document_history(REFUNDS)]
    assert kept[0] == V1 and sorted([*kept[1:], current]) == sorted([V2, V3])
    assert passage_texts(current) <= indexed_texts(first)
    assert [e.action for e in first.audit_log(REFUNDS)][-2:] == ["replaced", "replaced"]
    assert_consistent(first)


@pytest.mark.slow
def test_a_kill_during_indexing_leaves_documents_history_and_index_consistent(
    small_settings: Settings, embedder: Embedder
) -> None:
    env = {
        **os.environ,
        "COACH_KNOWLEDGE_DIR": str(small_settings.knowledge_dir),
        "COACH_DATA_DIR": str(small_settings.data_dir),
    }
    command = [sys.executable, "-m", "coach.cli", "index"]
    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    linked = split_passages(parse_document(V1, REFUNDS))[0].id
    link = [sys.executable, "-m", "coach.cli", "links", "add", linked, "apology_ownership"]
    subprocess.run(link, env=env, check=True, capture_output=True, timeout=300)
    (small_settings.knowledge_dir / REFUNDS).write_text(V2, encoding="utf-8")
    long_doc = "# Tips\n\n" + "\n\n".join(
        f"Tip {n}: answer question number {n} with the order number, the date and your own name." for n in range(60)
    )
    (small_settings.knowledge_dir / "en-tips.md").write_text(long_doc, encoding="utf-8")

    running = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    kept_folder = small_settings.data_dir / "history" / REFUNDS
    deadline = time.monotonic() + 120
    while running.poll() is None and time.monotonic() < deadline:
        if kept_folder.is_dir() and any(kept_folder.iterdir()):
            break  # the old version is kept, the index is being written: kill it now
        time.sleep(0.01)
    running.send_signal(signal.SIGKILL)
    assert running.wait() == -signal.SIGKILL, "coach index finished before it could be killed"
    indexed_copy = small_settings.data_dir / "history" / ".indexed" / REFUNDS
    assert indexed_copy.read_text(encoding="utf-8") == V1, "killed mid-way: the index had not caught up"

    subprocess.run(command, env=env, check=True, capture_output=True, timeout=300)
    coach = Coach(small_settings, embedder=embedder)
    assert [v.path.read_text(encoding="utf-8") for v in coach.document_history(REFUNDS)] == [V1]
    assert passage_texts(V2) <= indexed_texts(coach) and not passage_texts(V1) & indexed_texts(coach)
    assert [e.action for e in coach.audit_log(REFUNDS)] == ["added-in-folder", "edited-in-folder"]
    links = coach.links.read()  # the link followed its passage into V2 (aligned by text) or is reported orphaned
    assert links.passages_of("apology_ownership") or [o.passage_id for o in links.orphaned] == [linked]
    assert not coach.links.check().unknown  # and points at no passage that does not exist
    assert_consistent(coach)
