"""The portal's HTML pages: server-rendered, a form per action, no script needed (fast on old office PCs)."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse

from pipeline.corrections import CorrectionConflictError
from pipeline.errors import UsageError

from .accounts import ROLES, LoginRefused, User
from .i18n import COOKIE, LANGUAGES
from .security import SESSION_COOKIE, PRESESSION_COOKIE, check_csrf, client_address, set_cookie, safe_next, signed_in
from .service import EDITABLE_FIELDS, build_query, editable_value
from .web import render, said

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
PageNumber = Annotated[int, Path(ge=1, le=100_000)]
SEARCH_FIELDS = ("q", "collection", "type", "lang", "from", "to", "exact")


def _service(request: Request):
    return request.app.state.service


def _back(path: str, **params) -> RedirectResponse:
    query = urlencode({k: v for k, v in params.items() if v not in (None, "")})
    return RedirectResponse(f"{path}?{query}" if query else path, status_code=303)


def _search_params(request: Request) -> dict:
    return {k: request.query_params[k] for k in SEARCH_FIELDS if request.query_params.get(k)}


def _query(params: dict, offset: int = 0, limit: int = 20):
    return build_query(params.get("q", ""), params.get("collection"), params.get("type"), params.get("lang"),
                       params.get("from"), params.get("to"), bool(params.get("exact")), offset, limit)


# --- signing in and out, language -------------------------------------------------------------------

@router.get("/login")
def login_page(request: Request, next: str = "/"):
    return render(request, "login.html", next=safe_next(next), failed=False)


@router.post("/login")
def login(request: Request, name: str = Form(max_length=100), password: str = Form(max_length=1000),
          next: str = Form("/")):
    try:
        session = _service(request).accounts.log_in(name, password, client_address(request))
    except LoginRefused:
        return render(request, "login.html", status=401, next=safe_next(next), failed=True, name=name)
    response = RedirectResponse(safe_next(next), status_code=303)
    set_cookie(response, request, SESSION_COOKIE, session.token)
    response.delete_cookie(PRESESSION_COOKIE, path="/")
    return response


@router.post("/logout")
def logout(request: Request):
    _service(request).accounts.log_out(request.cookies.get(SESSION_COOKIE))
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.post("/language")
def language(request: Request, lang: str = Form(), next: str = Form("/")):
    response = RedirectResponse(safe_next(next), status_code=303)
    if lang in LANGUAGES:
        set_cookie(response, request, COOKIE, lang, max_age=365 * 24 * 3600)
    return response


# --- search and the viewer ------------------------------------------------------------------------

@router.get("/")
def search_page(request: Request, user: User = Depends(signed_in()), p: int = Query(1, ge=1, le=10_000)):
    params = _search_params(request)
    size = _service(request).settings.page_size
    results, error = None, None
    if params.get("q"):
        try:
            results = _service(request).search(_query(params, (p - 1) * size, size))
        except UsageError as exc:
            error = said(request, exc)
    return render(request, "search.html", params=params, results=results, error=error, page=p, size=size,
                  offset=(p - 1) * size)


@router.get("/hit")
def go_to_hit(request: Request, user: User = Depends(signed_in()), n: int = Query(0, ge=0, le=1_000_000)):
    """Next/previous hit: the n-th hit of the search, opened in the viewer."""
    params = _search_params(request)
    hit, _ = _service(request).hit(_query(params), n)
    if hit is None:
        return _back("/", **params)
    return _back(f"/documents/{hit.document}", page=hit.page, hit=n, **params)


@router.get("/documents/{doc_id}")
def viewer(request: Request, doc_id: DocId, user: User = Depends(signed_in()),
           page: int = Query(1, ge=1, le=100_000), hit: int | None = Query(None, ge=0, le=1_000_000),
           saved: str | None = None):
    return _document_page(request, doc_id, page, saved=saved, **_hit_context(request, doc_id, page, hit))


def _hit_context(request: Request, doc_id: str, page: int, hit: int | None) -> dict:
    """The search a page was opened from (its words and filters, the hit's number) and the hit itself, for the
    viewer's boxes, next and previous hit and way back to the results."""
    params = _search_params(request)
    found, total = (None, 0)
    if hit is not None and params.get("q"):
        found, total = _service(request).hit(_query(params), hit)
        if found and (found.document != doc_id or found.page != page):
            found = None  # the index changed since the link was made: show the page without boxes
    return {"hit": found, "hit_index": hit, "total": total, "params": params}


def _opened_hit(request: Request) -> int | None:
    """The hit number a form sent from the viewer carries in its address (see document.html), if any."""
    value = request.query_params.get("hit", "")
    return int(value) if value.isdigit() and len(value) <= 7 else None


def _document_page(request: Request, doc_id: str, page: int, status: int = 200, **context):
    service = _service(request)
    view = service.page(doc_id, page)
    context = {"hit": None, "hit_index": None, "total": 0, "params": {}, "saved": None, "conflict": None,
               **context}
    return render(request, "document.html", status=status, view=view, record=view.document, fields=EDITABLE_FIELDS,
                  field_value=lambda f: editable_value(view.document, f),
                  history=service.audit_entries(doc_id, limit=20),
                  profiles=service.profiles(), ocr_languages=service.languages(), doc_types=sorted(service.doc_types()),
                  page_size=service.settings.page_size, **context)


@router.get("/documents/{doc_id}/pages/{number}.jpg")
def page_image(request: Request, doc_id: DocId, number: PageNumber, size: str = "view",
               user: User = Depends(signed_in())):
    path = _service(request).page_image(doc_id, number, size)
    return FileResponse(path, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})


