"""End to end: `citycert dev` in a subprocess, used over HTTP and the command line as a developer would.

The module starts it once (a first start, so the demo cohort is seeded); the last test stops it
with SIGINT and starts it again on the same data directory. CITYCERT_APPEAL_WINDOW is 4 seconds,
so a city registered here is certified within the test.
"""

from __future__ import annotations

import json
import re
import socket
import stat
import uuid
from typing import Any

import httpx
import pytest

from domain.standard import get_standard
from entrypoints.dev.demo_cohort import CITIES, COHORT, DEMO_REVIEWER, NEXT_COHORT, REVIEWER, demo_people
from tests.e2e.dev.conftest import Dev, eventually
from tests.scenarios import approval_json, evidence_json, slotted_documents

pytestmark = pytest.mark.slow

CRITERIA = list(get_standard("wwc-2022").in_earning_order())  # as the demo takes them
DOCS = [{"title": "Evidence pack", "url": "https://example.org/pack.pdf"}]

# Where the seed leaves each demo city: (phase, level).
DEMO = {
    "ashbury": ("certified", "silver"),
    "brightwater": ("certified", "gold"),
    "cedar-hollow": ("certified", "platinum"),
    "dunmere": ("certified", "gold"),
    "kestrel-bay": ("certified", "gold"),
    "glenmoor": ("registered", None),
    "fernvale": ("registered", None),
    "valle-claro": ("review", None),
    "puerto-lumen": ("evidence", None),
    "harrow-point": ("registered", None),
    "santa-brisa": ("appeal", None),
    "quarry-hill": ("site_visit", None),
}
# The spring round's announcement: a preview on the day the demo is seeded (it is announced in 90 days).
DEMO_ANNOUNCEMENT = {
    "newly_certified": [("cedar-hollow", "platinum"), ("brightwater", "gold"), ("ashbury", "silver")],
    "moved_up": [("dunmere", "gold")],
    "recertified": [("kestrel-bay", "gold")],
    "moved_down": [],
    "honor_roll": ["glenmoor"],
    "counts": {"silver": 1, "gold": 3, "platinum": 1},
}


def sections(announcement: dict[str, Any]) -> dict[str, Any]:
    """The announcement's cities by section, as DEMO_ANNOUNCEMENT lists them."""
    placed = ("newly_certified", "moved_up", "recertified", "moved_down")
    found: dict[str, Any] = {n: [(c["city_id"], c["level"]) for c in announcement[n]] for n in placed}
    found["honor_roll"] = [c["city_id"] for c in announcement["honor_roll"]]
    return {**found, "counts": announcement["counts"]}


def ok(response: httpx.Response, status: int = 200) -> dict[str, object]:
    assert response.status_code == status, (response.request.url, response.status_code, response.text)
    body: dict[str, object] = response.json()
    return body


def test_the_box_shows_where_everything_is_and_a_token_kept_private(dev: Dev) -> None:
    assert f"http://127.0.0.1:{dev.api_port}" in dev.box
    assert f"http://127.0.0.1:{dev.api_port}/docs" in dev.box
    assert f"http://127.0.0.1:{dev.ui_port}" in dev.box
    assert "12 fictional cities seeded now" in dev.box
    token_file = dev.data_dir / "operator-token"
    assert token_file.read_text().strip() == dev.token
    assert dev.token in dev.box, "the start that made the token shows it"
    assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
    assert dev.output().count("╭") == 1, "one box"

    with dev.http() as http:
        assert ok(http.get("/health")) == {"database": "ok", "temporal": "ok"}
        assert http.get("/docs").status_code == 200
        assert http.get("/v1/cities", headers={"Authorization": "Bearer cct_not-a-token"}).status_code == 401
        # The credential key made in the data dir, its public half published with no token.
        published = ok(http.get("/public/credentials/key"))
        assert published["id"] == f"http://127.0.0.1:{dev.api_port}/public/credentials/key"
    key_file = dev.data_dir / "credential-key.pem"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert f"public key at http://127.0.0.1:{dev.api_port}/public/credentials/key" in dev.box
    ui = eventually(
        lambda: _get(f"http://127.0.0.1:{dev.ui_port}/"), timeout=30, what="the Temporal web UI answers"
    )
    assert ui.status_code == 200


def _get(url: str) -> httpx.Response | None:
    try:
        response = httpx.get(url, timeout=5, follow_redirects=True)
    except httpx.HTTPError:
        return None
    return response if response.status_code == 200 else None


