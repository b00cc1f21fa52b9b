"""The trainers' part of the Knowledge tab without a browser: pure rendering, and the role check of every change."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from coach import Coach, DocumentChange, PassageChange
from coach.knowledge.links import LinkReport, OrphanedLink
from coach.web import knowledge_views, render_knowledge
from coach.web.knowledge_views import NOT_A_TRAINER, PendingVersion, Viewer
from tests.test_links import DOC, small  # noqa: F401  (the small Coach fixture)

AGENT = Viewer("ann", "agent")
TRAINER = Viewer("tess", "trainer")
NOW = datetime.now(UTC)


def test_coverage_marks_the_gaps_and_the_check_names_criteria_without_passages() -> None:
    report = LinkReport(
        languages=["el", "ru"],
        coverage={"apology_ownership": {"el": 0, "ru": 2}, "followup_thanks": {"el": 0, "ru": 0}},
        orphaned=[
            OrphanedLink(criterion="tone", passage_id="ru-doc#4", text="Будьте вежливы.", since=datetime.now(UTC))
        ],
        unlinked_passages=["el-doc#1"],
    )
    headers, rows = render_knowledge.coverage_rows(report, {"apology_ownership": "Apology"})
    assert headers == ["criterion", "el", "ru"]
    assert rows == [
        ["Apology (apology_ownership)", render_knowledge.GAP, "2"],
        ["followup_thanks (followup_thanks)", render_knowledge.GAP, render_knowledge.GAP],
    ]
    text = render_knowledge.link_check_markdown(report)
    assert "No passage at all:** followup_thanks" in text and "apology_ownership" not in text.split("\n")[0]
    assert "orphaned: `ru-doc#4` → tone" in text and "Будьте вежливы." in text
    assert "1 passages are linked to no criterion" in text


def test_a_new_version_lists_its_passages_and_the_links_it_orphans() -> None:
    change = DocumentChange(
        document="ru-doc.md",
        exists=True,
        before_sha256="a" * 64,
        after_sha256="b" * 64,
        passages=[
            PassageChange(kind="added", passage_id="ru-doc#5", after="Новый совет."),
            PassageChange(kind="removed", passage_id="ru-doc#4", before="Старый <совет>."),
        ],
        links_kept=3,
        links_orphaned={"ru-doc#4": ["apology_ownership"]},
    )
    text = render_knowledge.change_markdown(change)
    assert "**new version**" in text and "**added** `ru-doc#5` Новый совет." in text
    assert "**removed** `ru-doc#4` ~~Старый &lt;совет&gt;.~~" in text  # escaped: document text is not markup
    assert "follow their passages: 3" in text and "`ru-doc#4` is linked to apology_ownership" in text


def test_the_change_log_reads_newest_first(small: Coach) -> None:  # noqa: F811
    small.links.link(small.links.passages()[0].id, "followup_thanks", user="tess")
    rows = render_knowledge.audit_rows(small.audit_log())
    assert rows[0][1:4] == ["tess", "linked", "links.yaml"]
    assert [r[2] for r in rows][-1] == "added-in-folder"


def test_an_agent_changes_nothing_even_when_calling_the_views_directly(small: Coach, tmp_path: Path) -> None:  # noqa: F811
    upload = tmp_path / DOC
    upload.write_text("# Refunds\n\nNever answer a refund question.\n", encoding="utf-8")
    folder_before = {p.name: p.read_bytes() for p in small.settings.knowledge_dir.iterdir() if p.is_file()}
    pending = PendingVersion(str(upload), DOC, None)
    passage = small.links.passages()[0].id
    attempts = [
        knowledge_views.upload_view(small, str(upload), AGENT),
        knowledge_views.confirm_view(small, pending, AGENT),
        knowledge_views.revert_view(small, DOC, AGENT),
        knowledge_views.remove_view(small, DOC, AGENT),
        *(knowledge_views.link_view(small, action, passage, "followup_thanks", AGENT) for action in
          ("link", "unlink", "reject")),
    ]  # fmt: skip
    for outputs in attempts:
        assert NOT_A_TRAINER in outputs[0]
    assert {p.name: p.read_bytes() for p in small.settings.knowledge_dir.iterdir() if p.is_file()} == folder_before
    assert [e.action for e in small.audit_log()] == ["added-in-folder"]


def test_a_trainer_previews_then_confirms_a_new_version(small: Coach, tmp_path: Path) -> None:  # noqa: F811
    upload = tmp_path / DOC
    upload.write_text("# Refunds\n\nNever answer a refund question.\n", encoding="utf-8")
    status, preview, _row, pending, *_ = knowledge_views.upload_view(small, str(upload), TRAINER)
    assert status == "" and "**new version**" in preview.value and isinstance(pending, PendingVersion)
    assert "Never answer" not in (small.settings.knowledge_dir / DOC).read_text(encoding="utf-8")
    status, *_ = knowledge_views.confirm_view(small, pending, TRAINER)
    assert status.startswith("✓"), status
    assert "Never answer" in (small.settings.knowledge_dir / DOC).read_text(encoding="utf-8")
    assert [v.version for v in small.document_history(DOC)] == [1]
    assert small.audit_log(DOC)[-1].user == "tess"


def test_the_panel_shows_documents_coverage_and_suggestions(small: Coach) -> None:  # noqa: F811
    documents, coverage, check, passages, audit = knowledge_views.panel(small)
    assert list(documents["file"]) == [DOC]
    assert list(coverage.columns) == ["criterion", "en"]
    assert "linked to no criterion" in check
    unlinked = passages[passages["criteria"] == "—"]
    assert len(unlinked) and all(unlinked["suggested"] != "")  # suggestions for every unlinked passage
    assert list(passages.index[: len(unlinked)]) == list(unlinked.index)  # first: they wait for a trainer