@router.get("/documents/{doc_id}/document.pdf")
def pdf(request: Request, doc_id: DocId, user: User = Depends(signed_in())):
    return FileResponse(_service(request).pdf(doc_id), media_type="application/pdf", filename=f"{doc_id}.pdf")


@router.get("/documents/{doc_id}/pages/{number}/original")
def original_text(request: Request, doc_id: DocId, number: PageNumber, user: User = Depends(signed_in())):
    service = _service(request)
    return render(request, "original.html", record=service.document(doc_id), number=number,
                  original=service.page_text(doc_id, number, original=True),
                  current=service.page_text(doc_id, number))


# --- corrections ------------------------------------------------------------------------------------

@router.post("/documents/{doc_id}/pages/{number}/lines")
def correct_line(request: Request, doc_id: DocId, number: PageNumber, line: str = Form(max_length=40),
                 text: str = Form("", max_length=2000), expected: str | None = Form(None, max_length=2000),
                 user: User = Depends(signed_in("archivist"))):
    # A page opened from a search keeps it (its boxes, next and previous hit, the way back to the results).
    hit = _opened_hit(request)
    try:
        _service(request).correct_line(user, doc_id, number, line, text, expected)
    except CorrectionConflictError:  # the page again, their version shown and what this clerk typed kept to save
        return _document_page(request, doc_id, number, status=409, conflict={"line": line, "text": text},
                              **_hit_context(request, doc_id, number, hit))
    return _back_to_page(request, doc_id, number, hit, line, line)


def _back_to_page(request: Request, doc_id: str, number: int, hit: int | None, saved: str,
                  anchor: str) -> RedirectResponse:
    params = _search_params(request) if hit is not None else {}
    query = urlencode({"page": number, **({"hit": hit} if hit is not None else {}), "saved": saved, **params})
    return RedirectResponse(f"/documents/{doc_id}?{query}#{anchor}", status_code=303)


@router.post("/documents/{doc_id}/metadata")
def correct_metadata(request: Request, doc_id: DocId, field: str = Form(max_length=40),
                     value: str = Form("", max_length=1000), page: int = Form(1, ge=1, le=100_000),
                     user: User = Depends(signed_in("archivist"))):
    _service(request).correct_metadata(user, doc_id, field, value)
    return _back_to_page(request, doc_id, page, _opened_hit(request), field, "metadata")


# --- review queue -----------------------------------------------------------------------------------