def test_the_demo_cohort_is_seeded_through_the_workflows(dev: Dev) -> None:
    with dev.http() as http:
        listed = http.get("/v1/cities")
        assert listed.status_code == 200, listed.text
        cities = {c["city_id"]: c for c in listed.json()}
        assert {c.id for c in CITIES} == set(DEMO) <= set(cities)
        assert {cid: (cities[cid]["phase"], cities[cid]["level"]) for cid in DEMO} == DEMO
        assert cities["valle-claro"]["open_review_items"] == 2
        assert cities["dunmere"]["cycle"] is None and cities["dunmere"]["round_id"] == COHORT

        # Real events, recorded by the workflows: the lapse by the city's own validity timer.
        fernvale = http.get("/v1/cities/fernvale/events", params={"limit": 1000}).json()
        assert [e["type"] for e in fernvale] == [
            "CityRegistered",
            "CertificationImportProposed",
            "CertificationImported",
            "CertificationLapsed",
        ]
        assert fernvale[-1]["actor"]["role"] == "timer"
        assert all(e["workflow_id"] == "city-fernvale" for e in fernvale)
        queue = http.get("/v1/review-queue", params={"city_id": "valle-claro"}).json()
        assert [q["waiting_on"] for q in queue] == ["city", "city"]

        announcement = ok(http.get(f"/v1/rounds/{COHORT}/announcement"))
        assert sections(announcement) == DEMO_ANNOUNCEMENT and announcement["preview"] is True
        rounds = http.get("/v1/rounds").json()
        assert [r["id"] for r in rounds] == ["2026-fall", "2026-spring", "2025-fall"]
        assert http.get(f"/public/rounds/{COHORT}/announcement.json").status_code == 404  # embargoed
    # The earlier round is announced: public, with no token; Dunmere was newly certified in it.
    with dev.http() as public:
        earlier = ok(public.get("/public/rounds/2025-fall/announcement.json"))
        assert [(c["city_id"], c["level"]) for c in earlier["newly_certified"]] == [("dunmere", "silver")]
        feed = public.get("/public/rounds.atom").text
        assert "2025-fall" in feed and COHORT not in feed

    # The command line reads the same store.
    printed = dev.cli("round", "announcement", COHORT, "--format", "json").stdout
    assert sections(json.loads(printed)) == DEMO_ANNOUNCEMENT


def test_the_mails_the_demo_sends_are_kept_by_the_local_sink(dev: Dev) -> None:
    assert "Mail" in dev.box and "citycert mail list" in dev.box

    def kept() -> list[dict[str, str]] | None:
        mails: list[dict[str, str]] = json.loads(dev.cli("mail", "list", "--json").stdout)
        subjects = {m["subject"] for m in mails}
        # Fernvale's contact reads Portuguese; Valle Claro's Spanish; the committee English.
        wanted = ("Fernvale: a certificação Prata terminou", "Valle Claro: un revisor pregunta sobre")
        return mails if all(any(s.startswith(w) for s in subjects) for w in wanted) else None

    mails = eventually(kept, timeout=60, interval=1, what="the relay hands the demo's mails to the sink")
    assert "data@fernvale.example" in {m["to"] for m in mails}
    assert len({m["message_id"] for m in mails}) == len(mails), "each mail once"
    shown = dev.cli("mail", "show", "1").stdout
    assert "Message-ID: <" in shown and "@citycert>" in shown


def test_the_box_names_a_person_for_every_role_and_their_sign_in_link_reaches_the_sink(dev: Dev) -> None:
    people = demo_people()
    assert {p.role for p in people} == {"city", "reviewer", "committee", "operator"}
    for person in people:
        assert person.email in dev.box, person
    assert "citycert mail list" in dev.box and "citycert mail show" in dev.box

    # The demo reviewer is the person the seeded reviews name: her queue holds the demo's items.
    with dev.http() as http:
        ana = ok(http.get(f"/v1/people/{REVIEWER.id}"))
        assert (ana["email"], ana["role"]) == (DEMO_REVIEWER.email, "reviewer")
        assert http.get(f"/v1/people/{REVIEWER.id}/reviewer-profile").status_code == 200
        queue = http.get("/v1/review-queue", params={"city_id": "valle-claro"}).json()
        assert queue and {q["reviewer_id"] for q in queue} == {REVIEWER.id}

    # She asks for a link on the portal's first page, as a person does.
    link = re.compile(rf"{re.escape(dev.api_url)}/sign-in/link\?token=[A-Za-z0-9_-]+")
    with httpx.Client(base_url=dev.api_url, timeout=30) as browser:
        form = browser.get("/")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', form.text)
        assert csrf, "the sign-in page has a form"
        asked = browser.post("/sign-in", data={"email": DEMO_REVIEWER.email, "csrf_token": csrf[1]})
        assert asked.status_code == 200, asked.text

    def mailed_link() -> str | None:
        # The demo's own mails reach her too (her assignments); the link comes in its own mail.
        mails = json.loads(dev.cli("mail", "list", "--json").stdout)
        sign_in = [m for m in mails if m["to"] == DEMO_REVIEWER.email and "sign-in link" in m["subject"]]
        found = link.search(dev.cli("mail", "show", str(sign_in[-1]["n"])).stdout) if sign_in else None
        return found[0] if found else None

    eventually(mailed_link, timeout=60, interval=1, what="the sign-in mail with its link reaches the sink")


