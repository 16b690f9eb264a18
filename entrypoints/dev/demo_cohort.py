"""The demo cohort: a dozen fictional cities, each left in a different place on the path.

`seed_demo` drives every city through the real workflows, one Update per command exactly as the
API gives them (app.commands), so the store holds real events, the projections real rows and
Temporal real workflows. Nothing is written around the workflows.

Where a city must get past a deadline to reach its place (the appeal window before an award),
its workflow runs with a policy whose appeal window is a couple of seconds; every other timing is
the programme's. A workflow keeps its policy for life, so these cities keep that short appeal
window in later cycles too. The lapsed city imports a certification that ends a few seconds
after the import: its own validity timer lapses it. Seeding takes a few seconds (the timers run
in parallel); it needs a worker polling the task queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import structlog
from temporalio.client import Client

from app.commands import CommandService
from app.people import (
    DuplicatePerson,
    NoReviewerProfile,
    UnknownPerson,
    add_person,
    get_person,
    get_reviewer_profile,
    set_reviewer_profile,
)
from app.rounds import all_rounds, change_round, create_round, designate_honor_roll
from app.services import build_services
from app.tokens import register_identity
from domain import Actor, CityState, Level, Phase, ProgrammePolicy
from domain import commands as cmd
from domain.calendar import add_years
from domain.events import Document
from domain.people import MAX_CAPACITY as MAX_REVIEWER_CAPACITY
from domain.people import NewCityStaff, NewCommitteeMember, NewOperator, NewReviewer, ReviewerProfile
from domain.rounds import ChangeRound, CreateRound, DesignateHonorRoll, find_round
from domain.standard import get_standard
from domain.worksheet import enough_items
from eventstore import EventStore
from readmodel import load_city_state
from runtime.settings import Settings
from workflows.city import CityCertificationWorkflow
from workflows.contracts import city_workflow_id

log = structlog.get_logger(__name__)

STANDARD = "wwc-2022"
COHORT = "2026-spring"  # the round most demo cities were decided in: see its announcement
EARLIER_COHORT = "2025-fall"
NEXT_COHORT = "2026-fall"
HONOR_ROLL = ("glenmoor",)  # not certified, near the bar: the committee names it
MARKER_FILENAME = "demo-seeded.json"
SHORT_APPEAL_WINDOW = timedelta(seconds=2)
LAPSE_AFTER = timedelta(seconds=6)  # time enough to propose and countersign the import first
TIMER_WAIT = 60.0  # seconds to wait for a city's own timer before giving up
HALT_WAIT = 35.0  # seconds the other cities get to stop after a failure (a command times out at 30)

OPERATOR = Actor(role="operator", id="demo-seed")
COMMITTEE = Actor(role="committee", id="chair")
# The reviewer's id is the demo person's (DEMO_REVIEWER): signed in to the portal as her, the
# reviewer's pages show the assignments, questions and decisions the seed records under this id.
REVIEWER = Actor(role="reviewer", id="per_de30000000000a1a")
REVIEWER_HOME_CITY = "riverton"
LEAD = Actor(role="reviewer", id="rev-lead")  # the lead reviewer who signs off Platinum reviews
# A second reviewer: an upheld appeal's criteria go to someone who did not decide them before.
FRESH_REVIEWER = Actor(role="reviewer", id="rev-bo")


def _criteria() -> list[str]:
    """The standard's criteria in earning order: the first n earn n points and, once they cover the
    equity and outcome requirements every level has, reach the level n points allow."""
    return list(get_standard(STANDARD).in_earning_order())


@dataclass(frozen=True)
class DemoCity:
    id: str
    name: str
    country: str
    population: int
    story: str  # where the seed leaves it, in a few words
    region: str | None = None  # the state or province


CITIES: tuple[DemoCity, ...] = (
    DemoCity("ashbury", "Ashbury", "US", 96_000, "certified Silver", "Vermont"),
    DemoCity("brightwater", "Brightwater", "CA", 240_000, "certified Gold after a site visit", "Ontario"),
    DemoCity("cedar-hollow", "Cedar Hollow", "US", 410_000, "certified Platinum", "Oregon"),
    DemoCity(
        "dunmere",
        "Dunmere",
        "US",
        150_000,
        "elevated from Silver to Gold over two cycles, the second by an appeal upheld against a "
        "rejected criterion",
        "Ohio",
    ),
    DemoCity("kestrel-bay", "Kestrel Bay", "CA", 130_000, "imported Gold, re-certified Gold"),
    DemoCity("glenmoor", "Glenmoor", "US", 72_000, "not certified, on the Honor Roll"),
    DemoCity("fernvale", "Fernvale", "US", 58_000, "imported Silver that lapsed"),
    DemoCity(
        "valle-claro",
        "Valle Claro",
        "MX",
        320_000,
        "in review with open clarifications, one for a required document missing from its worksheet; "
        "one decision reopened by the lead reviewer and decided again",
    ),
    DemoCity(
        "puerto-lumen",
        "Puerto Lumen",
        "CO",
        210_000,
        "submitting evidence; one approval stands on an override (a required document seen on a call)",
    ),
    DemoCity(
        "harrow-point",
        "Harrow Point",
        "US",
        45_000,
        "registered with a data snapshot, its profile corrected, a past certification as history",
    ),
    DemoCity("santa-brisa", "Santa Brisa", "CL", 175_000, "appealing a Silver decision"),
    DemoCity("quarry-hill", "Quarry Hill", "US", 88_000, "site visit scheduled"),
)


@dataclass
class SeedReport:
    seeded: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # already in the store: left as they are

    @property
    def cities(self) -> int:
        return len(self.seeded) + len(self.skipped)


# --- the marker: seeding happens once per data directory ---------------------------------------


def marker_path(settings: Settings) -> Path:
    return settings.data_dir / MARKER_FILENAME


def already_seeded(settings: Settings) -> bool:
    return marker_path(settings).is_file()


def mark_seeded(settings: Settings, report: SeedReport) -> None:
    body = {
        "seeded_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seeded": report.seeded,
        "skipped": report.skipped,
    }
    path = marker_path(settings)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(body, indent=2) + "\n")


# --- driving one city ---------------------------------------------------------------------------


class SeedStopped(Exception):
    """Seeding was asked to stop (Ctrl-C, or another city failed) and did, between two commands."""


class _City:
    """Gives one demo city its commands through app.commands, under its own policy."""

    def __init__(self, commands: CommandService, city: DemoCity, halt: asyncio.Event) -> None:
        self.commands = commands
        self.city = city
        self.halt = halt
        self.staff = Actor(role="city", id=f"staff-{city.id}")

    async def register(self) -> None:
        self.check()
        c = self.city
        command = cmd.RegisterCity(
            city_id=c.id, name=c.name, country=c.country, population=c.population, region=c.region
        )
        await self.commands.register(command, OPERATOR)

    def check(self) -> None:
        # Stop between commands, never inside one: an Update cancelled in flight may still be
        # applied, and its client task would end with an error nobody reads.
        if self.halt.is_set():
            raise SeedStopped(self.city.id)

    async def do(self, command: cmd.HumanCommand, who: Actor | None = None) -> None:
        self.check()
        await self.commands.give(self.city.id, command, who or self.staff)

    async def imported(self, level: Level, cohort: str, *, valid_until: datetime) -> None:
        """A certification from before citycert, as long as the programme's validity allows: the
        operator proposes it, a committee member countersigns it."""
        valid_from = add_years(valid_until, -self.commands.policy.validity_years)
        await self.do(
            cmd.ProposeImport(
                level=level,
                cohort=cohort,
                standard_version=STANDARD,
                valid_from=valid_from,
                valid_until=valid_until,
                proposed_by=OPERATOR.id,
            ),
            OPERATOR,
        )
        await self.do(cmd.CountersignImport(countersigned_by=COMMITTEE.id), COMMITTEE)

    async def snapshot(self, met: Sequence[str], partly: Sequence[str] = ()) -> None:
        answers: dict[str, Any] = dict.fromkeys(_criteria(), "not_met")
        answers.update(dict.fromkeys(partly, "partly"))
        answers.update(dict.fromkeys(met, "met"))
        await self.do(cmd.TakeDataSnapshot(standard_version=STANDARD, answers=answers))

    async def apply(self, cohort: str) -> None:
        await self.do(cmd.ApplyForCertification(cohort=cohort, standard_version=STANDARD))

    async def submit(self, ids: Sequence[str], missing: dict[str, int] | None = None) -> None:
        """Evidence whose worksheets are complete: a document in each required slot (but the slot
        `missing` names for a criterion), the checklist's k items claimed, a pack beside them."""
        items = []
        for cid in ids:
            slug = f"https://example.org/{self.city.id}/{cid.replace(' ', '-').lower()}"
            pack = Document(title=f"{cid} evidence pack", url=f"{slug}.pdf")
            items.append(self.evidence(cid, pack, missing=(missing or {}).get(cid)))
        await self.do(cmd.SubmitEvidence(items=items))

    def evidence(self, cid: str, pack: Document, missing: int | None = None) -> cmd.EvidenceItem:
        """The criterion's evidence: a document in each required-document slot (but `missing`),
        `pack` beside them, its k checklist items claimed."""
        criterion = get_standard(STANDARD).criterion(cid)
        slug = f"https://example.org/{self.city.id}/{cid.replace(' ', '-').lower()}"
        slots = [
            Document(title=title[:200], url=f"{slug}/{n}.pdf", slot=n)
            for n, title in enumerate(criterion.required_documents, start=1)
            if missing != n
        ]
        return cmd.EvidenceItem(
            criterion_id=cid,
            documents=[*slots, pack],
            narrative=f"How {self.city.name} meets {cid}.",
            claims=enough_items(criterion),
        )

    async def review(
        self,
        approve: Sequence[str],
        ask: dict[str, str] | None = None,
        overrides: dict[str, str] | None = None,
        reject: dict[str, str] | None = None,
        reviewer: Actor = REVIEWER,
    ) -> None:
        """Approvals finding each criterion's k checklist items met (an override's reason where
        `overrides` gives one), then the clarification requests and the rejections, by `reviewer`
        once assigned the criteria and declared free of conflicts."""
        standard = get_standard(STANDARD)
        items = [
            cmd.ReviewItem(
                criterion_id=cid,
                decision=cmd.Verdict.APPROVE,
                checklist_met=enough_items(standard.criterion(cid)),
                override=(overrides or {}).get(cid, ""),
            )
            for cid in approve
        ]
        items += [
            cmd.ReviewItem(criterion_id=cid, decision=cmd.Verdict.REQUEST_CLARIFICATION, note=question)
            for cid, question in (ask or {}).items()
        ]
        items += [
            cmd.ReviewItem(criterion_id=cid, decision=cmd.Verdict.REJECT, note=why)
            for cid, why in (reject or {}).items()
        ]
        await self.assigned_and_declared([item.criterion_id for item in items], reviewer)
        command = cmd.ReviewEvidence(
            reviewer_id=reviewer.id, reviewer_home_city=REVIEWER_HOME_CITY, items=items
        )
        await self.do(command, reviewer)

    async def assigned_and_declared(self, ids: Sequence[str], reviewer: Actor = REVIEWER) -> None:
        """As the programme runs a review: the operator assigns the reviewer the criteria, and the
        reviewer declares no conflict with the city before seeing its evidence."""
        cycle = (await load_city_state(self.commands.store, self.city.id)).cycle
        assert cycle is not None, "a review happens in a cycle"
        unassigned = [cid for cid in ids if cycle.items[cid].reviewer_id != reviewer.id]
        if unassigned:
            assign = cmd.AssignReviewer(
                reviewer_id=reviewer.id, reviewer_home_city=REVIEWER_HOME_CITY, criterion_ids=unassigned
            )
            await self.do(assign, OPERATOR)
        if reviewer.id not in cycle.no_conflict_declared:
            await self.do(cmd.DeclareNoConflict(reviewer_id=reviewer.id), reviewer)

    async def signed_off(self) -> None:
        """The lead reviewer's sign-off, when the recommended level is one the programme has signed off."""
        state = await load_city_state(self.commands.store, self.city.id)
        if state.recommended_level not in self.commands.policy.lead_signoff_levels:
            return
        lead = cmd.AssignLeadReviewer(reviewer_id=LEAD.id, reviewer_home_city=REVIEWER_HOME_CITY)
        await self.do(lead, OPERATOR)
        await self.do(cmd.DeclareNoConflict(reviewer_id=LEAD.id), LEAD)
        await self.do(cmd.SignOffReview(reviewer_id=LEAD.id, note="The evidence packs hold up."), LEAD)

    async def to_committee(self, cohort: str, n_criteria: int, *, visit: bool = False) -> None:
        """Apply, submit and get approved the first n criteria, close, then hold or waive the visit."""
        ids = _criteria()[:n_criteria]
        await self.apply(cohort)
        await self.submit(ids)
        await self.review(ids)
        await self.do(cmd.CloseEvidenceSubmission())
        if visit:
            # A visit held last week, recorded as it took place (no scheduling first), each
            # reviewed criterion confirmed on site.
            held = datetime.now(UTC).date() - timedelta(days=7)
            findings = "Practices confirmed with the data team and two departments."
            confirmed = [cmd.CriterionFinding(criterion_id=cid, finding="confirm") for cid in ids[:3]]
            await self.do(
                cmd.CompleteSiteVisit(findings=findings, visit_date=held, criterion_findings=confirmed),
                COMMITTEE,
            )
        else:
            await self.do(cmd.WaiveSiteVisit(reason="Virtual review of the evidence packs."), COMMITTEE)

    async def decide(self, level: str | None, rationale: str) -> None:
        await self.signed_off()
        await self.do(cmd.DecideLevel.model_validate({"level": level, "rationale": rationale}), COMMITTEE)

    async def until(self, done: Callable[[CityState], bool], what: str) -> CityState:
        """Wait for the city's own timer (appeal window, validity) to record its events.

        Asks the workflow, not the store: the store has a timer's events a moment before the
        workflow has folded them, and a command sent in that moment is judged on the old state."""
        handle = self.commands.client.get_workflow_handle(city_workflow_id(self.city.id))
        deadline = time.monotonic() + TIMER_WAIT
        while True:
            self.check()
            state = await handle.query(CityCertificationWorkflow.current_state)
            if done(state):
                return state
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.city.id}: not {what} after {TIMER_WAIT:g} s (phase {state.phase})")
            await asyncio.sleep(0.2)

    async def certified(self, cohort: str, n_criteria: int, level: str, *, visit: bool = False) -> None:
        """One whole cycle: to the committee, a decision, and the (short) appeal window closing."""
        cycles = (await load_city_state(self.commands.store, self.city.id)).cycles_started
        await self.to_committee(cohort, n_criteria, visit=visit)
        await self.decide(level, f"Meets the {level.capitalize()} bar.")
        await self.until(
            lambda s: s.phase is Phase.CERTIFIED and s.cycles_started == cycles + 1 and s.cycle is None,
            "certified",
        )


