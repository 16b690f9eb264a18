"""What the public reads of a certificate: given a city's events, its certificates' status in
words, the directory of certified cities and the open data, at a moment.

The rows are made from the events as the projector makes them (one per award, the number the fold
derives), so each story is the city's history, not a hand-written table.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from app import directory as d
from domain import commands as c
from domain import events as ev
from domain.levels import Level, Outcome
from domain.rounds import Round
from domain.state import CityState
from readmodel.directory import AwardRow, CityHolding
from tests.unit.domain.story import CITY, DAY, T0, applied, certified, given, when

YEAR = 365 * DAY
LATER = T0 + YEAR  # a moment inside the first certificate's validity
BASE = "https://certify.example.org"


def shown(*events: ev.DomainEvent, now: datetime = LATER, hidden: frozenset[str] = frozenset()) -> list:
    """The city's certificates as the public sees them at `now`."""
    state = given(*events)
    return d.public_certificates(
        awards_of(events), {CITY: holding(state)}, now=now, visible=d.outside(hidden)
    )


def holding(state: CityState) -> CityHolding:
    return CityHolding(
        city_id=state.city_id,
        name=state.name,
        region=state.region,
        country=state.country,
        certification=state.certification,
        ended=state.ended_certifications,
    )


def awards_of(events: tuple[ev.DomainEvent, ...]) -> list[AwardRow]:
    """One row per award, numbered as the fold numbers it (as the projector's rows are)."""
    rows: list[AwardRow] = []
    for version, event in enumerate(events, start=1):
        state = given(*events[:version])
        if isinstance(event, ev.CertificationAwarded):
            assert state.certification is not None and state.certification.number is not None
            rows.append(
                AwardRow(
                    city_id=CITY,
                    version=version,
                    cycle=event.cycle,
                    round_id=event.cohort,
                    standard_version=event.standard_version,
                    level=event.level,
                    outcome=event.outcome,
                    valid_from=event.valid_from,
                    valid_until=event.valid_until,
                    decided_at=event.valid_from,
                    certificate_number=state.certification.number,
                )
            )
    return rows


def then(*events: ev.DomainEvent, command: c.Command, at: datetime) -> tuple[ev.DomainEvent, ...]:
    """The history with what the decider records for `command` at `at`."""
    return (*events, *when(given(*events), command, now=at))


def recertified(level: Level, at: datetime, *, ended: bool) -> list[ev.DomainEvent]:
    """A second cycle's award at `at`; under the ROUNDS rules the held one ends there, superseded."""
    end = ev.CertificationEnded(
        certificate_number=None, level=Level.SILVER, reason=ev.EndReason.SUPERSEDED, ended_at=at
    )
    award = ev.CertificationAwarded(
        cycle=2,
        level=level,
        cohort="2029-spring",
        standard_version="wwc-2022",
        valid_from=at,
        valid_until=at + 3 * YEAR,
        previous_level=Level.SILVER,
        outcome=Outcome.ELEVATED,
    )
    return [end, award] if ended else [award]


def test_a_certificate_held_is_valid_until_its_day() -> None:
    (only,) = shown(*certified(Level.GOLD))

    assert (only.status, only.current, only.end_reason) == ("valid", True, None)
    assert only.number.startswith("CC-2026-LAKESIDE-")
    assert (
        only.statement == f"This certificate is valid: Lakeside is certified Gold until {only.valid_until}."
    )
    assert (only.city, only.country, only.country_name, only.level) == (
        "Lakeside",
        "US",
        "United States",
        "gold",
    )


def test_a_suspended_certificate_says_so_and_why() -> None:
    history = then(
        *certified(),
        command=c.SuspendCertification(reason="the open data portal is offline", suspended_by="chair"),
        at=LATER,
    )

    (only,) = shown(*history)

    assert only.status == "suspended"
    assert only.statement == (
        "This certificate is suspended by the programme: the open data portal is offline. "
        "It is not valid while suspended."
    )


def test_a_certificate_past_its_validity_is_expired_even_before_its_lapse_is_recorded() -> None:
    events = certified()
    (only,) = shown(*events, now=T0 + 4 * YEAR)

    assert (only.status, only.end_reason, only.ended_on) == ("expired", "lapsed", only.valid_until)
    assert only.statement == f"This certificate expired on {only.valid_until}."


