"""The domain's refusals in the person's language.

A refusal arrives as data (domain/errors.py `Refusal`: its English template and the values it
names). Its template is looked up in the page's catalog and filled with the values as that
language writes them: a day as a day ("1 de marzo de 2026"), a number with its separators, a list
joined as the language joins one ("DM1, DM2 y DM3"), a phase or a level by the portal's own name
for it, words a library wrote in English (pydantic's, Temporal's) by what they mean (their gist,
domain/errors.py `Quoted`). A refusal is said whole in one language: when its template, or one
inside it, has no translation, or it names words written in English only, it is said in English as
the API says it, and marked so (`lang="en"` on its element).
"""

from __future__ import annotations

import re
import string
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from babel.lists import format_list
from pydantic import BaseModel, ValidationError

from app.errors import AppError
from domain.errors import DomainError, English, Label, Quoted, Refusal
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
    # The application's refusals name the programme's commands and the people's roles too.
    ("Command", "CreateRound"): N_("create a round"),
    ("Command", "ChangeRound"): N_("change a round"),
    ("Command", "DesignateHonorRoll"): N_("designate the Honor Roll"),
    ("Command", "AdoptCohorts"): N_("adopt cohorts"),
    ("Command", "SwitchMigrationMode"): N_("switch migration mode"),
    ("Role", "city"): N_("city staff"),
    ("Role", "reviewer"): N_("reviewer"),
    ("Role", "committee"): N_("committee member"),
    ("Role", "operator"): N_("operator"),
    ("Role", "scheduler"): N_("scheduler"),
    ("Role", "timer"): N_("timer"),
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
            case Quoted():
                return self.refusal(value.gist)  # a library's English words: what they mean
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
    """What a page says of a refused action: the domain's refusal, or the application's (app/errors.py
    `AppError.refusal`), in the page's language; words the application wrote without a refusal
    (none a page shows, a unit test checks the raise sites) are English, marked so."""
    if isinstance(error, DomainError):
        return say_refusal(say, error.refusal)
    if error.refusal is not None:
        return say_refusal(say, error.refusal)
    return error.message, DEFAULT


# --- a form's validation in words ------------------------------------------------------------------
#
# A command built from a form can fail pydantic's validation (a note too long, an id no city could
# have, a list too long). pydantic's messages are English, so a page never shows them: each error
# is said by its type, naming the field by the page's own label for it; an error a model's own
# validator raises (a rule across fields) by the words the page gives for that model.

# The fields of the commands the portal's forms build, by the names a person knows them by (a
# page with labels of its own gives those instead).
COMMAND_FIELDS: dict[str, str] = {
    "answer": N_("Answer"),
    "narrative": N_("Narrative"),
    "note": N_("Note"),
    "rationale": N_("Rationale"),
    "reason": N_("Reason"),
    "grounds": N_("Grounds"),
    "title": N_("Title"),
    "url": N_("Link"),
    "criterion_id": N_("Criterion"),
    "criteria": N_("Criteria"),
    "criterion_ids": N_("Criteria"),
    "documents": N_("Documents"),
    "items": N_("Criteria"),
    "claims": N_("Checklist items claimed"),
    "checklist_met": N_("Checklist items met"),
    "override": N_("Override"),
    "evidence": N_("Evidence"),
    "city_ids": N_("Cities"),
    "round": N_("Round"),
    "cohort": N_("Round"),
    "standard_version": N_("Standard"),
    "level": N_("Level"),
    "upheld": N_("Decision"),
    "visit_date": N_("Visit date"),
    "findings": N_("Findings"),
    "criterion_findings": N_("Findings"),
    "finding": N_("Finding"),
    "overturned": N_("Findings"),
    "deadline": N_("Deadline"),
    "due_at": N_("Due date"),
    "practice_area": N_("Practice area"),
    "reviewer_id": N_("Reviewer"),
}

_NAMED: dict[str, str] = {
    "missing": N_("{field}: enter it."),
    "string_too_long": N_("{field}: at most {max_length} characters."),
    "string_pattern_mismatch": N_("{field}: not in the form expected."),
    "too_long": N_("{field}: at most {max_length} may be given."),
    "too_short": N_("{field}: at least {min_length} must be given."),
    "greater_than_equal": N_("{field}: {ge} or more."),
    "greater_than": N_("{field}: more than {gt}."),
    "less_than_equal": N_("{field}: {le} or less."),
    "less_than": N_("{field}: less than {lt}."),
    "int_parsing": N_("{field}: a whole number."),
    "int_type": N_("{field}: a whole number."),
    "int_from_float": N_("{field}: a whole number."),
    "float_parsing": N_("{field}: a number."),
    "decimal_parsing": N_("{field}: a number."),
    "date_parsing": N_("{field}: a date (year-month-day)."),
    "date_from_datetime_parsing": N_("{field}: a date (year-month-day)."),
    "enum": N_("{field}: choose one of the options."),
    "literal_error": N_("{field}: choose one of the options."),
}
_NOT_VALID = N_("{field}: not valid.")
_TOO_SHORT = N_("{field}: at least {min_length} characters.")
_FORM_NOT_VALID = N_("The form cannot be recorded as given: check each field.")


def form_problems(
    say: Speaker,
    error: ValidationError,
    labels: dict[str, str] = COMMAND_FIELDS,
    because: dict[str, str] | None = None,
) -> list[tuple[str | None, str]]:
    """Each of `error`'s complaints in `say`'s language: the field it is about (the last part of
    its location that `labels` names; None for the form as a whole) and its words. `labels` maps a
    field's name to the page's label for it (a message to translate); `because` maps a model's name
    (the error's title) to the words, in the page's language, for its own validators' complaints."""
    found: list[tuple[str | None, str]] = []
    for err in error.errors():
        named = next((str(p) for p in reversed(err["loc"]) if str(p) in labels), None)
        kind = str(err["type"])
        ctx = err.get("ctx") or {}
        loc = err["loc"]
        model_rule = not loc or isinstance(err.get("input"), dict | BaseModel)
        if kind in ("value_error", "assertion_error") and model_rule:
            # A model's own validator (a rule across its fields): the page says what it needs.
            found.append((named, (because or {}).get(error.title) or say.gettext(_FORM_NOT_VALID)))
            continue
        if kind == "value_error":
            # A field's own rule (domain/ids.py words a pattern in English): the field is not in the
            # form expected, which the page can say.
            kind = "string_pattern_mismatch"
        if named is None:  # a field the form does not show (its own hidden values): the whole form
            found.append((None, say.gettext(_FORM_NOT_VALID)))
            continue
        template = _NAMED.get(kind, _NOT_VALID)
        if kind == "string_too_short":
            template = _NAMED["missing"] if ctx.get("min_length") == 1 else _TOO_SHORT
        values = {
            k: say.number(v) if isinstance(v, int | float) and not isinstance(v, bool) else str(v)
            for k, v in ctx.items()
            if "{" + k + "}" in template
        }
        found.append((named, say.gettext(template, field=say.gettext(labels[named]), **values)))
    return found


def form_words(
    say: Speaker,
    error: ValidationError,
    labels: dict[str, str] = COMMAND_FIELDS,
    because: dict[str, str] | None = None,
) -> str:
    """`form_problems` as one text, for a page that shows a refusal in one place."""
    return " ".join(dict.fromkeys(words for _, words in form_problems(say, error, labels, because)))