# --- the stories --------------------------------------------------------------------------------


async def _ashbury(c: _City) -> None:
    await c.snapshot(_criteria()[:24])
    await c.certified(COHORT, 24, "silver")


async def _brightwater(c: _City) -> None:
    await c.certified(COHORT, 32, "gold", visit=True)


async def _cedar_hollow(c: _City) -> None:
    await c.snapshot(_criteria()[:38], partly=_criteria()[38:41])
    await c.certified(COHORT, 40, "platinum")


async def _dunmere(c: _City) -> None:
    # Silver, accepted at once (its appeal window is a long one, for the appeal that follows).
    await c.to_committee(EARLIER_COHORT, 25)
    await c.decide("silver", "Meets the Silver bar.")
    await c.do(cmd.AcceptDecision())
    # Re-certifying, one criterion is rejected and the committee decides Silver again; the city
    # appeals against that criterion with a newer document, the appeal is upheld, a fresh
    # reviewer approves it and the committee decides Gold on the new recommendation: final.
    ids = _criteria()[:30]
    contested = ids[-1]
    await c.apply(COHORT)
    await c.submit(ids)
    why = "The policy submitted is a 2019 draft; the criterion asks for one in force."
    await c.review(ids[:-1], reject={contested: why})
    await c.do(cmd.CloseEvidenceSubmission())
    await c.do(cmd.WaiveSiteVisit(reason="Visited in the previous cycle."), COMMITTEE)
    await c.decide("silver", f"{contested} is not met: one short of the Gold bar.")
    adopted = Document(
        title=f"{contested}: the policy as adopted", url="https://example.org/dunmere/adopted.pdf"
    )
    await c.do(
        cmd.FileAppeal(
            grounds=f"{contested}: the council adopted the policy in March; the adopted text is attached.",
            criteria=[contested],
            evidence=[c.evidence(contested, adopted)],
        )
    )
    await c.do(
        cmd.DecideAppeal(upheld=True, rationale="The adopted policy deserves a fresh review."), COMMITTEE
    )
    await c.do(
        cmd.AssignReviewer(
            reviewer_id=FRESH_REVIEWER.id, reviewer_home_city=REVIEWER_HOME_CITY, criterion_ids=[contested]
        ),
        OPERATOR,
    )
    await c.review([contested], reviewer=FRESH_REVIEWER)
    await c.decide("gold", "Meets the Gold bar after the appeal.")


