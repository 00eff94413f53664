"""The portal's FastAPI application: templates, error pages, security headers, and the two sets of routes
(HTML pages in pages.py, the REST API in rest.py) over one PortalService."""

from __future__ import annotations

import json
import logging
import math
import time
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote, urlsplit

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from pipeline import __version__
from pipeline.corrections import CorrectionConflictError, PageChangedError
from pipeline.errors import (DocumentNotFoundError, IndexToRebuildError, MissingDependencyError, RetrodigError,
                             UsageError)

from .access_log import mask_secrets_in_access_log, masked
from .accounts import LoginThrottled
from .citizens.workflow import ActionRefused, Gone, Throttled
from .labels import N_, labeller, note_text, snippet_html
from .i18n import COOKIE, LANGUAGES, Formats, choose_language, translations
from .security import (PRESESSION_COOKIE, CsrfRefused, Forbidden, NotSignedIn, csrf_token, current_session, safe_next,
                       set_cookie)
from .service import PortalService
from .settings import PortalSettings

HERE = Path(__file__).parent
log = logging.getLogger(__name__)
_SECURITY_HEADERS = {
    # No inline script or style anywhere: even text that slipped through escaping could not run.
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}

templates = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                        trim_blocks=True, lstrip_blocks=True)
templates.filters["snippet"] = snippet_html


def create_app(settings: PortalSettings) -> FastAPI:
    from . import pages, public_pages, request_pages, request_rest, rest

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        app.state.service.close()

    app = FastAPI(title="retrodig portal", lifespan=lifespan, version=__version__, docs_url=None, redoc_url=None,
                  description="Search, read, correct and review a retrodig archive. Sign in with POST "
                              "/api/session; send the returned csrf token as X-CSRF-Token on every write.")
    app.state.service = PortalService(settings)
    mask_secrets_in_access_log()
    outbox = app.state.service.desk.context.outbox
    outbox.deferred = True
    if not app.state.service.desk.context.settings.public_url:
        log.warning("requests.public_url is not set in retrodig.yaml: e-mails to citizens who file a request "
                    "carry a link only when the portal is opened on this machine (localhost); set it to the "
                    "portal's public address")
    if urlsplit(settings.options.copies.verify_url).hostname in ("127.0.0.1", "localhost", "::1"):
        log.warning("copies.verify_url (a setting of the archive's retrodig.yaml) is %s: the QR code on certified "
                    "copies points to this machine, where no citizen can check a copy; set it to the portal's public "
                    "/verify address",
                    settings.options.copies.verify_url)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(pages.router)
    app.include_router(public_pages.router)
    app.include_router(request_pages.router)
    app.include_router(request_pages.metrics_router)
    app.include_router(rest.router)
    app.include_router(request_rest.router)
    _add_error_handlers(app)

    @app.middleware("http")
    async def headers(request: Request, call_next):
        started = time.perf_counter()
        if _too_large(request):  # refused before a byte of the body is read
            return _too_large_answer(request)
        if _unmeasured(request):
            return _error(request, 411, translations(language_of(request)).gettext(
                N_("The request was sent without its length. Send it again.")))
        response = await call_next(request)
        if outbox.waiting:  # the route queued e-mail: sent once the answer has gone out
            response.background = _then(response.background, outbox.send_queued)
        for name, value in _SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)  # a route may be stricter (citizens' uploads: sandbox)
        response.headers.setdefault("Cache-Control", "no-store")  # pages show staff-only data
        response.headers["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        presession = getattr(request.state, "presession", None)
        if presession and request.cookies.get(PRESESSION_COOKIE) != presession:
            set_cookie(response, request, PRESESSION_COOKIE, presession)
        return response

    app.add_middleware(AnswerHead)  # added last, so outermost: the middleware above sees a GET
    return app


def _then(first: BackgroundTask | None, function) -> BackgroundTask:
    """`first` (a route's own background work), then `function`, in Starlette's thread pool."""
    async def both():
        if first is not None:
            await first()
        await run_in_threadpool(function)
    return BackgroundTask(both)


class AnswerHead:
    """HEAD answered as GET is, without the body (RFC 9110 9.3.2: every general-purpose server supports it).
    FastAPI routes answer only the methods they name, so uptime monitors and link checkers got 405."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] != "HEAD":
            return await self.app(scope, receive, send)

        async def headers_only(message):
            if message["type"] != "http.response.body":
                await send(message)  # the status and headers, Content-Length included, as for GET
            elif not message.get("more_body", False):
                await send({"type": "http.response.body", "body": b""})

        await self.app({**scope, "method": "GET", HEAD_SCOPE_KEY: True}, receive, headers_only)


HEAD_SCOPE_KEY = "retrodig.head"  # in a request's scope: asked with HEAD, answered as GET without the body


def asked_with_head(request: Request) -> bool:
    return bool(request.scope.get(HEAD_SCOPE_KEY))


_WITH_BODY = ("POST", "PUT", "PATCH", "DELETE")
JSON_BODY_LIMIT = 1024 * 1024  # bytes: a corrected line or a record's metadata is a few KB


def _too_large(request: Request) -> bool:
    """A form with files (multipart) larger than a request's attachments may add up to (plus the form around
    them); any other body (JSON: a corrected line, metadata; a form without files) larger than JSON_BODY_LIMIT.
    A PUT was read whole before its sender was asked who they are: 300 MB, anonymous, kept the portal's memory
    600 MB higher; a 48 MB JSON POST to /api/session was read, and echoed back in the refusal."""
    length = request.headers.get("content-length", "")
    if request.method not in _WITH_BODY or not length.isdigit():
        return False
    if not _with_files(request):
        return int(length) > JSON_BODY_LIMIT
    settings = request.app.state.service.desk.context.settings
    return int(length) > settings.attachments_max * settings.attachment_mb * 1024 * 1024 + 1024 * 1024


def _with_files(request: Request) -> bool:
    return request.method == "POST" and request.headers.get("content-type", "").lower().startswith(
        "multipart/form-data")


def _too_large_answer(request: Request):
    """413, saying the limits and that the form is still there one page back (the body is refused unread, so the
    page cannot give back what was typed: the bare "The files are too large." left a citizen to type it again)."""
    gettext = translations(language_of(request)).gettext
    if not _with_files(request):
        return _error(request, 413, gettext(N_("The request is too large.")))
    settings = request.app.state.service.desk.context.settings
    fmt = Formats(language_of(request))
    return _error(request, 413, gettext(N_(
        "The files are too large: at most %(mb)s MB each, %(count)s files. Go back one page (what you typed is "
        "still there) and attach smaller files, or scan them at a lower resolution.")) % {
        "mb": fmt.number(settings.attachment_mb, 0 if settings.attachment_mb == int(settings.attachment_mb) else 1),
        "count": settings.attachments_max})


def _unmeasured(request: Request) -> bool:
    """A body sent in chunks, without its length: `_too_large` cannot judge it before reading it all (browsers and
    HTTP clients send the length of a form or a JSON body; a proxy in front, such as nginx, does too)."""
    return request.method in _WITH_BODY and "content-length" not in request.headers and \
        "chunked" in request.headers.get("transfer-encoding", "").lower()


def language_of(request: Request) -> str:
    return choose_language(request.cookies.get(COOKIE), request.headers.get("accept-language"))


def render(request: Request, template: str, status: int = 200, **context) -> HTMLResponse:
    language = language_of(request)
    catalog = translations(language)
    session = current_session(request)
    html = templates.get_template(template).render(
        request=request, _=catalog.gettext, ngettext=catalog.ngettext, fmt=Formats(language), lang=language,
        languages=LANGUAGES, user=session.user if session else None, csrf=csrf_token(request), label=labeller(catalog.gettext),
        note=lambda text: note_text(text, catalog.gettext),
        here=_here(request), **context,
    )
    return HTMLResponse(html, status_code=status)


def _here(request: Request) -> str:
    """Where the language switch comes back to: this page; for a page shown in answer to a form (a conflict, a
    refused value), the page the form was on, as the address of a form's answer takes no GET (the switch gave
    405, and a clerk's typed text was lost with it)."""
    if request.method in ("GET", "HEAD"):
        return request.url.path + (f"?{request.url.query}" if request.url.query else "")
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc != request.url.netloc or not referer.path.startswith("/"):
        return "/"
    return referer.path + (f"?{referer.query}" if referer.query else "")


