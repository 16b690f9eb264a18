"""Which endpoint gives a domain command, and with which body: the API's side of a scenario step."""

from __future__ import annotations

from datetime import UTC
from typing import Any

from app.days import last_day
from domain import commands as cmd


def request_for(city_id: str, command: cmd.Command) -> tuple[str, dict[str, Any] | None]:
    """The endpoint that gives `command` to the city, and its body."""
    base = f"/v1/cities/{city_id}"
    fields = command.model_dump(mode="json", exclude={"kind"})
    # A reviewer's conflicts are their record's, filled by the command service, never a body's.
    picked = {k: v for k, v in fields.items() if k != "reviewer_conflicts"}
    match command:
        case cmd.RegisterCity():
            return "/v1/cities", {"id": city_id, **{k: v for k, v in fields.items() if k != "city_id"}}
        case cmd.ProposeImport():
            # The proposer is the token's, the migration mode the store's. The API takes the days:
            # the first day (the start's, in UTC) and the last one held (the day before the end).
            body = {k: v for k, v in fields.items() if k not in ("proposed_by", "migration_mode", "cohort")}
            body["round_id"] = command.cohort
            body["valid_from"] = command.valid_from.astimezone(UTC).date().isoformat()
            body["valid_until"] = last_day(command.valid_until).isoformat()
            return f"{base}/imported-certification", body
        case cmd.CountersignImport():
            return f"{base}/imported-certification/countersignature", {"note": fields["note"]}
        case cmd.RejectImport():
            return f"{base}/imported-certification/rejection", {"reason": fields["reason"]}
        case cmd.TakeDataSnapshot():
            return f"{base}/snapshot", fields
        case cmd.ApplyForCertification():
            # The round's window is the programme's records', read by the command service.
            return f"{base}/application", {
                "round_id": command.cohort,
                "standard_version": command.standard_version,
            }
        case cmd.SubmitEvidence():
            return f"{base}/evidence", fields
        case cmd.CloseEvidenceSubmission():
            return f"{base}/evidence/close", None
        case cmd.ReviewEvidence():
            return f"{base}/reviews", {"items": fields["items"]}  # the reviewer is the token's
        case cmd.AnswerClarifications():
            return f"{base}/clarifications", fields
        case cmd.ScheduleSiteVisit():
            return f"{base}/site-visit", {"action": "schedule", "date": fields["visit_date"]}
        case cmd.CompleteSiteVisit():
            day = fields.pop("visit_date")
            return f"{base}/site-visit", {"action": "complete", **fields, **({"date": day} if day else {})}
        case cmd.WaiveSiteVisit():
            return f"{base}/site-visit", {
                "action": "waive",
                "reason": fields["reason"],
            }  # approver: the token
        case cmd.DecideLevel():
            return f"{base}/decision", fields
        case cmd.FileAppeal():
            return f"{base}/appeal", fields
        case cmd.AcceptDecision():
            return f"{base}/decision/accept", None
        case cmd.DecideAppeal():
            return f"{base}/appeal/decision", fields
        case cmd.AssignReviewer():
            # The conflicts are the reviewer's record's, filled by the command service.
            return f"{base}/reviewer-assignments", {
                k: v for k, v in fields.items() if k != "reviewer_conflicts"
            }
        case cmd.Withdraw():
            return f"{base}/withdrawal", fields
        case cmd.RescheduleSiteVisit():
            body = {"action": "reschedule", "date": fields["visit_date"], "reason": fields["reason"]}
            return f"{base}/site-visit", body
        case cmd.ExtendDeadline():
            return f"{base}/deadline-extensions", {k: v for k, v in fields.items() if k != "extended_by"}
        case cmd.AssignPracticeArea():
            return f"{base}/review/assignments", {
                k: v for k, v in fields.items() if k != "reviewer_conflicts"
            }
        case cmd.AssignLeadReviewer():
            return f"{base}/review/lead", picked
        case cmd.DeclareNoConflict():
            return f"{base}/review/no-conflict", None  # the reviewer is the token's
        case cmd.DeclareConflict():
            return f"{base}/review/conflict", {"reason": fields["reason"]}
        case cmd.SignOffReview():
            return f"{base}/review/sign-off", {"note": fields["note"]}
        case cmd.ReopenReviewItem():
            return f"{base}/reviews/reopening", {k: v for k, v in fields.items() if k != "reopened_by"}
        case cmd.CorrectCityProfile():
            body = {k: v for k, v in fields.items() if k != "corrected_by" and v is not None}
            return f"{base}/profile-corrections", body
        case cmd.ImportPastCertification():
            body = {k: v for k, v in fields.items() if k not in ("imported_by", "cohort")} | {
                "round_id": command.cohort
            }
            return f"{base}/past-certifications", body | {
                "valid_from": command.valid_from.date().isoformat(),
                "valid_until": command.valid_until.date().isoformat(),
            }
    raise ValueError(f"no HTTP endpoint gives {command.command_name()}")
