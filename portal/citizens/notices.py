"""The e-mail a citizen gets at each status change, written in the request's language."""

from __future__ import annotations

from ..i18n import Formats, translations
from ..labels import N_

SUBJECTS = {
    "received": N_("Request %(number)s received"),
    "searching": N_("Request %(number)s: we are searching the archive"),
    "needs_info": N_("Request %(number)s: we need more information"),
    "found": N_("Request %(number)s: the record was found"),
    "not_found": N_("Request %(number)s: the record was not found"),
    "awaiting_payment": N_("Request %(number)s: fee to pay"),
    "paid": N_("Request %(number)s: payment received"),
    "ready": N_("Request %(number)s: your copy is ready at the counter"),
    "delivered": N_("Request %(number)s: your copy"),
    "refused": N_("Request %(number)s refused"),
}
BODIES = {
    "received": N_("We received your request for: %(service)s. We answer by %(deadline)s at the latest."),
    "searching": N_("A clerk is now searching the archive for the record you asked for."),
    "needs_info": N_("To go on, we need more information from you. Please answer on your request's page."),
    "found": N_("We found the record you asked for and are preparing the copy."),
    "not_found": N_("We are sorry: we could not find the record you asked for in the archive."),
    "awaiting_payment": N_("The fee for this copy is %(fee)s. The copy is delivered once the payment has arrived."),
    "paid": N_("We received your payment. The copy is being prepared."),
    "ready": N_("Your copy is ready. You can collect it at the archive's counter; bring your identity document."),
    "delivered": N_("Your copy is ready."),
    "handed_over": N_("You collected your copy at the archive's counter. Thank you."),
    "refused": N_("We cannot give you the copy you asked for."),
}


def compose(status: str, language: str, values: dict, message: str | None, links: list[tuple[str, str]],
            tracking_url: str) -> tuple[str, str]:
    """(subject, body) of the notice for a request that reached `status`.

    `links` are (download url, expiry) pairs of the copies delivered; `message` is the clerk's own text."""
    gettext = translations(language).gettext
    subject = gettext(SUBJECTS[status]) % values
    text = BODIES["handed_over" if status == "delivered" and not links else status]
    parts = [gettext(N_("Hello %(applicant)s,")) % values, gettext(text) % values]
    if message:
        parts.append(gettext(N_("Message from the archive:")) + "\n" + message)
    if status == "awaiting_payment" and values.get("payment"):
        parts.append(gettext(N_("How to pay:")) + "\n" + values["payment"] + "\n"
                     + gettext(N_("Give %(number)s as the payment's reference.")) % values)
    for url, expires in links:
        parts.append(gettext(N_("Download it here (the link works until %(expires)s, at most %(times)s times):"))
                     % {"expires": expires, "times": values["download_limit"]} + "\n" + url)
    parts.append(gettext(N_("Follow your request here:")) + "\n" + tracking_url)
    parts.append(gettext(N_("This message was sent automatically by the archive; please do not reply to it.")))
    return subject, "\n\n".join(parts) + "\n"


def format_values(request, service_title: str, fee: str, download_limit: int, payment: str = "") -> dict:
    fmt = Formats(request.language)
    return {"number": request.number, "applicant": request.applicant, "service": service_title,
            "deadline": fmt.date(request.deadline), "fee": fee, "download_limit": download_limit,
            "payment": payment}