def said(request: Request, error: Exception) -> str:
    """An error's own words, in the reader's language when it says them from a template (UsageError.said)."""
    template = getattr(error, "template", None)
    return translations(language_of(request)).gettext(template) % error.values if template else str(error)


_PUBLIC_PATHS = ("/services", "/track", "/download", "/verify", "/login", "/language")  # used without signing in


def _public_path(path: str) -> bool:
    return path.startswith(_PUBLIC_PATHS)


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith("/api/") or request.url.path == "/api"


def _error(request: Request, status: int, message: str, headers: dict | None = None):
    if _wants_json(request):
        return JSONResponse({"detail": message}, status_code=status, headers=headers)
    response = render(request, "error.html", status=status, status_code=status, message=message)
    response.headers.update(headers or {})
    return response


# Errors answered with a fixed message: type -> (HTTP status, message, translated for the reader).
_ANSWERS = {
    Forbidden: (403, N_("Your role does not allow this.")),
    CsrfRefused: (403, N_("The form had expired or came from elsewhere. Reload the page and try again.")),
    LoginThrottled: (429, N_("Too many failed attempts. Try again in %(minutes)s min.")),
    Throttled: (429, N_("Too many attempts from your address. Try again in %(minutes)s min.")),
    Gone: (410, N_("This download link has expired or has been used as many times as allowed. "
                   "Ask the archive for a new one.")),
    DocumentNotFoundError: (404, N_("Not found.")),
    CorrectionConflictError: (409, N_("Someone else changed this line meanwhile. "
                                      "Reload the page to see their version.")),
    PageChangedError: (409, N_("Someone corrected this page while it was being read again: the new reading was "
                               "not saved. Reload the page to see their version.")),
    # Its own words name the server's folders, in English: the administrator reads them in the log and the CLI.
    IndexToRebuildError: (503, N_("The search index has to be rebuilt before it can answer: ask the archive's "
                                  "administrator to run retrodig reindex.")),
}
# Errors answered with their own words (the most specific type of an error decides).
_SAID = {UsageError: 400, MissingDependencyError: 503, RetrodigError: 503}