async def _kestrel_bay(c: _City) -> None:
    now = datetime.now(UTC)
    await c.imported(Level.GOLD, "2023-spring", valid_until=now + timedelta(days=150))
    await c.certified(COHORT, 32, "gold")


async def _glenmoor(c: _City) -> None:
    # 21 of 43 points: just under the Silver bar (51 %), within the Honor Roll margin.
    await c.to_committee(COHORT, 21)
    await c.decide(None, "Close to Silver: budgeting, contracting and evaluation practices still to come.")
    await c.until(lambda s: s.phase is Phase.REGISTERED and s.cycle is None, "closed")


async def _fernvale(c: _City) -> None:
    now = datetime.now(UTC)
    await c.imported(Level.SILVER, "2023-spring", valid_until=now + LAPSE_AFTER)
    await c.until(lambda s: s.certification is None and s.phase is Phase.REGISTERED, "lapsed")


def _with_documents(ids: Sequence[str], at_least: int = 2) -> str:
    """The first of these criteria with at least that many required documents."""
    standard = get_standard(STANDARD)
    return next(cid for cid in ids if len(standard.criterion(cid).required_documents) >= at_least)


async def _valle_claro(c: _City) -> None:
    ids = _criteria()[:28]
    # Its worksheet shows one criterion's last required document missing: the reviewer asks for it.
    short = _with_documents(ids[3:])
    wanted = get_standard(STANDARD).criterion(short).required_documents
    await c.apply(NEXT_COHORT)
    await c.submit(ids, missing={short: len(wanted)})
    questions = {
        ids[2]: "Which departments does the data inventory cover, and when was it last updated?",
        short: f"Please attach the {wanted[-1][0].lower()}{wanted[-1][1:]}.",
    }
    await c.review([cid for cid in ids if cid not in questions], ask=questions)
    await c.do(cmd.CloseEvidenceSubmission())
    # A corrected decision: the lead reviewer reopens an approval that was made on the wrong
    # document, and the reviewer decides it again.
    corrected = ids[0]
    await c.do(cmd.AssignLeadReviewer(reviewer_id=LEAD.id, reviewer_home_city=REVIEWER_HOME_CITY), OPERATOR)
    await c.do(cmd.DeclareNoConflict(reviewer_id=LEAD.id), LEAD)
    reason = "The approval cited last year's document; the current one is in the pack."
    await c.do(cmd.ReopenReviewItem(criterion_id=corrected, reason=reason, reopened_by=LEAD.id), LEAD)
    await c.review([corrected])


