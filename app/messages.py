"""The mail a notice becomes, in the recipient's language (en, es, pt): plain text and HTML, naming
the city, what happened, what to do and by when, with dates as the recipient's locale writes them.

Pure (no I/O): the relay passes the notice, the city's name, the recipient and the Message-ID.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

from domain.notices import Notice, NoticeKind

LANGUAGES = ("en", "es", "pt")

_MONTHS = {
    "en": "January February March April May June July August September October November December",
    "es": "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "pt": "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
}
_LEVELS = {
    "en": {"silver": "Silver", "gold": "Gold", "platinum": "Platinum"},
    "es": {"silver": "Plata", "gold": "Oro", "platinum": "Platino"},
    "pt": {"silver": "Prata", "gold": "Ouro", "platinum": "Platina"},
}
_GREETING = {"en": "Dear {name},", "es": "Estimado/a {name}:", "pt": "Prezado/a {name},"}
_SIGNATURE = {
    "en": "The certification programme",
    "es": "El programa de certificación",
    "pt": "O programa de certificação",
}

# (subject, body) per language and kind; {city} {criterion} {level} {due} {valid_until} {text}
# {link} {time}.
_TEXTS: dict[str, dict[NoticeKind, tuple[str, str]]] = {
    "en": {
        NoticeKind.REVIEW_DUE_SOON: (
            "{city}: your review of {criterion} is due on {due}",
            "Your decision on {city}'s evidence for criterion {criterion} is due on {due}.",
        ),
        NoticeKind.CLARIFICATION_DUE_SOON: (
            "{city}: the answer about {criterion} is due on {due}",
            "A reviewer's question about criterion {criterion} is still open. Please answer by "
            "{due}; unanswered, the criterion counts as not met.",
        ),
        NoticeKind.REVIEWER_ASSIGNED: (
            "{city}: criterion {criterion} is yours to review",
            "You are assigned to review {city}'s evidence for criterion {criterion}. "
            "Please decide on it by {due}.",
        ),
        NoticeKind.REVIEW_ESCALATED: (
            "{city}: the review of {criterion} is overdue",
            "The review of {city}'s evidence for criterion {criterion} was due on {due} and is not "
            "done. Please assign another reviewer or follow up.",
        ),
        NoticeKind.CLARIFICATION_REQUESTED: (
            "{city}: a reviewer asks about {criterion}",
            "A reviewer asks about your evidence for criterion {criterion}:\n\n{text}\n\n"
            "Please answer by {due}; unanswered, the criterion counts as not met.",
        ),
        NoticeKind.CLARIFICATION_EXPIRED: (
            "{city}: the question about {criterion} went unanswered",
            "The question about criterion {criterion} was due on {due} and was not answered, so "
            "the criterion counts as not met in this cycle.",
        ),
        NoticeKind.LEVEL_DECIDED: (
            "{city} is certified {level}",
            "The committee decided that {city} is certified {level}.\n\n{text}\n\n"
            "If you disagree you may appeal until {due}.",
        ),
        NoticeKind.NOT_CERTIFIED: (
            "{city}: the committee's decision",
            "The committee decided not to certify {city} in this cycle.\n\n{text}\n\n"
            "If you disagree you may appeal until {due}.",
        ),
        NoticeKind.APPEAL_FILED: (
            "{city} appealed its decision",
            "{city} appealed the committee's decision:\n\n{text}\n\nThe committee decides the appeal.",
        ),
        NoticeKind.APPEAL_DECIDED: (
            "{city}: the appeal is decided",
            "The committee decided {city}'s appeal.\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_AWARDED: (
            "{city}: {level} certification awarded",
            "{city} holds the {level} certification until {valid_until}. Congratulations.",
        ),
        NoticeKind.IMPORT_PROPOSED: (
            "{city}: an imported {level} certification awaits a countersignature",
            "An operator proposed importing {city}'s {level} certification from before citycert. "
            "A committee member other than the proposer must countersign or reject it.",
        ),
        NoticeKind.EXPIRY_REMINDER: (
            "{city}: the certification ends on {valid_until}",
            "{city}'s certification ends on {valid_until}. Apply for re-certification before then "
            "to keep it without a gap.",
        ),
        NoticeKind.CERTIFICATION_LAPSED: (
            "{city}: the {level} certification has ended",
            "{city}'s {level} certification ended on {valid_until}. You may apply again at any time.",
        ),
        NoticeKind.SUBMISSION_DUE_SOON: (
            "{city}: the evidence is due on {due}",
            "{city}'s evidence for certification is due on {due}. Please submit what is still "
            "missing and close the submission by then.",
        ),
        NoticeKind.SUBMISSION_OVERDUE: (
            "{city}: the evidence was due on {due}",
            "{city}'s evidence was due on {due} and the submission is still open. Please follow "
            "up with the city, or extend the deadline with a reason.",
        ),
        NoticeKind.VISIT_SCHEDULING_DUE_SOON: (
            "{city}: the site visit is to be scheduled by {due}",
            "The review of {city} is complete. Please schedule its site visit, or waive it, by {due}.",
        ),
        NoticeKind.VISIT_SCHEDULING_OVERDUE: (
            "{city}: the site visit was to be scheduled by {due}",
            "{city}'s site visit was to be scheduled or waived by {due} and is not. Please "
            "schedule it, waive it, or extend the deadline with a reason.",
        ),
        NoticeKind.COMMITTEE_DECISION_DUE_SOON: (
            "{city}: the committee's decision is due on {due}",
            "A level is recommended for {city}. The committee's decision is due on {due}.",
        ),
        NoticeKind.COMMITTEE_DECISION_OVERDUE: (
            "{city}: the committee's decision was due on {due}",
            "The committee's decision on {city} was due on {due} and is not made. Please decide, "
            "or extend the deadline with a reason.",
        ),
        NoticeKind.DEADLINE_EXTENDED: (
            "{city}: a deadline now falls on {due}",
            "A deadline in {city}'s certification cycle was extended to {due}. The reason given:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_SUSPENDED: (
            "{city}: the certification is suspended",
            "The programme suspended {city}'s certification; its certificate shows as suspended "
            "until it is reinstated. The reason:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REINSTATED: (
            "{city}: the certification is reinstated",
            "The programme reinstated {city}'s certification; its certificate shows as valid "
            "again. The reason:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REVOKED: (
            "{city}: the {level} certification is revoked",
            "The programme revoked {city}'s {level} certification; its certificate shows as "
            "revoked. The reason:\n\n{text}",
        ),
        NoticeKind.SITE_VISIT_RESCHEDULED: (
            "{city}: the site visit moves to {due}",
            "The site visit to {city} now takes place on {due}. The reason given:\n\n{text}",
        ),
        NoticeKind.SIGN_IN_LINK: (
            "Your sign-in link for citycert",
            "Open this link to sign in to citycert:\n\n{link}\n\nIt works once, until {time} UTC on {due}. "
            "If you did not ask to sign in, ignore this message: nobody can sign in without the link.",
        ),
    },
    "es": {
        NoticeKind.REVIEW_DUE_SOON: (
            "{city}: su revisión de {criterion} vence el {due}",
            "Su decisión sobre la evidencia de {city} para el criterio {criterion} vence el {due}.",
        ),
        NoticeKind.CLARIFICATION_DUE_SOON: (
            "{city}: la respuesta sobre {criterion} vence el {due}",
            "La pregunta de un revisor sobre el criterio {criterion} sigue abierta. Responda, por "
            "favor, antes del {due}; sin respuesta, el criterio no se cumple.",
        ),
        NoticeKind.REVIEWER_ASSIGNED: (
            "{city}: le corresponde revisar el criterio {criterion}",
            "Se le asignó revisar la evidencia de {city} para el criterio {criterion}. "
            "Decida, por favor, antes del {due}.",
        ),
        NoticeKind.REVIEW_ESCALATED: (
            "{city}: la revisión de {criterion} está atrasada",
            "La revisión de la evidencia de {city} para el criterio {criterion} vencía el {due} y "
            "no está hecha. Asigne otro revisor o haga el seguimiento.",
        ),
        NoticeKind.CLARIFICATION_REQUESTED: (
            "{city}: un revisor pregunta sobre {criterion}",
            "Un revisor pregunta sobre su evidencia para el criterio {criterion}:\n\n{text}\n\n"
            "Responda, por favor, antes del {due}; sin respuesta, el criterio no se cumple.",
        ),
        NoticeKind.CLARIFICATION_EXPIRED: (
            "{city}: la pregunta sobre {criterion} quedó sin respuesta",
            "La pregunta sobre el criterio {criterion} vencía el {due} y no fue respondida; el "
            "criterio no se cumple en este ciclo.",
        ),
        NoticeKind.LEVEL_DECIDED: (
            "{city} obtiene la certificación {level}",
            "El comité decidió certificar a {city} con el nivel {level}.\n\n{text}\n\n"
            "Si no está de acuerdo, puede apelar hasta el {due}.",
        ),
        NoticeKind.NOT_CERTIFIED: (
            "{city}: la decisión del comité",
            "El comité decidió no certificar a {city} en este ciclo.\n\n{text}\n\n"
            "Si no está de acuerdo, puede apelar hasta el {due}.",
        ),
        NoticeKind.APPEAL_FILED: (
            "{city} apeló la decisión",
            "{city} apeló la decisión del comité:\n\n{text}\n\nEl comité decide la apelación.",
        ),
        NoticeKind.APPEAL_DECIDED: (
            "{city}: la apelación está decidida",
            "El comité decidió la apelación de {city}.\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_AWARDED: (
            "{city}: certificación {level} otorgada",
            "{city} tiene la certificación {level} hasta el {valid_until}. Felicitaciones.",
        ),
        NoticeKind.IMPORT_PROPOSED: (
            "{city}: una certificación {level} importada espera una segunda firma",
            "Un operador propuso importar la certificación {level} de {city} anterior a citycert. "
            "Un miembro del comité distinto del proponente debe firmarla o rechazarla.",
        ),
        NoticeKind.EXPIRY_REMINDER: (
            "{city}: la certificación vence el {valid_until}",
            "La certificación de {city} vence el {valid_until}. Solicite la recertificación antes "
            "para mantenerla sin interrupción.",
        ),
        NoticeKind.CERTIFICATION_LAPSED: (
            "{city}: la certificación {level} terminó",
            "La certificación {level} de {city} terminó el {valid_until}. Puede volver a postular "
            "cuando quiera.",
        ),
        NoticeKind.SUBMISSION_DUE_SOON: (
            "{city}: la evidencia vence el {due}",
            "La evidencia de {city} para la certificación vence el {due}. Envíe, por favor, lo "
            "que falta y cierre el envío antes de esa fecha.",
        ),
        NoticeKind.SUBMISSION_OVERDUE: (
            "{city}: la evidencia vencía el {due}",
            "La evidencia de {city} vencía el {due} y el envío sigue abierto. Haga el seguimiento "
            "con la ciudad o extienda el plazo indicando el motivo.",
        ),
        NoticeKind.VISIT_SCHEDULING_DUE_SOON: (
            "{city}: la visita debe programarse antes del {due}",
            "La revisión de {city} está completa. Programe su visita, o dispénsela, antes del {due}.",
        ),
        NoticeKind.VISIT_SCHEDULING_OVERDUE: (
            "{city}: la visita debía programarse antes del {due}",
            "La visita de {city} debía programarse o dispensarse antes del {due} y no se hizo. "
            "Prográmela, dispénsela o extienda el plazo indicando el motivo.",
        ),
        NoticeKind.COMMITTEE_DECISION_DUE_SOON: (
            "{city}: la decisión del comité vence el {due}",
            "Hay un nivel recomendado para {city}. La decisión del comité vence el {due}.",
        ),
        NoticeKind.COMMITTEE_DECISION_OVERDUE: (
            "{city}: la decisión del comité vencía el {due}",
            "La decisión del comité sobre {city} vencía el {due} y no se ha tomado. Decida o "
            "extienda el plazo indicando el motivo.",
        ),
        NoticeKind.DEADLINE_EXTENDED: (
            "{city}: un plazo vence ahora el {due}",
            "Un plazo del ciclo de certificación de {city} se extendió hasta el {due}. El motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_SUSPENDED: (
            "{city}: la certificación está suspendida",
            "El programa suspendió la certificación de {city}; su certificado figura como "
            "suspendido hasta que se restablezca. El motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REINSTATED: (
            "{city}: la certificación se restableció",
            "El programa restableció la certificación de {city}; su certificado vuelve a figurar "
            "como válido. El motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REVOKED: (
            "{city}: la certificación {level} fue revocada",
            "El programa revocó la certificación {level} de {city}; su certificado figura como "
            "revocado. El motivo:\n\n{text}",
        ),
        NoticeKind.SITE_VISIT_RESCHEDULED: (
            "{city}: la visita pasa al {due}",
            "La visita a {city} se realizará ahora el {due}. El motivo:\n\n{text}",
        ),
        NoticeKind.SIGN_IN_LINK: (
            "Su enlace para entrar en citycert",
            "Abra este enlace para entrar en citycert:\n\n{link}\n\nFunciona una sola vez, hasta "
            "las {time} UTC del {due}. Si usted no pidió entrar, ignore este mensaje: nadie puede "
            "entrar sin el enlace.",
        ),
    },
    "pt": {
        NoticeKind.REVIEW_DUE_SOON: (
            "{city}: a sua revisão de {criterion} vence em {due}",
            "A sua decisão sobre a evidência de {city} para o critério {criterion} vence em {due}.",
        ),
        NoticeKind.CLARIFICATION_DUE_SOON: (
            "{city}: a resposta sobre {criterion} vence em {due}",
            "A pergunta de um revisor sobre o critério {criterion} continua aberta. Responda, por "
            "favor, até {due}; sem resposta, o critério não é atendido.",
        ),
        NoticeKind.REVIEWER_ASSIGNED: (
            "{city}: cabe a você revisar o critério {criterion}",
            "Você foi designado para revisar a evidência de {city} para o critério {criterion}. "
            "Decida, por favor, até {due}.",
        ),
        NoticeKind.REVIEW_ESCALATED: (
            "{city}: a revisão de {criterion} está atrasada",
            "A revisão da evidência de {city} para o critério {criterion} vencia em {due} e não "
            "foi feita. Designe outro revisor ou acompanhe.",
        ),
        NoticeKind.CLARIFICATION_REQUESTED: (
            "{city}: um revisor pergunta sobre {criterion}",
            "Um revisor pergunta sobre a sua evidência para o critério {criterion}:\n\n{text}\n\n"
            "Responda, por favor, até {due}; sem resposta, o critério não é atendido.",
        ),
        NoticeKind.CLARIFICATION_EXPIRED: (
            "{city}: a pergunta sobre {criterion} ficou sem resposta",
            "A pergunta sobre o critério {criterion} vencia em {due} e não foi respondida; o "
            "critério não é atendido neste ciclo.",
        ),
        NoticeKind.LEVEL_DECIDED: (
            "{city} recebe a certificação {level}",
            "O comitê decidiu certificar {city} no nível {level}.\n\n{text}\n\n"
            "Se discordar, você pode recorrer até {due}.",
        ),
        NoticeKind.NOT_CERTIFIED: (
            "{city}: a decisão do comitê",
            "O comitê decidiu não certificar {city} neste ciclo.\n\n{text}\n\n"
            "Se discordar, você pode recorrer até {due}.",
        ),
        NoticeKind.APPEAL_FILED: (
            "{city} recorreu da decisão",
            "{city} recorreu da decisão do comitê:\n\n{text}\n\nO comitê decide o recurso.",
        ),
        NoticeKind.APPEAL_DECIDED: (
            "{city}: o recurso foi decidido",
            "O comitê decidiu o recurso de {city}.\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_AWARDED: (
            "{city}: certificação {level} concedida",
            "{city} tem a certificação {level} até {valid_until}. Parabéns.",
        ),
        NoticeKind.IMPORT_PROPOSED: (
            "{city}: uma certificação {level} importada aguarda uma segunda assinatura",
            "Um operador propôs importar a certificação {level} de {city} anterior ao citycert. "
            "Um membro do comitê que não seja o proponente deve assiná-la ou rejeitá-la.",
        ),
        NoticeKind.EXPIRY_REMINDER: (
            "{city}: a certificação vence em {valid_until}",
            "A certificação de {city} vence em {valid_until}. Solicite a recertificação antes "
            "para mantê-la sem interrupção.",
        ),
        NoticeKind.CERTIFICATION_LAPSED: (
            "{city}: a certificação {level} terminou",
            "A certificação {level} de {city} terminou em {valid_until}. Você pode se candidatar "
            "de novo quando quiser.",
        ),
        NoticeKind.SUBMISSION_DUE_SOON: (
            "{city}: a evidência vence em {due}",
            "A evidência de {city} para a certificação vence em {due}. Envie, por favor, o que "
            "falta e encerre o envio até essa data.",
        ),
        NoticeKind.SUBMISSION_OVERDUE: (
            "{city}: a evidência vencia em {due}",
            "A evidência de {city} vencia em {due} e o envio continua aberto. Acompanhe a cidade "
            "ou prorrogue o prazo informando o motivo.",
        ),
        NoticeKind.VISIT_SCHEDULING_DUE_SOON: (
            "{city}: a visita deve ser agendada até {due}",
            "A revisão de {city} está concluída. Agende a visita, ou dispense-a, até {due}.",
        ),
        NoticeKind.VISIT_SCHEDULING_OVERDUE: (
            "{city}: a visita devia ser agendada até {due}",
            "A visita de {city} devia ser agendada ou dispensada até {due} e não foi. Agende-a, "
            "dispense-a ou prorrogue o prazo informando o motivo.",
        ),
        NoticeKind.COMMITTEE_DECISION_DUE_SOON: (
            "{city}: a decisão do comitê vence em {due}",
            "Há um nível recomendado para {city}. A decisão do comitê vence em {due}.",
        ),
        NoticeKind.COMMITTEE_DECISION_OVERDUE: (
            "{city}: a decisão do comitê vencia em {due}",
            "A decisão do comitê sobre {city} vencia em {due} e não foi tomada. Decida ou "
            "prorrogue o prazo informando o motivo.",
        ),
        NoticeKind.DEADLINE_EXTENDED: (
            "{city}: um prazo vence agora em {due}",
            "Um prazo do ciclo de certificação de {city} foi prorrogado até {due}. O motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_SUSPENDED: (
            "{city}: a certificação está suspensa",
            "O programa suspendeu a certificação de {city}; o certificado aparece como suspenso "
            "até ser restabelecido. O motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REINSTATED: (
            "{city}: a certificação foi restabelecida",
            "O programa restabeleceu a certificação de {city}; o certificado volta a aparecer "
            "como válido. O motivo:\n\n{text}",
        ),
        NoticeKind.CERTIFICATION_REVOKED: (
            "{city}: a certificação {level} foi revogada",
            "O programa revogou a certificação {level} de {city}; o certificado aparece como "
            "revogado. O motivo:\n\n{text}",
        ),
        NoticeKind.SITE_VISIT_RESCHEDULED: (
            "{city}: a visita passa para {due}",
            "A visita a {city} será agora em {due}. O motivo:\n\n{text}",
        ),
        NoticeKind.SIGN_IN_LINK: (
            "O seu link para entrar no citycert",
            "Abra este link para entrar no citycert:\n\n{link}\n\nEle funciona uma única vez, até "
            "as {time} UTC de {due}. Se você não pediu para entrar, ignore esta mensagem: ninguém "
            "consegue entrar sem o link.",
        ),
    },
}


def local_date(moment: datetime | None, language: str) -> str:
    """A day as the language writes it: 27 March 2026, 27 de marzo de 2026, 27 de março de 2026."""
    if moment is None:
        return ""
    month = _MONTHS[language].split()[moment.month - 1]
    if language == "en":
        return f"{moment.day} {month} {moment.year}"
    return f"{moment.day} de {month} de {moment.year}"


def compose(
    notice: Notice,
    *,
    city: str,
    recipient_name: str,
    recipient_email: str,
    language: str,
    message_id: str,
    mail_from: str,
    sent_at: datetime,
    link: str = "",
) -> EmailMessage:
    """The message for one recipient of `notice`: plain text, and the same as HTML."""
    if language not in _TEXTS:
        raise ValueError(f"no messages in {language!r}; languages: {', '.join(LANGUAGES)}")
    subject, body = _TEXTS[language][notice.kind]
    facts = {
        "city": city,
        "criterion": notice.criterion_id or "",
        "level": _LEVELS[language].get(notice.level or "", notice.level or ""),
        "due": local_date(notice.due_at, language),
        "valid_until": local_date(notice.valid_until, language),
        "text": notice.text,
        "link": link,  # a sign-in link's address, secret included (the relay's)
        "time": notice.due_at.astimezone(UTC).strftime("%H:%M") if notice.due_at else "",
    }
    paragraphs = [
        _GREETING[language].format(name=recipient_name),
        *body.format(**facts).split("\n\n"),
        _SIGNATURE[language],
    ]
    message = EmailMessage()
    message["Subject"] = subject.format(**facts)
    message["From"] = mail_from
    message["To"] = recipient_email
    message["Message-ID"] = message_id
    message["Date"] = format_datetime(sent_at)
    message["Content-Language"] = language
    message.set_content("\n\n".join(paragraphs) + "\n")
    markup = "".join(f"<p>{html.escape(p).replace(chr(10), '<br>')}</p>" for p in paragraphs)
    message.add_alternative(
        f'<!doctype html><html lang="{language}"><body>{markup}</body></html>', subtype="html"
    )
    return message