def test_a_lapsed_certificate_is_expired_on_the_day_it_lapsed() -> None:
    end = T0 + 3 * YEAR
    history = then(*certified(), command=c.LapseCertification(), at=end)

    (only,) = shown(*history, now=end + DAY)

    assert (only.status, only.end_reason, only.ended_on, only.current) == (
        "expired",
        "lapsed",
        end.date(),
        False,
    )


def test_a_revoked_certificate_says_when_and_the_programmes_reason() -> None:
    revoked_at = datetime(2027, 3, 2, 15, 0, tzinfo=T0.tzinfo)
    history = then(
        *certified(),
        command=c.RevokeCertification(reason="the evidence was found to be fabricated", revoked_by="chair"),
        at=revoked_at,
    )

    (only,) = shown(*history, now=revoked_at + DAY)

    assert (only.status, only.end_reason, only.current) == ("revoked", "revoked", False)
    assert (
        only.statement
        == "This certificate was revoked on 2027-03-02: the evidence was found to be fabricated."
    )


def test_a_withdrawn_citys_certificate_ended_without_its_reason_made_public() -> None:
    history = then(*certified(), command=c.Withdraw(reason="budget cuts, a private matter"), at=LATER)

    (only,) = shown(*history, now=LATER + DAY)

    assert (only.status, only.end_reason, only.ended_on) == ("ended", "withdrawn", LATER.date())
    assert only.statement == f"This certificate ended on {LATER.date()}: Lakeside left the programme."
    assert "budget" not in only.model_dump_json()


def test_a_re_certification_supersedes_the_held_certificate_and_names_the_new_one() -> None:
    at = T0 + 2 * YEAR
    older, newer = shown(*certified(), *recertified(Level.GOLD, at, ended=True), now=at + DAY)

    assert (older.status, older.end_reason, older.superseded_by) == ("ended", "superseded", newer.number)
    assert older.statement == (
        f"This certificate was superseded on {at.date()} by certificate {newer.number}, "
        "after a new decision of the programme."
    )
    assert (newer.status, newer.current) == ("valid", True)


def test_a_re_certification_found_not_certified_supersedes_without_a_new_certificate() -> None:
    at = T0 + 2 * YEAR
    end = ev.CertificationEnded(
        certificate_number=None, level=Level.SILVER, reason=ev.EndReason.SUPERSEDED, ended_at=at
    )
    (only,) = shown(*certified(), end, now=at + DAY)

    assert (only.status, only.end_reason, only.superseded_by) == ("ended", "superseded", None)
    assert (
        only.statement
        == f"This certificate was superseded on {at.date()}, after a new decision of the programme."
    )


def test_an_old_rules_certificate_replaced_without_an_end_is_superseded_by_the_later_one() -> None:
    at = T0 + 2 * YEAR
    # Before the ROUNDS rules a re-certification's award replaced the held certificate, no end.
    first_rules = [
        applied(rules=None)[-1] if isinstance(e, ev.ApplicationSubmitted) else e for e in certified()
    ]
    older, newer = shown(*first_rules, *recertified(Level.GOLD, at, ended=False), now=at + DAY)

    assert (older.status, older.end_reason, older.ended_on) == ("ended", "superseded", at.date())
    assert older.superseded_by == newer.number
    assert newer.status == "valid"


def test_an_old_rules_certificate_whose_validity_passed_is_expired() -> None:
    at = T0 + 2 * YEAR
    older, _ = shown(*certified(), *recertified(Level.GOLD, at, ended=False), now=T0 + 3 * YEAR + DAY)

    assert (older.status, older.end_reason) == ("expired", "lapsed")


def test_a_round_under_embargo_is_not_shown_nor_named_as_what_superseded() -> None:
    at = T0 + 2 * YEAR
    (older,) = shown(
        *certified(),
        *recertified(Level.GOLD, at, ended=True),
        now=at + DAY,
        hidden=frozenset({"2029-spring"}),
    )

    assert (older.round, older.status, older.superseded_by) == ("2026-spring", "ended", None)
    assert shown(*certified(), hidden=frozenset({"2026-spring"})) == []


def _certificate(city_id: str, name: str, level: Level, **changes: object) -> d.PublicCertificate:
    (only,) = shown(*certified(level))
    return only.model_copy(
        update={"city_id": city_id, "city": name, "number": f"CC-2026-{city_id.upper()}-1", **changes}
    )