async def _puerto_lumen(c: _City) -> None:
    ids = _criteria()[:26]
    # One criterion's second required document is missing; the reviewer saw it on a call with the
    # data team and approves all the same, saying so (the override is recorded with the approval).
    seen = _with_documents(ids[:10])
    await c.snapshot(ids)
    await c.apply(NEXT_COHORT)
    await c.submit(ids[:18], missing={seen: 2})
    await c.review(
        ids[:10],
        overrides={seen: "The second document was shown on a call with the data team on 12 March."},
    )


async def _harrow_point(c: _City) -> None:
    await c.snapshot(_criteria()[:16], partly=_criteria()[16:22])
    await c.do(
        cmd.CorrectCityProfile(
            population=47_350,
            population_source="2025 state estimate",
            population_year=2025,
            region="Maine",
            reason="Registered with the 2010 census figure and no state.",
            corrected_by=OPERATOR.id,
        ),
        OPERATOR,
    )
    # Silver in 2018-2021, before citycert: history its first re-certification will compare with.
    await c.do(
        cmd.ImportPastCertification(
            level=Level.SILVER,
            cohort="2018-fall",
            standard_version="wwc-2018",
            valid_from=datetime(2018, 11, 1, tzinfo=UTC),
            valid_until=datetime(2021, 11, 1, tzinfo=UTC),
            imported_by=OPERATOR.id,
        ),
        OPERATOR,
    )


