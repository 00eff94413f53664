"""Names people read for the codes the archive stores: document types, roles, audit actions, OCR languages.
Each English name is a gettext message (extracted by Babel: the `N_` marker only marks it)."""

from __future__ import annotations

import re

from markupsafe import Markup, escape


def N_(message: str) -> str:
    return message


LABELS = {
    "doc_type": {
        "building_permit": N_("Building permit"), "property_deed": N_("Property deed"),
        "council_decision": N_("Council decision"), "civil_status": N_("Civil-status record"),
        "correspondence": N_("Correspondence"), "unknown": N_("Not determined"),
    },
    "role": {"clerk": N_("clerk"), "archivist": N_("archivist"), "admin": N_("admin")},
    "action": {
        "correct-line": N_("Line corrected"), "correct-metadata": N_("Catalog field corrected"),
        "reocr": N_("Page read again"), "review-accept": N_("Page accepted"), "user-add": N_("User added"),
        "user-role": N_("Role changed"), "user-active": N_("Account enabled or disabled"),
        "user-password": N_("Password changed"),
    },
    "field": {"title": N_("Title"), "collection": N_("Collection"), "doc_type": N_("Document type"),
              "years": N_("Years")},
    "status": {"processed": N_("processed"), "skipped": N_("skipped"), "failed": N_("failed")},
    "decision": {"accepted": N_("accepted"), "corrected": N_("corrected"), "reocr": N_("read again")},
    "stopped_by": {"ctrl-c": N_("interrupted with Ctrl-C; run it again to finish it"),
                   "sigterm": N_("stopped by the system (SIGTERM); run it again to finish it"),
                   "error": N_("an error stopped the batch; run it again once it is mended"),
                   "killed": N_("its process ended (killed, or the machine stopped); run it again to finish it")},
    # An ingest run's reasons a file failed or was skipped (pipeline.errors, pipeline.run): the run page showed the
    # codes alone.
    "reason": {
        "bad-input": N_("unusable input"),
        "empty-file": N_("empty file"),
        "unreadable": N_("cannot be read"),
        "changed": N_("changed while read"),
        "bad-name": N_("file name not usable"),
        "unsupported-format": N_("format not supported"),
        "truncated": N_("cut short"),
        "corrupt": N_("damaged file"),
        "encrypted": N_("encrypted"),
        "too-large": N_("too large"),
        "ocr-failed": N_("OCR failed"),
        "document-incomplete": N_("document incomplete"),
        "internal-error": N_("internal error"),
        "missing-dependency": N_("missing program or language"),
        "damaged-record": N_("damaged catalog record"),
        "already-archived": N_("already in the archive"),
        "duplicate": N_("the same file twice"),
        "not-a-scan": N_("not a scan"),
    },
    "profile": {  # the shipped cleanup profiles (configs/profiles/); an archive's own are shown by their names
        "default": N_("standard"),
        "gentle": N_("gentle (clean scans)"),
        "typewritten": N_("typewritten"),
        "printed-book": N_("printed book"),
        "newspaper": N_("newspaper"),
        "photocopy": N_("photocopy"),
        "handwritten-mixed": N_("print with handwriting"),
    },
    "request_status": {
        "received": N_("received"), "searching": N_("being searched"), "needs_info": N_("information needed"),
        "found": N_("found"), "not_found": N_("not found"), "awaiting_payment": N_("awaiting payment"),
        "paid": N_("paid"), "ready": N_("ready"), "delivered": N_("delivered"), "refused": N_("refused"),
    },
    "relation": {
        "self": N_("I am the person the record is about"), "relative": N_("A relative or heir"),
        "representative": N_("Legal representative or holder of a power of attorney"), "other": N_("Someone else"),
    },
    # The same, as staff read them of a request (the citizen's own words, "I am ...", said it of the clerk).
    "relation_staff": {
        "self": N_("The person the record is about"), "relative": N_("A relative or heir"),
        "representative": N_("Legal representative or holder of a power of attorney"), "other": N_("Someone else"),
    },
    "delivery": {"electronic": N_("Signed PDF by e-mail link"), "counter": N_("Printed copy at the counter")},
    "box_kind": {
        "cnp": N_("Romanian personal number (CNP)"), "pesel": N_("Polish personal number (PESEL)"),
        "rnokpp": N_("Ukrainian taxpayer number (RNOKPP)"), "iban": N_("Bank account (IBAN)"),
        "phone": N_("Phone number"), "email": N_("E-mail address"), "address": N_("Address"),
        "name": N_("Name"),
        "manual": N_("Drawn by a clerk"),
    },
    "language": {
        "ron": N_("Romanian"), "pol": N_("Polish"), "ukr": N_("Ukrainian"), "rus": N_("Russian"),
        "hun": N_("Hungarian"), "deu": N_("German"), "frk": N_("German (Fraktur)"),
        "eng": N_("English"),
    },
}


# The notes the portal itself writes into a request's history (casework.py), stored in English: shown in the
# reader's language. A clerk's own notes are shown as written.
_NOTES = (
    (re.compile(r"record (?P<name>\S+) linked"), N_("Record %(name)s linked")),
    (re.compile(r"download links issued again"), N_("Download links issued again")),
    (re.compile(r"record (?P<name>\S+) unlinked"), N_("Record %(name)s unlinked")),
    (re.compile(r"redactions of (?P<name>\S+) confirmed"), N_("Redactions of %(name)s confirmed")),
    (re.compile(r"text of (?P<name>\S+) changed: redactions proposed again"),
     N_("The text of %(name)s was corrected: its redactions were proposed again")),
    (re.compile(r"redaction box drawn on (?P<name>\S+) page (?P<page>\d+) \((?P<box>[^)]*)\)"),
     N_("Redaction box drawn on %(name)s, page %(page)s (%(box)s)")),
    (re.compile(r"redactions of (?P<name>\S+) page (?P<page>\d+) changed: (?P<kept>\d+) of (?P<shown>\d+) boxes kept "
                r"\((?P<ticked>\d+) ticked or unticked\), (?P<moved>\d+) moved"),
     N_("Redactions of %(name)s, page %(page)s changed: %(kept)s of %(shown)s boxes kept (%(ticked)s ticked or "
        "unticked), %(moved)s moved")),
    (re.compile(r"assigned to (?P<name>.+)"), N_("Assigned to %(name)s")),
    (re.compile(r"(?P<name>unassigned)"), N_("Unassigned")),
)


def note_text(text: str, gettext) -> str:
    """A history note in the reader's language when the portal wrote it (see _NOTES), else as written."""
    for pattern, message in _NOTES:
        match = pattern.fullmatch(text)
        if match:
            translated = gettext(message)
            return translated % match.groupdict() if "%(" in translated else translated
    return text


def labeller(gettext):
    def label(kind: str, code) -> str:
        message = LABELS.get(kind, {}).get(str(code))
        return gettext(message) if message else str(code)

    return label


# A [matched] word, or a character of the page's own text escaped by a backslash (\[, \], \\: see snippets.py).
_MARKED = re.compile(r"\\(.)|\[([^\[\]\\]{1,200})\]", re.DOTALL)


def snippet_html(snippet: str) -> Markup:
    """A search snippet with its [matched] words in <mark>: escaped first, so page text stays text."""
    return Markup(_MARKED.sub(lambda m: m[1] if m[1] is not None else f"<mark>{m[2]}</mark>", str(escape(snippet))))
