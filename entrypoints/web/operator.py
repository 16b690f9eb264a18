"""What the operators' pages show, shaped for their templates: the cities' rows and a city's
events, the people and the reviewers' profiles, the mail's deliveries, the store's health.

Reads only: every rule lives in the domain and the application layer these pages call."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from pydantic import ValidationError

from domain.people import BOUND_ROLES, Person, PersonRole, StoredReviewerProfile
from domain.standard import available_versions, get_standard
from domain.state import CitySummary, Phase
from entrypoints.web.dashboard import LEVELS, PHASES
from entrypoints.web.i18n import N_, Speaker
from entrypoints.web.refusals import form_problems

ROLES = {
    PersonRole.CITY: N_("City staff"),
    PersonRole.REVIEWER: N_("Reviewer"),
    PersonRole.COMMITTEE: N_("Committee member"),
    PersonRole.OPERATOR: N_("Operator"),
}

DELIVERY_STATUSES = {
    "held": N_("Held for release"),
    "pending": N_("Queued"),
    "sent": N_("Sent"),
    "failed": N_("Failed"),
    "skipped": N_("Skipped"),
}

TOKEN_STATUSES = {"active": N_("Active"), "expired": N_("Expired"), "revoked": N_("Revoked")}


@dataclass(frozen=True, slots=True)
class CityRow:
    city_id: str
    name: str
    phase: str
    level: str | None
    round_id: str | None
    valid_until: datetime | None


def city_row(city: CitySummary, say: Speaker) -> CityRow:
    return CityRow(
        city_id=city.city_id,
        name=city.name,
        phase=say.gettext(PHASES[city.phase][0]),
        level=say.gettext(LEVELS[city.level.value]) if city.level is not None else None,
        round_id=city.round_id,
        valid_until=city.valid_until,
    )


def phase_choices(say: Speaker) -> list[tuple[str, str]]:
    """Every phase a city can be in, in the order a cycle goes through them, in words."""
    return [(phase.value, say.gettext(PHASES[phase][0])) for phase in Phase if phase in PHASES]


def role_choices(say: Speaker) -> list[tuple[str, str]]:
    return [(role.value, say.gettext(words)) for role, words in ROLES.items()]


def practice_areas(version: str | None = None) -> list[tuple[str, str]]:
    """The practice areas of one standard, or of every standard shipped (by id, each once)."""
    versions = [version] if version else available_versions()
    found: dict[str, str] = {}
    for v in versions:
        for area in get_standard(v).practice_areas:
            found.setdefault(area.id, area.name)
    return sorted(found.items())


@dataclass(frozen=True, slots=True)
class ReviewerForm:
    """A reviewer's profile form: as kept, or as typed when it was refused."""

    organisation: str = ""
    practice_areas: list[str] = field(default_factory=list)
    capacity: str = ""
    conflicts: str = ""


@dataclass(frozen=True, slots=True)
class ReviewerRow:
    person: Person
    profile: StoredReviewerProfile | None
    form: ReviewerForm


def reviewer_row(
    person: Person, profile: StoredReviewerProfile | None, typed: dict[str, Any] | None
) -> ReviewerRow:
    if typed:
        form = ReviewerForm(**typed)
    elif profile is not None:
        form = ReviewerForm(
            profile.organisation or "",
            list(profile.practice_areas),
            str(profile.capacity),
            conflicts_text(profile),
        )
    else:
        form = ReviewerForm()
    return ReviewerRow(person, profile, form)


@dataclass(frozen=True, slots=True)
class RoundForm:
    """A round's fields as the form shows them (what was typed, after a refusal)."""

    round_id: str = ""
    name: str = ""
    opens_on: str = ""
    closes_on: str = ""
    submission_deadline: str = ""
    announcement_on: str = ""
    review_capacity: str = ""


def parsed_date(text: str) -> date | None:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


@dataclass(frozen=True, slots=True)
class Problem:
    """What the error summary says: each item's words and the element id of the field it is about
    (linked from the summary; None for the form as a whole), and the language of the words (the
    application's and the domain's reasons are English; the portal's own are the page's)."""

    items: list[tuple[str | None, str]] = field(default_factory=list)
    lang: str | None = "en"


def said(words: str, *, lang: str | None = "en") -> Problem:
    return Problem([(None, words)], lang)


# The operators' forms' fields by the labels their pages give them.
FIELD_LABELS = {
    "name": N_("Name"),
    "email": N_("E-mail address"),
    "role": N_("Role"),
    "language": N_("Language"),
    "city_id": N_("City"),
    "round_id": N_("Id"),
    "opens_on": N_("Applications open on"),
    "closes_on": N_("Applications close on"),
    "submission_deadline": N_("Evidence due by"),
    "announcement_on": N_("Announced on"),
    "review_capacity": N_("Review capacity"),
    "organisation": N_("Organisation"),
    "practice_areas": N_("Practice areas they review"),
    "capacity": N_("Capacity"),
    "conflicts": N_("Conflicts of interest"),
    "practice_area": N_("Practice area"),
}


def invalid(
    say: Speaker, error: ValidationError, ids: dict[str, str], because: dict[str, str] | None = None
) -> Problem:
    """The validation's complaints in the page's language, one per field, each linked to the form's
    control (`ids`: a field's name to its element id) and named by its label (refusals.py);
    `because`: the words for a model's own rules, by its name."""
    labels = {name: FIELD_LABELS.get(name, name) for name in ids}
    items = [
        (ids[named] if named else None, words) for named, words in form_problems(say, error, labels, because)
    ]
    return Problem(items, lang=None)


def person_rules(say: Speaker, typed: dict[str, str]) -> dict[str, str]:
    """What the new person's own rule (domain/people.py NewPerson: a city exactly when the role
    takes one) needs of the form as typed, in words."""
    role = typed.get("role", "").strip()
    if role not in {r.value for r in PersonRole}:
        words = say.gettext("Choose a role.")
    elif PersonRole(role) in BOUND_ROLES:
        words = say.gettext("Give the city: the one city staff work for, or a reviewer's home city.")
    else:
        words = say.gettext("Leave the city empty: this role is not bound to a city.")
    return {"NewPerson": words}


def conflicts_typed(text: str) -> list[dict[str, str]]:
    """The conflicts field, one a line as `city-id: reason`, as the profile's conflicts (a line
    without its reason keeps an empty one, which the profile refuses in words)."""
    found = []
    for line in text.splitlines():
        if line.strip():
            city, _, reason = line.partition(":")
            found.append({"city_id": city.strip(), "reason": reason.strip()})
    return found


def conflicts_text(profile: StoredReviewerProfile | None) -> str:
    if profile is None:
        return ""
    return "\n".join(f"{c.city_id}: {c.reason}" for c in profile.conflicts)