def test_the_directory_lists_the_cities_holding_a_certificate_by_name_filtered() -> None:
    certificates = [
        _certificate("zenith", "Zenith", Level.GOLD, country="CA", region="Ontario"),
        _certificate("avon", "avon", Level.SILVER, status="suspended"),
        _certificate("bexley", "Bexley", Level.GOLD),
        _certificate("gone", "Gone", Level.GOLD, status="revoked", current=False),
    ]

    found = d.directory(certificates, BASE)

    assert [e.city for e in found.cities] == ["avon", "Bexley", "Zenith"]
    assert [e.status for e in found.cities] == ["suspended", "valid", "valid"]
    assert found.cities[1].verification_url == f"{BASE}/certificates/CC-2026-BEXLEY-1"
    gold = d.directory(certificates, BASE, d.DirectoryFilter(level=Level.GOLD))
    assert [e.city_id for e in gold.cities] == ["bexley", "zenith"]
    canada = d.DirectoryFilter(country="ca", region="ONTARIO", standard="wwc-2022", round="2026-spring")
    assert [e.city_id for e in d.directory(certificates, BASE, canada).cities] == ["zenith"]
    assert d.directory(certificates, BASE, d.DirectoryFilter(round="2019-fall")).cities == []


def test_the_directory_as_csv_has_a_header_row_then_a_row_per_city() -> None:
    found = d.directory([_certificate("bexley", "Bexley, Ohio", Level.GOLD)], BASE)

    header, row = list(csv.reader(io.StringIO(d.directory_csv(found))))

    assert header == list(d.DIRECTORY_COLUMNS)
    assert dict(zip(header, row, strict=True))["city"] == "Bexley, Ohio"  # quoted, not split


def test_a_city_named_like_a_formula_is_kept_as_text_in_both_csvs_and_as_recorded_in_json() -> None:
    named = _certificate("bexley", '=HYPERLINK("https://x.example")', Level.GOLD, region="+Ohio")

    found = d.directory([named], BASE)
    data = d.open_data([named], BASE, licence="https://creativecommons.org/licenses/by/4.0/", publisher="P")

    for text in (d.directory_csv(found), d.open_data_csv(data)):
        row = next(csv.DictReader(io.StringIO(text)))
        assert (row["city"], row["region"]) == ('\'=HYPERLINK("https://x.example")', "'+Ohio")
    assert found.cities[0].city == data.certifications[0].city == '=HYPERLINK("https://x.example")'
    assert "single quote" in d.data_dictionary()["description"]


def test_the_open_data_lists_every_certificate_and_its_dictionary_describes_every_field() -> None:
    at = T0 + 2 * YEAR
    certificates = shown(*certified(), *recertified(Level.GOLD, at, ended=True), now=at + DAY)

    data = d.open_data(
        certificates, BASE, licence="https://creativecommons.org/licenses/by/4.0/", publisher="P"
    )

    assert [r.status for r in data.certifications] == ["ended", "valid"]
    assert data.modified == at.date()
    header, *rows = list(csv.reader(io.StringIO(d.open_data_csv(data))))
    assert header == list(d.OPEN_DATA_COLUMNS) and len(rows) == 2
    dictionary = d.data_dictionary()
    assert [f["name"] for f in dictionary["fields"]] == list(d.OPEN_DATA_COLUMNS)
    allowed = {f["name"]: f["constraints"].get("enum") for f in dictionary["fields"]}
    assert allowed["status"] == list(d.STATUSES)
    assert set(allowed["level"]) == {level.value for level in Level}
    assert all(f["description"] and f["type"] in ("string", "date") for f in dictionary["fields"])


def test_the_dcat_description_names_its_distributions_licence_publisher_and_last_change() -> None:
    licence = "https://creativecommons.org/licenses/by/4.0/"
    described = d.dcat(BASE, licence=licence, publisher="The programme", modified=LATER.date())

    assert described["@type"] == "dcat:Dataset"
    assert described["dct:license"] == {"@id": licence}
    assert described["dct:publisher"]["foaf:name"] == "The programme"
    assert described["dct:modified"]["@value"] == LATER.date().isoformat()
    downloads = [dist["dcat:downloadURL"]["@id"] for dist in described["dcat:distribution"]]
    assert downloads == [
        f"{BASE}/public/open-data/certifications.csv",
        f"{BASE}/public/open-data/certifications.json",
    ]
    assert "dct:modified" not in d.dcat(BASE, licence=licence, publisher="P", modified=None)


def test_a_suspension_lifted_shows_the_certificate_valid_again() -> None:
    suspended = then(*certified(), command=c.SuspendCertification(reason="r", suspended_by="chair"), at=LATER)
    history = then(
        *suspended, command=c.ReinstateCertification(reason="fixed", reinstated_by="chair"), at=LATER + DAY
    )

    (only,) = shown(*history, now=LATER + 2 * DAY)

    assert only.status == "valid"