def test_a_reviewer_never_reviews_their_home_city(dev: Dev) -> None:
    # puerto-lumen has evidence waiting for a reviewer; this reviewer lives there.
    (conflicted,) = dev.token_for(["--role", "reviewer", "--city", "puerto-lumen", "--name", "rev-local"])
    with dev.http(conflicted) as http:
        refused = http.post(
            "/v1/cities/puerto-lumen/reviews",
            json={"items": [{"criterion_id": CRITERIA[12], "decision": "approve"}]},
        )
        assert refused.status_code == 403, refused.text
        assert "conflict of interest" in refused.json()["detail"]
        # Any other city is theirs to review.
        assert http.get("/v1/review-queue").status_code == 200

    done = dev.cli("review", "approve", "puerto-lumen", CRITERIA[12], expect=2, token=conflicted)
    assert "conflict of interest" in done.stderr
    with dev.http() as http:
        events = http.get("/v1/cities/puerto-lumen/events", params={"limit": 1000}).json()
    assert not any(e["actor"]["id"] == "rev-local" for e in events), "a refusal records nothing"


def test_a_city_goes_from_registration_to_certification(dev: Dev) -> None:
    city = f"e2e-{uuid.uuid4().hex[:8]}"
    cohort = NEXT_COHORT  # the demo's round open for applications now
    staff, reviewer, committee = dev.token_for(
        ["--role", "city", "--city", city, "--name", f"staff-{city}"],
        ["--role", "reviewer", "--city", "riverton", "--name", "rev-ana"],
        ["--role", "committee", "--name", "chair"],
    )
    registered = json.loads(
        dev.cli(
            "city",
            "register",
            city,
            "--name",
            "E2E Springs",
            "--country",
            "CA",
            "--population",
            "64000",
            "--json",
        ).stdout
    )
    assert registered["status"]["phase"] == "registered"

    with dev.http(staff) as as_city, dev.http(reviewer) as as_reviewer, dev.http(committee) as as_committee:
        snapshot = ok(
            as_city.post(
                f"/v1/cities/{city}/snapshot",
                json={"standard_version": "wwc-2022", "answers": dict.fromkeys(CRITERIA[:30], "met")},
            )
        )
        assert snapshot["indicative_level"] == "gold"
        ok(
            as_city.post(
                f"/v1/cities/{city}/application", json={"round_id": cohort, "standard_version": "wwc-2022"}
            )
        )
        items = [evidence_json(cid, narrative="see the pack") for cid in CRITERIA[:30]]
        ok(as_city.post(f"/v1/cities/{city}/evidence", json={"items": items}))
        # The operator assigns the reviewer, who declares no conflict with the city first.
        assignment = {
            "reviewer_id": "rev-ana",
            "reviewer_home_city": "riverton",
            "criterion_ids": CRITERIA[:30],
        }
        with dev.http() as as_operator:
            ok(as_operator.post(f"/v1/cities/{city}/reviewer-assignments", json=assignment))
        ok(as_reviewer.post(f"/v1/cities/{city}/review/no-conflict"))

        asked, *rest = CRITERIA[:30]
        verdicts = [approval_json(cid) for cid in rest]
        question = {"criterion_id": asked, "decision": "request_clarification", "note": "Which year?"}
        ok(as_reviewer.post(f"/v1/cities/{city}/reviews", json={"items": [*verdicts, question]}))
        ok(
            as_city.post(
                f"/v1/cities/{city}/clarifications",
                json={"items": [{"criterion_id": asked, "answer": "2025"}]},
            )
        )
        ok(as_reviewer.post(f"/v1/cities/{city}/reviews", json={"items": [approval_json(asked)]}))
        closed = ok(as_city.post(f"/v1/cities/{city}/evidence/close"))
        assert closed["status"]["phase"] == "site_visit"  # type: ignore[index]
        waived = ok(
            as_committee.post(f"/v1/cities/{city}/site-visit", json={"action": "waive", "reason": "virtual"})
        )
        assert waived["status"]["recommended_level"] == "gold"  # type: ignore[index]
        decided = ok(
            as_committee.post(f"/v1/cities/{city}/decision", json={"level": "gold", "rationale": "Gold"})
        )
        assert decided["status"]["phase"] == "appeal_window"  # type: ignore[index]

        # CITYCERT_APPEAL_WINDOW is 4 s: the window's timer awards the certification.
        status = eventually(
            lambda: (s := as_city.get(f"/v1/cities/{city}").json())["phase"] == "certified" and s,
            timeout=60,
            what=f"{city} certified",
        )
        assert status["level"] == "gold" and status["valid_until"]
        events = as_city.get(f"/v1/cities/{city}/events", params={"limit": 1000}).json()
        assert events[-1]["type"] == "CertificationAwarded" and events[-1]["actor"]["role"] == "timer"

        preview = ok(as_committee.get(f"/v1/rounds/{cohort}/announcement"))
        assert [(c["city_id"], c["level"]) for c in preview["newly_certified"]] == [(city, "gold")]  # type: ignore[index]
        assert preview["counts"] == {"silver": 0, "gold": 1, "platinum": 0}

    markdown = dev.cli("round", "announcement", cohort).stdout
    assert "E2E Springs" in markdown and "1 city certified" in markdown, markdown


