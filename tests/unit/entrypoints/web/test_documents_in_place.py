"""What a criterion's new submission keeps: given the documents its evidence holds now, each is
offered by a key of its own and kept (an upload by its id, a link as given) unless removed, or
unless a new document takes its slot; a supporting document is never replaced, only removed."""

from __future__ import annotations

from domain import commands as cmd
from domain.worksheet import CriterionWorksheet, DocumentSlot, WorksheetDocument
from entrypoints.web.city_pages import documents_in_place, kept_documents

SHA = "a" * 64


def upload(document_id: str, title: str) -> WorksheetDocument:
    return WorksheetDocument(title=title, url="", document_id=document_id, sha256=SHA, added_by="submission")


def link(url: str, title: str) -> WorksheetDocument:
    return WorksheetDocument(title=title, url=url, document_id=None, sha256=None, added_by="submission")


def criterion(
    slots: list[list[WorksheetDocument]], supporting: list[WorksheetDocument]
) -> CriterionWorksheet:
    return CriterionWorksheet.model_construct(
        required_documents=[
            DocumentSlot(number=n, title=f"slot {n}", documents=docs, filled=bool(docs))
            for n, docs in enumerate(slots, start=1)
        ],
        supporting_documents=supporting,
    )


def test_each_document_in_place_is_offered_as_the_command_names_it() -> None:
    found = criterion(
        [[upload("d" * 32, "inventory")], [link("https://example.org/plan.pdf", "plan")]],
        [upload("e" * 32, "pack")],
    )
    placed = documents_in_place(found)
    assert [(d.slot, d.title) for d in placed] == [(1, "inventory"), (2, "plan"), (None, "pack")]
    assert placed[0].given == cmd.UploadedDocument(
        document_id="d" * 32, sha256=SHA, title="inventory", slot=1
    )
    assert placed[1].given == cmd.DocumentLink(title="plan", url="https://example.org/plan.pdf", slot=2)
    assert len({d.key for d in placed}) == 3, "each has a key of its own"


def test_a_link_the_commands_no_longer_accept_is_not_offered_to_keep() -> None:
    # Recorded before the commands' bounds: a plain http link would be refused if given again
    found = criterion([[link("http://example.org/old.pdf", "old")]], [])
    assert documents_in_place(found) == []


def test_removed_and_replaced_documents_are_not_kept() -> None:
    found = criterion(
        [[upload("d" * 32, "inventory")], [upload("f" * 32, "plan")]],
        [upload("e" * 32, "pack"), upload("c" * 32, "annex")],
    )
    placed = documents_in_place(found)
    pack = next(d for d in placed if d.title == "pack")
    # A new document for slot 1 (and a new supporting one, slot 0), the pack removed
    kept = kept_documents(placed, removed={pack.key}, replaced={1})
    assert [d.title for d in kept] == ["plan", "annex"]
    assert kept_documents(placed, removed=set(), replaced=set()) == [d.given for d in placed]