@router.get("/review")
def review_page(request: Request, user: User = Depends(signed_in()), p: int = Query(1, ge=1, le=100_000)):
    service = _service(request)
    total, items = service.review_queue(limit=25, offset=(p - 1) * 25)
    if not items and total:  # its last page was worked off: the one before
        return RedirectResponse(f"/review?p={(total - 1) // 25 + 1}", status_code=303)
    return render(request, "review.html", total=total, items=items, page=p, size=25,
                  profiles=service.profiles(), ocr_languages=service.languages())


@router.post("/review/{doc_id}/{number}/accept")
def review_accept(request: Request, doc_id: DocId, number: PageNumber, p: int = Form(1, ge=1, le=100_000),
                  user: User = Depends(signed_in("archivist"))):
    _service(request).accept(user, doc_id, number)
    return RedirectResponse(f"/review?p={p}", status_code=303)  # the queue's page it was accepted on


@router.post("/review/{doc_id}/{number}/reocr")
def review_reocr(request: Request, doc_id: DocId, number: PageNumber, languages: list[str] = Form(),
                 profile: str = Form(max_length=60), user: User = Depends(signed_in("archivist"))):
    # The form is offered while the page waits for a decision (the queue's, the page's): one sent after someone
    # took it is refused, as is a reading that would replace staff's corrections (the form cannot ask).
    _service(request).reocr(user, doc_id, number, "+".join(languages), profile, undecided_only=True)
    return RedirectResponse(f"/documents/{doc_id}?page={number}&saved=reocr", status_code=303)


# --- ingest runs, audit log, users ------------------------------------------------------------------

@router.get("/ingest")
def runs_page(request: Request, user: User = Depends(signed_in())):
    return render(request, "runs.html", runs=_service(request).runs())


@router.get("/ingest/{run_id}")
def run_page(request: Request, run_id: str = Path(pattern=r"^\d{8}T\d{6,12}Z$"), user: User = Depends(signed_in())):
    return render(request, "run.html", run_id=run_id, report=_service(request).run(run_id))


@router.get("/audit")
def audit_page(request: Request, user: User = Depends(signed_in("archivist")),
               document: str | None = Query(None, pattern=r"^[0-9a-f]{16}$"), p: int = Query(1, ge=1, le=100_000)):
    entries = _service(request).audit_entries(document, limit=50, offset=(p - 1) * 50)
    return render(request, "audit.html", entries=entries, document=document, page=p, size=50)


@router.get("/users")
def users_page(request: Request, user: User = Depends(signed_in("admin")), error: str | None = None):
    return render(request, "users.html", users=_service(request).accounts.users(), roles=ROLES, error=error)


@router.post("/users")
def add_user(request: Request, name: str = Form(max_length=40), password: str = Form(max_length=1000),
             role: str = Form(), user: User = Depends(signed_in("admin"))):
    service = _service(request)
    try:
        added = service.accounts.add_user(name, password, role)
    except UsageError as exc:
        return render(request, "users.html", status=400, users=service.accounts.users(), roles=ROLES, error=said(request, exc))
    service.audit.record(user.name, "user-add", target=added.name, after=added.role)
    return RedirectResponse("/users", status_code=303)


@router.post("/users/{name}")
def change_user(request: Request, name: str = Path(pattern=r"^[a-z0-9][a-z0-9._-]{1,39}$"),
                role: str | None = Form(None), active: str | None = Form(None),
                password: str | None = Form(None, max_length=1000), user: User = Depends(signed_in("admin"))):
    service = _service(request)
    before = service.accounts.user(name)
    try:
        if role and role != before.role:
            service.accounts.set_role(name, role)
            service.audit.record(user.name, "user-role", target=name, before=before.role, after=role)
        if active in ("0", "1") and bool(int(active)) != before.active:
            service.accounts.set_active(name, active == "1")
            service.audit.record(user.name, "user-active", target=name, before=str(before.active).lower(),
                                 after=str(active == "1").lower())
        if password:
            service.accounts.set_password(name, password)
            service.audit.record(user.name, "user-password", target=name)
    except UsageError as exc:
        return render(request, "users.html", status=400, users=service.accounts.users(), roles=ROLES, error=said(request, exc))
    return RedirectResponse("/users", status_code=303)