async def _santa_brisa(c: _City) -> None:
    # Its appeal window (30 days at least, see policy_for) is open when the appeal is filed. The
    # appeal names the criterion it contests: one that, approved, lifts Silver to Gold.
    ids = _criteria()[:30]
    contested = ids[-1]
    await c.apply(COHORT)
    await c.submit(ids)
    await c.review(ids[:-1], reject={contested: "No outcomes-based procurement policy is in force."})
    await c.do(cmd.CloseEvidenceSubmission())
    await c.do(cmd.WaiveSiteVisit(reason="Virtual review of the evidence packs."), COMMITTEE)
    await c.decide("silver", f"29 of 43 points (67 %): {contested} not met, just under the Gold bar of 68 %.")
    await c.do(
        cmd.FileAppeal(
            grounds=f"{contested} is met: the outcomes-based procurement policy was adopted in March.",
            criteria=[contested],
        )
    )


async def _quarry_hill(c: _City) -> None:
    ids = _criteria()[:30]
    await c.apply(NEXT_COHORT)
    await c.submit(ids)
    await c.review(ids)
    await c.do(cmd.CloseEvidenceSubmission())
    visit = datetime.now(UTC).date() + timedelta(days=14)
    await c.do(cmd.ScheduleSiteVisit(visit_date=visit), COMMITTEE)