def test_stopping_with_ctrl_c_and_starting_again_resumes(dev: Dev) -> None:
    # Made before the restart: tokens live in the database, so they still work after it.
    valle_claro, reviewer = dev.token_for(
        ["--role", "city", "--city", "valle-claro", "--name", "staff-valle-claro"],
        ["--role", "reviewer", "--city", "riverton", "--name", REVIEWER.id],
    )
    with dev.http() as http:
        before = {c["city_id"]: c for c in http.get("/v1/cities").json()}

    assert dev.stop() == 0
    output = dev.output()
    for event in ("dev.api_stopped", "worker.stopped", "temporal.dev_server_stopped", "dev.stopped"):
        assert event in output, event
    assert dev.leftovers() == [], "the dev server and the PostgreSQL it started are stopped"
    assert_ports_free(dev.api_port, dev.temporal_port, dev.ui_port)

    box = dev.start()
    assert "cct_" not in box, "the token is shown only by the start that made it"
    assert "expires" in box
    assert "seeded on an earlier start" in box
    assert dev.output().count("dev.seeding_demo") == 0, "the demo is seeded once"

    with dev.http() as http:
        after = {c["city_id"]: c for c in http.get("/v1/cities").json()}
        assert {cid: (c["phase"], c["level"], c["version"]) for cid, c in after.items()} == {
            cid: (c["phase"], c["level"], c["version"]) for cid, c in before.items()
        }
    # The workflows carried on where they were: valle-claro answers its clarifications, the
    # reviewer approves them, and its review completes.
    with dev.http() as http, dev.http(valle_claro) as as_city, dev.http(reviewer) as as_reviewer:
        queue = http.get("/v1/review-queue", params={"city_id": "valle-claro"}).json()
        open_items = [q["criterion_id"] for q in queue]
        assert len(open_items) == 2
        # One asks for a required document missing from the worksheet: the answers attach them.
        answers = [
            {
                "criterion_id": cid,
                "answer": "Attached, see the pack.",
                "documents": [
                    d.model_dump(mode="json", exclude_none=True) for d in slotted_documents(cid) if d.slot
                ],
            }
            for cid in open_items
        ]
        ok(as_city.post("/v1/cities/valle-claro/clarifications", json={"items": answers}))
        verdicts = [approval_json(cid) for cid in open_items]
        reviewed = ok(as_reviewer.post("/v1/cities/valle-claro/reviews", json={"items": verdicts}))
    assert reviewed["status"]["phase"] == "site_visit"  # type: ignore[index]
    listed = json.loads(dev.cli("city", "list", "--phase", "site_visit", "--json").stdout)
    assert {c["city_id"] for c in listed} >= {"valle-claro", "quarry-hill"}


def assert_ports_free(*ports: int) -> None:
    for port in ports:
        with socket.socket() as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(("127.0.0.1", port))  # raises if anything still listens
