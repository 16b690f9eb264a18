"""The domain's refusals in the person's language.

A refusal arrives as data (domain/errors.py `Refusal`: its English template and the values it
names). Its template is looked up in the page's catalog and filled with the values as that
language writes them: a day as a day ("1 de marzo de 2026"), a number with its separators, a list
joined as the language joins one ("DM1, DM2 y DM3"), a phase or a level by the portal's own name
for it. A refusal is said whole in one language: when its template, or one inside it, has no
translation, or it names words the domain wrote in English only, it is said in English as the API
says it, and marked so (`lang="en"` on its element).
"""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.lists import format_list

from app.errors import AppError
from domain.errors import DomainError, English, Label, Refusal
from domain.state import ItemStatus
from entrypoints.web.city_pages import STATUSES
from entrypoints.web.dashboard import LEVELS, PHASES
from entrypoints.web.i18n import DEFAULT, N_, Speaker, translations

# What a refusal's labels are called on the portal's pages: its own names for phases, levels and
# item statuses, and a name for each command and deadline a refusal may mention.
LABELS: dict[tuple[str, str], str] = {
    **{("Phase", phase.value): name for phase, (name, _) in PHASES.items()},
    **{("Level", level): name for level, name in LEVELS.items()},
    ("Level", "not certified"): N_("Not certified"),
    **{
        ("ItemStatus", status.value): name
        for status, name in STATUSES.items()
        if isinstance(status, ItemStatus)
    },
    ("SiteFinding", "confirm"): N_("confirm"),
    ("SiteFinding", "overturn"): N_("overturn"),
    ("SiteFinding", "clear"): N_("clear"),
    ("Deadline", "submission"): N_("submission"),
    ("Deadline", "visit_scheduling"): N_("visit scheduling"),
    ("Deadline", "committee"): N_("committee"),
    ("Deadline", "review"): N_("review"),
    ("Deadline", "clarification"): N_("clarification"),
    ("Command", "AcceptDecision"): N_("accept the decision"),
    ("Command", "AnswerClarifications"): N_("answer clarifications"),
    ("Command", "ApplyForCertification"): N_("apply for certification"),
    ("Command", "AssignLeadReviewer"): N_("assign the lead reviewer"),
    ("Command", "AssignPracticeArea"): N_("assign a practice area"),
    ("Command", "AssignReviewer"): N_("assign a reviewer"),
    ("Command", "CloseAppealWindow"): N_("close the appeal window"),
    ("Command", "CloseEvidenceSubmission"): N_("close the evidence submission"),
    ("Command", "CompleteSiteVisit"): N_("complete the site visit"),
    ("Command", "CorrectCityProfile"): N_("correct the city's profile"),
    ("Command", "CountersignImport"): N_("countersign the import"),
    ("Command", "DecideAppeal"): N_("decide the appeal"),
    ("Command", "DecideLevel"): N_("decide the level"),
    ("Command", "DeclareConflict"): N_("declare a conflict of interest"),
    ("Command", "DeclareNoConflict"): N_("declare no conflict of interest"),
    ("Command", "EscalateMissedDeadlines"): N_("escalate missed deadlines"),
    ("Command", "EscalateOverdueReviews"): N_("escalate overdue reviews"),
    ("Command", "ExpireClarifications"): N_("expire clarifications"),
    ("Command", "ExtendDeadline"): N_("extend a deadline"),
    ("Command", "FileAppeal"): N_("file an appeal"),
    ("Command", "ImportCertification"): N_("import a certification"),
    ("Command", "ImportPastCertification"): N_("import a past certification"),
    ("Command", "LapseCertification"): N_("let the certification lapse"),
    ("Command", "ProposeImport"): N_("propose an import"),
    ("Command", "RegisterCity"): N_("register the city"),
    ("Command", "ReinstateCertification"): N_("reinstate the certification"),
    ("Command", "RejectImport"): N_("reject the import"),
    ("Command", "RejoinProgramme"): N_("rejoin the programme"),
    ("Command", "ReopenReviewItem"): N_("reopen a review item"),
    ("Command", "RescheduleSiteVisit"): N_("reschedule the site visit"),
    ("Command", "ReviewEvidence"): N_("review evidence"),
    ("Command", "RevokeCertification"): N_("revoke the certification"),
    ("Command", "ScheduleSiteVisit"): N_("schedule the site visit"),
    ("Command", "SendReminder"): N_("send a reminder"),
    ("Command", "SignOffReview"): N_("sign off the review"),
    ("Command", "SubmitEvidence"): N_("submit evidence"),
    ("Command", "SuspendCertification"): N_("suspend the certification"),
    ("Command", "TakeDataSnapshot"): N_("take a data snapshot"),
    ("Command", "UploadDocument"): N_("upload a document"),
    ("Command", "WaiveSiteVisit"): N_("waive the site visit"),
    ("Command", "WarnOfDueDates"): N_("warn of due dates"),
    ("Command", "Withdraw"): N_("withdraw"),
}

_FIELD = re.compile(r"\{[^{}]*\}")
_LETTER = re.compile(r"[^\W\d_]")


def needs_words(template: str) -> bool:
    """Whether a template says anything of its own to translate ("{problems:;}" does not)."""
    return bool(_LETTER.search(_FIELD.sub("", template)))


class _NotTranslated(Exception):
    """A part of the refusal has no words in the language: it is said in English."""


class _Translated(string.Formatter):
    def __init__(self, say: Speaker) -> None:
        super().__init__()
        self.say = say

    def refusal(self, refusal: Refusal) -> str:
        template = refusal.template
        if needs_words(template):
            template = translations(self.say.language).gettext(refusal.template)
            if template == refusal.template:
                raise _NotTranslated(refusal.template)
        return self.vformat(template, (), dict(refusal.params)) if refusal.params else template

    def format_field(self, value: Any, format_spec: str) -> str:
        say = self.say
        match value:
            case English():
                raise _NotTranslated(value)
            case Refusal():
                return self.refusal(value)
            case Label():
                name = LABELS.get((value.kind, value.value))
                return say.gettext(name) if name else value.value  # an id the portal has no name for
            case list() | tuple():
                items = [self.format_field(v, "") for v in value]
                if format_spec == ";":
                    return "; ".join(items)
                return format_list(
                    items, style="or" if format_spec == "or" else "standard", locale=say.language
                )
            case datetime():
                return say.datetime(value)
            case date():
                return say.date(value)
            case bool() | str():
                return str(value)
            case float() if format_spec.endswith("%"):
                return say.percent(value)
            case int() | float() | Decimal():
                return say.number(float(value)) if isinstance(value, Decimal) else say.number(value)
            case _:
                return str(value)


def say_refusal(say: Speaker, refusal: Refusal) -> tuple[str, str | None]:
    """The refusal's words in `say`'s language, and the language they are in when it is not that
    one (English, when a part of it has no translation)."""
    if say.language == DEFAULT:
        return refusal.english(), None
    try:
        return _Translated(say).refusal(refusal), None
    except _NotTranslated:
        return refusal.english(), DEFAULT


def in_words(say: Speaker, error: AppError | DomainError) -> tuple[str, str | None]:
    """What a page says of a refused action: the domain's refusal in the page's language; words the
    application wrote itself are English, marked so."""
    if isinstance(error, DomainError):
        return say_refusal(say, error.refusal)
    if error.refusal is not None:
        return say_refusal(say, error.refusal)
    return error.message, DEFAULT