_STORIES: dict[str, Callable[[_City], Awaitable[None]]] = {
    "ashbury": _ashbury,
    "brightwater": _brightwater,
    "cedar-hollow": _cedar_hollow,
    "dunmere": _dunmere,
    "kestrel-bay": _kestrel_bay,
    "glenmoor": _glenmoor,
    "fernvale": _fernvale,
    "valle-claro": _valle_claro,
    "puerto-lumen": _puerto_lumen,
    "harrow-point": _harrow_point,
    "santa-brisa": _santa_brisa,
    "quarry-hill": _quarry_hill,
}
# Cities that must get past an appeal window during the seed, and one that must stay inside it.
_SHORT_APPEAL = frozenset({"ashbury", "brightwater", "cedar-hollow", "kestrel-bay", "glenmoor"})
_OPEN_APPEAL = frozenset({"santa-brisa", "dunmere"})


def policy_for(city_id: str, base: ProgrammePolicy) -> ProgrammePolicy:
    """The programme's policy (from settings), with a seconds-long appeal window for cities the
    seed must award, and at least the default 30 days for the city that files an appeal (however
    short the settings make it, e.g. for tests)."""
    if city_id in _SHORT_APPEAL:
        return base.model_copy(update={"appeal_window": SHORT_APPEAL_WINDOW})
    if city_id in _OPEN_APPEAL:
        window = max(base.appeal_window, ProgrammePolicy().appeal_window)
        return base.model_copy(update={"appeal_window": window})
    return base


# The language each demo city's contact reads: Spanish in Latin America, else English, and one
# Portuguese reader so every language's mails show up in `citycert mail list`.
_LANGUAGES = {"MX": "es", "CO": "es", "CL": "es"}


async def _contact(store: EventStore, city: DemoCity) -> None:
    """The city's data officer, who receives its mail (a person, outside the event log)."""
    language = "pt" if city.id == "fernvale" else _LANGUAGES.get(city.country, "en")
    with contextlib.suppress(DuplicatePerson):
        await add_person(
            store,
            NewCityStaff(
                role="city",
                city_id=city.id,
                name=f"{city.name} data office",
                email=f"data@{city.id}.example",
                language=language,
            ),
        )