def _add_error_handlers(app: FastAPI) -> None:
    def gettext(request: Request, message: str) -> str:
        return translations(language_of(request)).gettext(message)

    @app.exception_handler(NotSignedIn)
    async def not_signed_in(request: Request, exc: NotSignedIn):
        if _wants_json(request):
            return JSONResponse({"detail": "sign in first (POST /api/session)"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(f"/login?next={quote(target, safe='')}", status_code=303)

    def answer(status: int, message: str):
        """A handler answering every error of one type with the same status and (translated) message."""
        async def handler(request: Request, exc: Exception):
            if status >= 500:  # the reader is told what to do; the administrator what is wrong, in the log
                log.warning("%s %s: %s", request.method, request.url.path, exc)
            retry = getattr(exc, "retry_after", None)
            said = gettext(request, message)
            if retry is not None:  # when, not only "later": the page said nothing of how long
                said %= {"minutes": max(1, math.ceil(retry / 60))}
            return _error(request, status, said, {"Retry-After": str(retry)} if retry is not None else None)
        return handler

    for error, (status, message) in _ANSWERS.items():
        if error is not CsrfRefused:  # its own handler, below
            app.add_exception_handler(error, answer(status, message))

    @app.exception_handler(CsrfRefused)
    async def csrf_refused(request: Request, exc: CsrfRefused):
        """A staff form sent after the session ended (it expired, or the clerk signed out in another tab): the
        page offered the citizens' services; it offers signing in again, back to the page the form was on."""
        message = gettext(request, _ANSWERS[CsrfRefused][1])
        if _wants_json(request) or current_session(request) or _public_path(request.url.path):
            return _error(request, 403, message)
        referer = urlsplit(request.headers.get("referer", ""))
        back = referer.path + (f"?{referer.query}" if referer.query else "") \
            if referer.netloc == request.url.netloc and referer.path else "/"  # the page too: ?page=2
        return render(request, "error.html", status=403, status_code=403, message=message,
                      sign_in=f"/login?next={quote(safe_next(back), safe='')}")

    @app.exception_handler(ActionRefused)
    async def refused(request: Request, exc: ActionRefused):
        message = gettext(request, exc.message)
        values = dict(exc.values)
        if values.get("embargo"):  # the types by their names in the reader's language, not their codes
            label = labeller(translations(language_of(request)).gettext)
            values["reason"] = ", ".join(f"{e.document} ({label('doc_type', e.doc_type)}, {e.record_year or '?'}: "
                                         f"{e.years})" for e in values["embargo"])
        return _error(request, 409, message % values if values else message)

    def as_said(status: int):
        """A handler answering with the error's own words: in the reader's language when it has a template."""
        async def handler(request: Request, exc: Exception):
            return _error(request, status, said(request, exc))
        return handler

    for error, status in _SAID.items():
        app.add_exception_handler(error, as_said(status))

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError):
        if _wants_json(request):  # where and why, not what was sent: a password refused was echoed back
            errors = [{key: value for key, value in error.items() if key not in ("input", "ctx", "url")}
                      for error in exc.errors()]
            return Response(json.dumps({"detail": errors}, default=str), status_code=422,
                            media_type="application/json")
        if request.method == "POST":  # a form with a missing or malformed field
            too_long = [e["ctx"]["max_length"] for e in exc.errors() if e.get("type") == "string_too_long"]
            if too_long:  # it said the form was incomplete
                return _error(request, 400, gettext(request, N_("The text is too long: at most %(count)s characters."))
                              % {"count": too_long[0]})
            return _error(request, 400, gettext(request, N_("The form was incomplete. Reload the page and try again.")))
        # Malformed ids and page numbers in a URL are simply pages that do not exist.
        return _error(request, 404, gettext(request, N_("Not found.")))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception):
        log.exception("internal error on %s", masked(request.url.path))
        return _error(request, 500, gettext(request, N_("Internal error: the server log has the details.")))

    @app.exception_handler(404)
    async def no_route(request: Request, exc):
        return _error(request, 404, gettext(request, N_("Not found.")))

    @app.exception_handler(400)
    async def unreadable_form(request: Request, exc):
        """A body Starlette cannot parse (more than 1000 fields, a broken multipart body): its own English JSON
        went to a citizen's page."""
        if _wants_json(request):
            return JSONResponse({"detail": getattr(exc, "detail", "bad request")}, status_code=400)
        return _error(request, 400, gettext(request, N_("The form could not be read. Reload the page and try again.")))

    @app.exception_handler(405)
    async def wrong_method(request: Request, exc):  # a bookmarked /logout, a button's address typed in: was raw JSON
        return _error(request, 405, gettext(request, N_(
            "This address opens no page: use the button or the form that leads to it.")),
            {"Allow": exc.headers.get("Allow", "")} if getattr(exc, "headers", None) else None)
