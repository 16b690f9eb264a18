"""Who may give which command: the roles of the programme's people, per command.

The HTTP API admits each endpoint's roles before a command is built, and the city's workflow checks
the same table again in its validator (a command that reached Temporal some other way, or from a
route that forgot its check, is still refused). Timer and reminder commands are the workflow's own.
"""

from __future__ import annotations

from domain import commands as cmd
from domain.programme import SwitchMigrationMode
from domain.rounds import AdoptCohorts, ChangeRound, CreateRound, DesignateHonorRoll

CITY, REVIEWER, COMMITTEE, OPERATOR = "city", "reviewer", "committee", "operator"

MAY_GIVE: dict[type[cmd.Command], frozenset[str]] = {
    cmd.RegisterCity: frozenset({OPERATOR}),
    # ImportCertification is retired (an operator alone): nobody may give it. An import is a
    # proposal now, countersigned by a committee member who did not propose it.
    cmd.ProposeImport: frozenset({OPERATOR}),
    cmd.CountersignImport: frozenset({COMMITTEE}),
    cmd.RejectImport: frozenset({COMMITTEE}),
    cmd.TakeDataSnapshot: frozenset({CITY, OPERATOR}),
    cmd.ApplyForCertification: frozenset({CITY, OPERATOR}),
    cmd.SubmitEvidence: frozenset({CITY, OPERATOR}),
    cmd.CloseEvidenceSubmission: frozenset({CITY, OPERATOR}),
    cmd.AssignReviewer: frozenset({OPERATOR}),
    cmd.ReviewEvidence: frozenset({REVIEWER}),
    cmd.AnswerClarifications: frozenset({CITY}),
    cmd.ScheduleSiteVisit: frozenset({COMMITTEE, OPERATOR}),
    cmd.CompleteSiteVisit: frozenset({COMMITTEE, OPERATOR}),
    cmd.WaiveSiteVisit: frozenset({COMMITTEE, OPERATOR}),
    cmd.DecideLevel: frozenset({COMMITTEE}),
    cmd.FileAppeal: frozenset({CITY}),
    cmd.AcceptDecision: frozenset({CITY}),
    cmd.DecideAppeal: frozenset({COMMITTEE}),
    cmd.Withdraw: frozenset({OPERATOR}),
    cmd.UploadDocument: frozenset({CITY, OPERATOR}),
    # The programme's own (store-wide, not a city's): recorded by the application layer.
    SwitchMigrationMode: frozenset({OPERATOR}),
    cmd.RescheduleSiteVisit: frozenset({COMMITTEE, OPERATOR}),
    cmd.ExtendDeadline: frozenset({OPERATOR}),
    cmd.AssignPracticeArea: frozenset({OPERATOR}),
    cmd.AssignLeadReviewer: frozenset({OPERATOR}),
    cmd.DeclareNoConflict: frozenset({REVIEWER}),
    cmd.DeclareConflict: frozenset({REVIEWER}),
    cmd.SignOffReview: frozenset({REVIEWER}),
    cmd.ReopenReviewItem: frozenset({REVIEWER}),  # the domain refuses any but the cycle's lead
    cmd.CorrectCityProfile: frozenset({OPERATOR}),
    cmd.ImportPastCertification: frozenset({OPERATOR}),
    # The programme acts on a certification it issued: its committee, or an operator for it.
    cmd.SuspendCertification: frozenset({COMMITTEE, OPERATOR}),
    cmd.ReinstateCertification: frozenset({COMMITTEE, OPERATOR}),
    cmd.RevokeCertification: frozenset({COMMITTEE, OPERATOR}),
    cmd.RejoinProgramme: frozenset({OPERATOR}),
    # Rounds are the programme's own too: operators run them, the committee names the Honor Roll.
    CreateRound: frozenset({OPERATOR}),
    ChangeRound: frozenset({OPERATOR}),
    DesignateHonorRoll: frozenset({COMMITTEE}),
    AdoptCohorts: frozenset({OPERATOR}),
}


def roles_that_may_give(command: type[cmd.Command]) -> frozenset[str]:
    """The people's roles that may give `command` (none for a timer's own commands)."""
    return MAY_GIVE.get(command, frozenset())