# --- the demo's people: one to sign in as for every role ------------------------------------------


@dataclass(frozen=True)
class DemoPerson:
    role: str
    email: str
    what: str  # whom signing in as them shows, in a few words


# The cities' own contacts (_contact) are their staff; these three show the most to click through.
DEMO_STAFF = {
    "valle-claro": "answering a reviewer's questions",
    "puerto-lumen": "submitting evidence",
    "ashbury": "certified Silver",
}
DEMO_REVIEWER = NewReviewer(
    role="reviewer",
    city_id=REVIEWER_HOME_CITY,
    name="Ana Reviewer",
    email="ana@reviewers.example",
    language="en",
)
DEMO_COMMITTEE = NewCommitteeMember(
    role="committee", name="Rita Chair", email="chair@committee.example", language="en"
)
DEMO_OPERATOR = NewOperator(
    role="operator", name="Omar Operator", email="ops@citycert.example", language="en"
)


def demo_people() -> list[DemoPerson]:
    """Whom a newcomer can sign in as, in the order the box lists them."""
    names = {city.id: city.name for city in CITIES}
    staff = [
        DemoPerson("city", f"data@{city_id}.example", f"{names[city_id]}, {doing}")
        for city_id, doing in DEMO_STAFF.items()
    ]
    return [
        *staff,
        DemoPerson("reviewer", DEMO_REVIEWER.email, "the demo's reviews are hers"),
        DemoPerson("committee", DEMO_COMMITTEE.email, "the rounds, their boards"),
        DemoPerson("operator", DEMO_OPERATOR.email, "runs the programme"),
    ]


async def _seed_people(store: EventStore) -> None:
    """The reviewer (under the id the seeded reviews name, with a profile), the committee member
    and the operator; each city's contact comes with its city (_contact). Again: nothing changes."""
    try:
        await get_person(store, REVIEWER.id)
    except UnknownPerson:
        await add_person(store, DEMO_REVIEWER, person_id=REVIEWER.id)
    try:
        await get_reviewer_profile(store, REVIEWER.id)  # an operator's changes to it stay
    except NoReviewerProfile:
        areas = [area.id for area in get_standard(STANDARD).practice_areas]
        # One reviewer takes the criteria of every demo city in review at once, and criteria given
        # by hand beyond a reviewer's capacity are refused (app/assignment_capacity.py): the most
        # a record allows.
        profile = ReviewerProfile(
            organisation="Open Data Partners", practice_areas=areas, capacity=MAX_REVIEWER_CAPACITY
        )
        await set_reviewer_profile(store, REVIEWER.id, profile)
    for person in (DEMO_COMMITTEE, DEMO_OPERATOR):
        with contextlib.suppress(DuplicatePerson):  # seeded before, into this store
            await add_person(store, person)


def _demo_rounds(today: date) -> list[CreateRound]:
    """The demo's rounds around the day it is seeded, each open for applications today: the demo
    walks cities through years of rounds in a minute, so its rounds run side by side (overlapping
    windows, which a programme's own rounds need CITYCERT_ROUNDS_MAY_OVERLAP for). The earlier
    round closes today and is announced once its city is decided (_announce_earlier_round), the
    spring round (most demo cities) in three months."""

    def on(days: int) -> date:
        return today + timedelta(days=days)

    def of(round_id: str, name: str, *days: int) -> CreateRound:
        opens, closes, deadline, announced = (on(d) for d in days)
        return CreateRound(
            round_id=round_id,
            name=name,
            opens_on=opens,
            closes_on=closes,
            submission_deadline=deadline,
            announcement_on=announced,
            review_capacity=40,
        )

    return [
        of(EARLIER_COHORT, "Fall 2025", -60, 0, 0, 1),
        of(COHORT, "Spring 2026", -30, 30, 60, 90),
        of(NEXT_COHORT, "Fall 2026", -1, 60, 120, 180),
    ]


async def _seed_rounds(store: EventStore) -> None:
    """The rounds, once per store, before any demo city applies to one."""
    if await all_rounds(store):
        return
    for command in _demo_rounds(datetime.now(UTC).date()):
        await create_round(store, command, OPERATOR, may_overlap=True)


