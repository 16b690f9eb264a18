"""What people must hear about: the notice an event gives, to whom, and the facts it names.

Pure: from one event alone (each carries its own dates), so the projector can queue the notice in
the same transaction as the event, and a rebuild or a replay decides the same. Who the audience is
(which people, in which language) and how it reaches them is the mail relay's (app/mail.py).
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from enum import StrEnum

from pydantic import BaseModel, ConfigDict

from domain import events as ev


class Audience(StrEnum):
    CITY = "city"  # the city's active staff
    REVIEWER = "reviewer"  # the reviewer the event names
    COMMITTEE = "committee"  # every active committee member
    PERSON = "person"  # the one person the notice names (a sign-in link asked for)


class NoticeKind(StrEnum):
    REVIEWER_ASSIGNED = "reviewer_assigned"
    REVIEW_DUE_SOON = "review_due_soon"
    REVIEW_ESCALATED = "review_escalated"
    CLARIFICATION_REQUESTED = "clarification_requested"
    CLARIFICATION_DUE_SOON = "clarification_due_soon"
    CLARIFICATION_EXPIRED = "clarification_expired"
    LEVEL_DECIDED = "level_decided"
    NOT_CERTIFIED = "not_certified"
    APPEAL_FILED = "appeal_filed"
    APPEAL_DECIDED = "appeal_decided"
    CERTIFICATION_AWARDED = "certification_awarded"
    IMPORT_PROPOSED = "import_proposed"
    EXPIRY_REMINDER = "certification_expiry_reminder"  # the kind the outbox has used since 0005
    CERTIFICATION_LAPSED = "certification_lapsed"
    SUBMISSION_DUE_SOON = "submission_due_soon"
    SUBMISSION_OVERDUE = "submission_overdue"
    VISIT_SCHEDULING_DUE_SOON = "visit_scheduling_due_soon"
    VISIT_SCHEDULING_OVERDUE = "visit_scheduling_overdue"
    COMMITTEE_DECISION_DUE_SOON = "committee_decision_due_soon"
    COMMITTEE_DECISION_OVERDUE = "committee_decision_overdue"
    DEADLINE_EXTENDED = "deadline_extended"
    SITE_VISIT_RESCHEDULED = "site_visit_rescheduled"
    CERTIFICATION_SUSPENDED = "certification_suspended"
    CERTIFICATION_REINSTATED = "certification_reinstated"
    CERTIFICATION_REVOKED = "certification_revoked"
    # Not an event's: the portal queues it when a person asks to sign in (app/sign_in.py).
    SIGN_IN_LINK = "sign_in_link"


class Notice(BaseModel):
    """A notice to queue: its kind, its audience, the reviewer it names (for that audience), the
    criterion it is about, and the facts the message states (a level, a due date)."""

    model_config = ConfigDict(frozen=True)

    kind: NoticeKind
    audience: Audience
    reviewer_id: str | None = None
    criterion_id: str | None = None
    level: str | None = None
    due_at: datetime | None = None  # what to do by when: answer, review, appeal
    valid_until: datetime | None = None
    text: str = ""  # a question, a rationale: the words the message quotes
    person_id: str | None = None  # the person of a notice to one person (Audience.PERSON)
    # Where the portal is: a sign-in link's address starts with it (its secret the relay adds).
    portal_url: str | None = None


def notice_for(event: ev.DomainEvent) -> Notice | None:
    """The notice `event` gives, or None for one nobody needs to hear about."""
    match event:
        case ev.ReviewerAssigned():
            return Notice(
                kind=NoticeKind.REVIEWER_ASSIGNED,
                audience=Audience.REVIEWER,
                reviewer_id=event.reviewer_id,
                criterion_id=event.criterion_id,
                due_at=event.due_at,
            )
        case ev.ReviewDueSoon():
            return Notice(
                kind=NoticeKind.REVIEW_DUE_SOON,
                audience=Audience.REVIEWER,
                reviewer_id=event.reviewer_id,
                criterion_id=event.criterion_id,
                due_at=event.due_at,
            )
        case ev.ClarificationDueSoon():
            return Notice(
                kind=NoticeKind.CLARIFICATION_DUE_SOON,
                audience=Audience.CITY,
                criterion_id=event.criterion_id,
                due_at=event.due_at,
            )
        case ev.ReviewEscalated():
            return Notice(
                kind=NoticeKind.REVIEW_ESCALATED,
                audience=Audience.COMMITTEE,
                reviewer_id=event.reviewer_id,
                criterion_id=event.criterion_id,
                due_at=event.was_due_at,
            )
        case ev.ClarificationRequested():
            return Notice(
                kind=NoticeKind.CLARIFICATION_REQUESTED,
                audience=Audience.CITY,
                criterion_id=event.criterion_id,
                due_at=event.due_at,
                text=event.question,
            )
        case ev.ClarificationExpired():
            return Notice(
                kind=NoticeKind.CLARIFICATION_EXPIRED,
                audience=Audience.CITY,
                criterion_id=event.criterion_id,
                due_at=event.was_due_at,
            )
        case ev.LevelDecided() | ev.CityNotCertified() if event.final:
            # The decision after an upheld appeal's fresh review: the appeal's outcome, with no
            # appeal to offer (an award's notice follows a level).
            return Notice(
                kind=NoticeKind.APPEAL_DECIDED,
                audience=Audience.CITY,
                level=event.level.value if isinstance(event, ev.LevelDecided) else None,
                text=event.rationale,
            )
        case ev.LevelDecided():
            return Notice(
                kind=NoticeKind.LEVEL_DECIDED,
                audience=Audience.CITY,
                level=event.level.value,
                due_at=event.appeal_deadline,
                text=event.rationale,
            )
        case ev.CityNotCertified():
            return Notice(
                kind=NoticeKind.NOT_CERTIFIED,
                audience=Audience.CITY,
                due_at=event.appeal_deadline,
                text=event.rationale,
            )
        case ev.AppealFiled():
            return Notice(kind=NoticeKind.APPEAL_FILED, audience=Audience.COMMITTEE, text=event.grounds)
        case ev.AppealDecided():
            return Notice(
                kind=NoticeKind.APPEAL_DECIDED,
                audience=Audience.CITY,
                level=event.level.value if event.level else None,
                text=event.rationale,
            )
        case ev.CertificationAwarded():
            return Notice(
                kind=NoticeKind.CERTIFICATION_AWARDED,
                audience=Audience.CITY,
                level=event.level.value,
                valid_until=event.valid_until,
            )
        case ev.CertificationImportProposed():
            return Notice(
                kind=NoticeKind.IMPORT_PROPOSED, audience=Audience.COMMITTEE, level=event.level.value
            )
        case ev.ReminderSent():
            return Notice(
                kind=NoticeKind.EXPIRY_REMINDER,
                audience=Audience.CITY,
                valid_until=event.valid_until,
                due_at=event.valid_until,
            )
        case ev.CertificationLapsed():
            return Notice(
                kind=NoticeKind.CERTIFICATION_LAPSED,
                audience=Audience.CITY,
                level=event.level.value,
                valid_until=event.valid_until,
            )
        case ev.CertificationEnded(reason=ev.EndReason.LAPSED):
            return Notice(
                kind=NoticeKind.CERTIFICATION_LAPSED,
                audience=Audience.CITY,
                level=event.level.value,
                valid_until=event.ended_at,
            )
        case ev.CertificationEnded(reason=ev.EndReason.REVOKED):
            return Notice(
                kind=NoticeKind.CERTIFICATION_REVOKED,
                audience=Audience.CITY,
                level=event.level.value,
                text=event.detail,
            )
        case ev.CertificationSuspended():
            return Notice(kind=NoticeKind.CERTIFICATION_SUSPENDED, audience=Audience.CITY, text=event.reason)
        case ev.CertificationReinstated():
            return Notice(kind=NoticeKind.CERTIFICATION_REINSTATED, audience=Audience.CITY, text=event.reason)
        case ev.SubmissionDueSoon():
            return Notice(kind=NoticeKind.SUBMISSION_DUE_SOON, audience=Audience.CITY, due_at=event.due_at)
        case ev.SubmissionOverdue():
            # The escalation goes to the programme's people, who follow up with the city.
            return Notice(
                kind=NoticeKind.SUBMISSION_OVERDUE, audience=Audience.COMMITTEE, due_at=event.was_due_at
            )
        case ev.VisitSchedulingDueSoon():
            return Notice(
                kind=NoticeKind.VISIT_SCHEDULING_DUE_SOON, audience=Audience.COMMITTEE, due_at=event.due_at
            )
        case ev.VisitSchedulingOverdue():
            return Notice(
                kind=NoticeKind.VISIT_SCHEDULING_OVERDUE, audience=Audience.COMMITTEE, due_at=event.was_due_at
            )
        case ev.CommitteeDecisionDueSoon():
            return Notice(
                kind=NoticeKind.COMMITTEE_DECISION_DUE_SOON, audience=Audience.COMMITTEE, due_at=event.due_at
            )
        case ev.CommitteeDecisionOverdue():
            return Notice(
                kind=NoticeKind.COMMITTEE_DECISION_OVERDUE,
                audience=Audience.COMMITTEE,
                due_at=event.was_due_at,
            )
        case ev.DeadlineExtended():
            return _extension_notice(event)
        case ev.SiteVisitRescheduled():
            # The city hosts the visit: it hears of the new day and why (a day, shown as one).
            day = datetime.combine(event.visit_date, time(), tzinfo=UTC)
            return Notice(
                kind=NoticeKind.SITE_VISIT_RESCHEDULED, audience=Audience.CITY, due_at=day, text=event.reason
            )
    return None


# Who is waiting on an extended deadline: the one who owes what is due.
_OWES: dict[ev.Deadline, Audience] = {
    ev.Deadline.SUBMISSION: Audience.CITY,
    ev.Deadline.CLARIFICATION: Audience.CITY,
    ev.Deadline.REVIEW: Audience.REVIEWER,
    ev.Deadline.VISIT_SCHEDULING: Audience.COMMITTEE,
    ev.Deadline.COMMITTEE: Audience.COMMITTEE,
}


def _extension_notice(event: ev.DeadlineExtended) -> Notice | None:
    audience = _OWES[event.deadline]
    if audience is Audience.REVIEWER and event.reviewer_id is None:
        return None  # nobody holds the review yet: the assignment tells its reviewer the date
    return Notice(
        kind=NoticeKind.DEADLINE_EXTENDED,
        audience=audience,
        reviewer_id=event.reviewer_id if audience is Audience.REVIEWER else None,
        criterion_id=event.criterion_id,
        due_at=event.due_at,
        text=event.reason,
    )
