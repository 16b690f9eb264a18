"""The review worksheet through the API: the city fills a criterion's slots and claims items, the
reviewer reads the worksheet, an approval short of it is refused (409, saying what falls short), a
clarification answer attaches the missing document (an upload, filled in from the city's own), and
the approval stands; an override is recorded. Criteria are chosen by property, not id."""

from __future__ import annotations

from domain.standard import get_standard
from tests.integration.entrypoints.http.conftest import Api
from tests.integration.entrypoints.http.test_documents import PDF, upload
from tests.scenarios import approval_json, enough_items, evidence_json

STANDARD = get_standard("wwc-2022")
# A criterion with two or more required documents, and one that has a prerequisite.
ROOMY = next(c for c in STANDARD.criteria if len(c.required_documents) >= 2)
DEPENDENT = next(c for c in STANDARD.criteria if c.prerequisites and c.id != ROOMY.id)


async def test_a_reviewer_works_through_the_worksheet_and_an_approval_stands_only_on_it(api: Api) -> None:
    # Given Lakeside applied and submitted ROOMY with its last required document missing
    await api.register("lakeside")
    staff, reviewer = await api.city("lakeside"), await api.reviewer()
    await api.post(
        "/v1/cities/lakeside/application", staff, {"round_id": "2026-fall", "standard_version": "wwc-2022"}
    )
    last = len(ROOMY.required_documents)
    partial = evidence_json(ROOMY.id)
    partial["documents"] = [d for d in partial["documents"] if d.get("slot") != last]
    await api.post("/v1/cities/lakeside/evidence", staff, {"items": [partial, evidence_json(DEPENDENT.id)]})
    # assigned to the reviewer, who declared no conflict,
    await api.post(
        "/v1/cities/lakeside/reviewer-assignments",
        await api.operator(),
        {
            "reviewer_id": "rev-ana",
            "reviewer_home_city": "riverton",
            "criterion_ids": [ROOMY.id, DEPENDENT.id],
        },
    )
    await api.post("/v1/cities/lakeside/review/no-conflict", reviewer)

    # When the reviewer reads the worksheet
    sheet = await api.get("/v1/cities/lakeside/worksheet", reviewer)
    # Then it shows the checklist, the claims, each slot with its documents, and what falls short
    assert sheet["checked"] is True and sheet["standard_version"] == "wwc-2022"
    roomy = next(c for c in sheet["criteria"] if c["criterion_id"] == ROOMY.id)
    assert roomy["status"] == "submitted" and roomy["claimed"] == enough_items(ROOMY.id)
    k, n = ROOMY.checklist.min_met, len(ROOMY.checklist.items)
    assert roomy["checklist"]["min_met"] == k
    assert [i["claimed"] for i in roomy["checklist"]["items"]] == [m <= k for m in range(1, n + 1)]
    assert [s["filled"] for s in roomy["required_documents"]] == [*[True] * (last - 1), False]
    assert f"required document {last} of {ROOMY.id}" in roomy["shortfalls"][0]
    dependent = next(c for c in sheet["criteria"] if c["criterion_id"] == DEPENDENT.id)
    assert dependent["cannot_earn"] is not None
    assert dependent["cannot_earn"].startswith("cannot earn its point: prerequisite")

    # When the reviewer approves ROOMY all the same, it is refused saying which document is missing
    refused = await api.post(
        "/v1/cities/lakeside/reviews", reviewer, {"items": [approval_json(ROOMY.id)]}, expect=409
    )
    title = ROOMY.required_documents[last - 1]
    assert f"required document {last} of {ROOMY.id}, {title!r}, has no document in it" in refused["detail"]
    # and an approval below the checklist is refused saying how many were found met
    short = {**approval_json(DEPENDENT.id), "checklist_met": []}
    below = await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [short]}, expect=409)
    assert f"{DEPENDENT.id} needs {DEPENDENT.checklist.min_met} of its" in below["detail"]
    assert "none were found met" in below["detail"]

    # So the reviewer asks, and the city answers with an upload in the missing slot
    asked = {"criterion_id": ROOMY.id, "decision": "request_clarification", "note": "Please attach it"}
    await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [asked]})
    document = (await upload(api, "lakeside", staff, PDF, title="Signed minutes")).json()
    answer = {
        "criterion_id": ROOMY.id,
        "answer": "Attached",
        "documents": [{"document_id": document["document_id"], "title": "made up", "slot": last}],
    }
    answered = await api.post("/v1/cities/lakeside/clarifications", staff, {"items": [answer]})
    [event] = answered["events"]
    assert event["data"]["documents"] == [
        {
            "title": "Signed minutes",
            "url": "",
            "document_id": document["document_id"],
            "sha256": document["sha256"],
            "slot": last,
        }
    ]
    # Then the worksheet shows the slot filled by the answer, and the approval stands
    sheet = await api.get("/v1/cities/lakeside/worksheet", staff)  # the city reads its own
    roomy = next(c for c in sheet["criteria"] if c["criterion_id"] == ROOMY.id)
    [added] = roomy["required_documents"][last - 1]["documents"]
    assert (added["document_id"], added["added_by"]) == (document["document_id"], "clarification")
    assert roomy["shortfalls"] == []
    approved = await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [approval_json(ROOMY.id)]})
    assert approved["events"][0]["data"]["checklist_met"] == enough_items(ROOMY.id)

    # And an override lets a short approval stand, recorded with it
    overridden = {**short, "override": "Practices confirmed on a call with the data team"}
    kept = await api.post("/v1/cities/lakeside/reviews", reviewer, {"items": [overridden]})
    assert kept["events"][0]["data"]["override"] == "Practices confirmed on a call with the data team"
    sheet = await api.get("/v1/cities/lakeside/worksheet", reviewer)
    dependent = next(c for c in sheet["criteria"] if c["criterion_id"] == DEPENDENT.id)
    assert (dependent["status"], dependent["override"]) == ("approved", overridden["override"])


async def test_a_checklist_item_the_criterion_lacks_is_a_422_naming_it(api: Api) -> None:
    await api.register("bayview")
    staff = await api.city("bayview")
    await api.post("/v1/cities/bayview/application", staff, {"round_id": "c", "standard_version": "wwc-2022"})
    n = len(ROOMY.checklist.items)
    body = {"items": [{**evidence_json(ROOMY.id), "claims": [n + 1]}]}
    refused = await api.post("/v1/cities/bayview/evidence", staff, body, expect=422)
    assert f"{ROOMY.id} has {n} checklist items; item {n + 1} does not exist" in refused["detail"]


async def test_the_worksheet_is_a_cycles_and_never_a_home_reviewers(api: Api) -> None:
    await api.register("portmore", country="JM")
    staff = await api.city("portmore")
    none = await api.get("/v1/cities/portmore/worksheet", staff, expect=404)
    assert none["error"] == "no_open_cycle"
    await api.post(
        "/v1/cities/portmore/application", staff, {"round_id": "c", "standard_version": "wwc-2022"}
    )
    local = await api.reviewer(home="portmore", name="rev-local")
    refused = await api.get("/v1/cities/portmore/worksheet", local, expect=403)
    assert "conflict of interest" in refused["detail"]
    assert (await api.get("/v1/cities/nowhere/worksheet", await api.operator(), expect=404))[
        "error"
    ] == "unknown_city"
    other = await api.get("/v1/cities/portmore/worksheet", await api.city("lakeside"), expect=403)
    assert other["error"] == "forbidden"