async def _announce_earlier_round(store: EventStore) -> None:
    """The earlier round, its city decided, closes and is announced today: the demo has one round
    public at /public/rounds/2025-fall/announcement.md (an operator's change of its dates)."""
    today = datetime.now(UTC).date()
    earlier = find_round(await all_rounds(store), EARLIER_COHORT)
    if earlier is None or earlier.announced(today):
        return
    change = ChangeRound(
        round_id=EARLIER_COHORT,
        closes_on=today - timedelta(days=2),
        submission_deadline=today - timedelta(days=1),
        announcement_on=today,
    )
    await change_round(store, change, OPERATOR, may_overlap=True)


async def _designate_honor_roll(store: EventStore, cities: Sequence[DemoCity]) -> None:
    """The Honor Roll the committee designates for the spring round, once its cities are there."""
    spring = find_round(await all_rounds(store), COHORT)
    if spring is None or spring.honor_roll is not None:
        return
    seeded = {city.id for city in cities}
    roll = [city_id for city_id in HONOR_ROLL if city_id in seeded]
    await designate_honor_roll(store, DesignateHonorRoll(round_id=COHORT, city_ids=roll), COMMITTEE)


async def seed_demo(
    store: EventStore,
    client: Client,
    settings: Settings,
    *,
    stop: asyncio.Event | None = None,
    cities: Sequence[DemoCity] = CITIES,
) -> SeedReport:
    """Seed every demo city not yet in the store, all at once; raises the first city's failure,
    or SeedStopped once `stop` is set (each city stops before its next command).

    A city already in the store (an earlier seed, or the operator's own city of that id) is left
    alone, so running this again is harmless; a city stopped half-way stays where it got to.
    """
    commands = build_services(settings, store, client).commands
    report = SeedReport()
    # The demo's actors are identities like any token holder's: a token later made for rev-ana is
    # bound to her home city, as her seeded reviews were.
    await _seed_people(store)
    await register_identity(store, "reviewer", REVIEWER.id, REVIEWER_HOME_CITY)
    await register_identity(store, "reviewer", LEAD.id, REVIEWER_HOME_CITY)
    await register_identity(store, "reviewer", FRESH_REVIEWER.id, REVIEWER_HOME_CITY)
    await register_identity(store, "committee", COMMITTEE.id)
    await register_identity(store, "operator", OPERATOR.id)
    for city in cities:
        await register_identity(store, "city", f"staff-{city.id}", city.id)
    await _seed_rounds(store)
    halt = asyncio.Event()

    async def one(city: DemoCity) -> None:
        if (await load_city_state(store, city.id)).version > 0:
            report.skipped.append(city.id)
            return
        driver = _City(commands.with_policy(policy_for(city.id, commands.policy)), city, halt)
        await driver.register()
        await _contact(store, city)
        await _STORIES[city.id](driver)
        report.seeded.append(city.id)
        log.info("demo.city_seeded", city_id=city.id, story=city.story)

    async def relay_stop() -> None:
        if stop is not None:
            await stop.wait()
            halt.set()

    started = time.monotonic()
    relay = asyncio.create_task(relay_stop())
    try:
        await _run_together([one(city) for city in cities], halt)
    finally:
        relay.cancel()
    await _designate_honor_roll(store, cities)
    await _announce_earlier_round(store)
    report.seeded.sort()
    report.skipped.sort()
    log.info(
        "demo.seeded",
        seeded=len(report.seeded),
        skipped=len(report.skipped),
        seconds=round(time.monotonic() - started, 1),
    )
    return report


async def _run_together(jobs: Sequence[Coroutine[Any, Any, None]], halt: asyncio.Event) -> None:
    """Run the jobs together. On the first failure (or our cancellation) the others are halted
    and given time to stop between two commands; then the failure is raised."""
    tasks = [asyncio.ensure_future(job) for job in jobs]
    try:
        for done in asyncio.as_completed(tasks):
            await done
    except BaseException:
        halt.set()
        _, pending = await asyncio.wait(tasks, timeout=HALT_WAIT)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