def a_round(round_id: str, announced_on: date) -> Round:
    """A round whose dates all come before its announcement on `announced_on`."""
    return Round(
        round_id=round_id,
        name=round_id,
        opens_on=announced_on - 200 * DAY,
        closes_on=announced_on - 150 * DAY,
        submission_deadline=announced_on - 120 * DAY,
        announcement_on=announced_on,
        review_capacity=10,
        created_by="op-1",
        created_at=T0,
    )


def test_a_certificate_is_public_from_the_day_its_round_is_announced() -> None:
    award_day = T0.date()  # certified() awards at T0, in 2026-spring
    rounds = [a_round("2026-spring", award_day + 30 * DAY)]

    before = d.announced(rounds, today=award_day + 29 * DAY, rule="next_announcement")
    on_the_day = d.announced(rounds, today=award_day + 30 * DAY, rule="next_announcement")

    assert d.public_certificates(*rows(certified()), now=LATER, visible=before) == []
    assert len(d.public_certificates(*rows(certified()), now=LATER, visible=on_the_day)) == 1


def test_a_late_award_waits_for_the_next_announcement_unless_its_own_round_is_the_rule() -> None:
    award_day = T0.date()
    rounds = [a_round("2026-spring", award_day - 10 * DAY), a_round("2026-fall", award_day + 60 * DAY)]
    today = award_day + DAY

    assert (
        d.public_certificates(
            *rows(certified()), now=LATER, visible=d.announced(rounds, today=today, rule="next_announcement")
        )
        == []
    )
    assert (
        len(
            d.public_certificates(
                *rows(certified()), now=LATER, visible=d.announced(rounds, today=today, rule="own_round")
            )
        )
        == 1
    )
    assert (
        d.public_certificates(
            *rows(certified()),
            now=LATER,
            visible=d.announced(rounds[:1], today=today, rule="next_announcement"),
        )
        == []
    )


def test_a_cohort_that_is_no_round_was_never_under_embargo() -> None:
    visible = d.announced(
        [a_round("2027-spring", T0.date() + 400 * DAY)], today=T0.date(), rule="next_announcement"
    )

    assert len(d.public_certificates(*rows(certified()), now=LATER, visible=visible)) == 1


def rows(events: list[ev.DomainEvent]) -> tuple[list[AwardRow], dict[str, CityHolding]]:
    return awards_of(tuple(events)), {CITY: holding(given(*events))}


def test_a_citys_public_page_lists_every_certificate_it_was_issued_and_no_other_city_has_one() -> None:
    at = T0 + 2 * YEAR
    certificates = shown(*certified(), *recertified(Level.GOLD, at, ended=True), now=at + DAY)

    page = d.public_city(certificates, CITY)

    assert page is not None and (page.city, page.country_name) == ("Lakeside", "United States")
    assert [(c.status, c.current) for c in page.certificates] == [("ended", False), ("valid", True)]
    assert d.public_city(certificates, "atlantis") is None


def test_a_certificate_of_a_cohort_a_round_adopted_names_the_round_and_its_filter_finds_it() -> None:
    # Given an award recorded under "2026-Spring", a cohort of earlier data round 2026-spring adopted
    awards, holdings = rows(certified())
    recorded = [a.model_copy(update={"round_id": "2026-Spring"}) for a in awards]
    spring = a_round("2026-spring", T0.date() + 30 * DAY).model_copy(update={"cohorts": ("2026-Spring",)})
    visible = d.announced([spring], today=T0.date() + 30 * DAY, rule="next_announcement")

    # When the public reads it, then it names the round by its id, in the directory and the open data
    (certificate,) = d.public_certificates(recorded, holdings, now=LATER, visible=visible)
    assert certificate.round == "2026-spring"
    found = d.directory([certificate], BASE, d.DirectoryFilter(round="2026-spring"))
    assert [e.round for e in found.cities] == ["2026-spring"]
    data = d.open_data(
        [certificate], BASE, licence="https://creativecommons.org/licenses/by/4.0/", publisher="P"
    )
    assert [r.round for r in data.certifications] == ["2026-spring"]
    # and a cohort no round has is shown as recorded
    unadopted = d.announced([], today=T0.date(), rule="next_announcement")
    (as_recorded,) = d.public_certificates(recorded, holdings, now=LATER, visible=unadopted)
    assert as_recorded.round == "2026-Spring"
