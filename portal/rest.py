"""The REST API (`/api/...`, described at /openapi.json): the same service layer as the HTML pages.

Sign in with POST /api/session (JSON body); the answer sets the session cookie and carries the CSRF token,
which every later write must send as the X-CSRF-Token header.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from pydantic import BaseModel, Field

from pipeline.backends.search.protocol import SearchHit, SearchResults

from .accounts import LoginRefused, User
from .audit import AuditEntry
from .review import ReviewItem
from .security import SESSION_COOKIE, check_csrf, client_address, current_session, set_cookie, signed_in
from .service import build_query

router = APIRouter(prefix="/api", dependencies=[Depends(check_csrf)], tags=["api"])

DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$", description="a document id: 16 hex digits")]
PageNumber = Annotated[int, Path(ge=1, le=100_000)]


class Credentials(BaseModel):
    name: str = Field(max_length=100)
    password: str = Field(max_length=1000)


class SessionInfo(BaseModel):
    user: str
    role: str
    csrf_token: str


class LineCorrection(BaseModel):
    text: str = Field(max_length=2000)
    expected: str | None = Field(None, max_length=2000, description="the line as the editor saw it: refused "
                                                                    "with 409 if it changed meanwhile")


class MetadataCorrection(BaseModel):
    field: Literal["title", "collection", "doc_type", "years"]
    value: str = Field(max_length=1000)


class Change(BaseModel):
    before: str | int | list[int] | None
    after: str | int | list[int] | None


class ReviewDecision(BaseModel):
    decision: Literal["accept", "reocr"]
    languages: str = Field("", description="with reocr: Tesseract languages, e.g. ron+hun")
    profile: str = Field("default", description="with reocr: a cleanup profile name")
    replace_corrections: bool = Field(False, description="with reocr: read the page again even if staff corrected "
                                      "its lines since it was read (their corrections are replaced); else 409")


class LineOut(BaseModel):
    id: str
    bbox: tuple[int, int, int, int]
    text: str
    unsure: bool = Field(False, description="read too unsurely to be print: handwriting, a signature, a stamp")


class PageOut(BaseModel):
    document: str
    number: int
    width: int
    height: int
    text: str
    original_text: str
    corrected: bool
    needs_review: bool
    review_decision: str | None
    lines: list[LineOut]
    unread_writing: list[tuple[int, int, int, int]] = Field(
        [], description="boxes (left, top, right, bottom, in the lines' pixels) around writing no word was read "
                        "from: a signature, a handwritten note or a stamp Tesseract skipped, or print it missed")


def _service(request: Request):
    return request.app.state.service


@router.post("/session", response_model=SessionInfo)
def sign_in(request: Request, credentials: Credentials):
    try:
        session = _service(request).accounts.log_in(credentials.name, credentials.password, client_address(request))
    except LoginRefused:
        return JSONResponse({"detail": "wrong user name or password"}, status_code=401)
    response = JSONResponse(SessionInfo(user=session.user.name, role=session.user.role,
                                        csrf_token=session.csrf).model_dump())
    set_cookie(response, request, SESSION_COOKIE, session.token)
    return response


@router.get("/session", response_model=SessionInfo)
def who_am_i(request: Request, user: User = Depends(signed_in())):
    return SessionInfo(user=user.name, role=user.role, csrf_token=current_session(request).csrf)


@router.delete("/session", status_code=204)
def sign_out(request: Request, user: User = Depends(signed_in())):
    _service(request).accounts.log_out(request.cookies.get(SESSION_COOKIE))
    response = Response(status_code=204)  # no body: JSONResponse(None) would send "null" after a 204
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get("/search", response_model=SearchResults)
def search(request: Request, q: str = Query(max_length=500), collection: str | None = None,
           doc_type: str | None = None, language: str | None = None,
           year_from: int | None = Query(None, ge=0, le=9999), year_to: int | None = Query(None, ge=0, le=9999),
           exact: bool = False, limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0, le=1_000_000),
           user: User = Depends(signed_in())):
    """Pages matching every word (diacritics, case and inflection ignored), best first, with facet counts and
    the boxes of the matched words on each page image."""
    return _service(request).search(build_query(q, collection, doc_type, language, year_from, year_to, exact,
                                                offset, limit), with_boxes=True)


@router.get("/hits/{n}", response_model=SearchHit)
def hit(request: Request, n: int = Path(ge=0, le=1_000_000), q: str = Query(max_length=500),
        collection: str | None = None, doc_type: str | None = None, language: str | None = None,
        year_from: int | None = Query(None, ge=0, le=9999), year_to: int | None = Query(None, ge=0, le=9999),
        exact: bool = False, user: User = Depends(signed_in())):
    """The n-th hit (from 0) of a search, with the boxes of the matched words on the page image."""
    found, _ = _service(request).hit(build_query(q, collection, doc_type, language, year_from, year_to, exact), n)
    if found is None:
        return JSONResponse({"detail": "no such hit"}, status_code=404)
    return found


@router.get("/documents/{doc_id}")
def document(request: Request, doc_id: DocId, user: User = Depends(signed_in())) -> dict:
    """The catalog record with staff corrections applied (`corrections` lists what was corrected)."""
    return _service(request).document(doc_id)


@router.get("/documents/{doc_id}/pdf", response_class=FileResponse)
def pdf(request: Request, doc_id: DocId, user: User = Depends(signed_in())):
    return FileResponse(_service(request).pdf(doc_id), media_type="application/pdf", filename=f"{doc_id}.pdf")


@router.get("/documents/{doc_id}/pages/{number}", response_model=PageOut)
def page(request: Request, doc_id: DocId, number: PageNumber, user: User = Depends(signed_in())):
    service = _service(request)
    view = service.page(doc_id, number)
    return PageOut(document=doc_id, number=number, width=view.width, height=view.height,
                   text=service.page_text(doc_id, number), original_text=service.page_text(doc_id, number, True),
                   corrected=view.corrected, needs_review=view.needs_review, review_decision=view.review_decision,
                   lines=[LineOut(id=line.id, bbox=line.bbox, text=line.text, unsure=line.id in view.unsure_lines)
                          for line in view.lines],
                   unread_writing=list(view.unread_writing))


@router.get("/documents/{doc_id}/pages/{number}/image", response_class=FileResponse)
def page_image(request: Request, doc_id: DocId, number: PageNumber,
               size: Literal["view", "thumb"] = "view", user: User = Depends(signed_in())):
    """A scaled JPEG of the page (1600 px or 240 px on the long side), never the master scan."""
    return FileResponse(_service(request).page_image(doc_id, number, size), media_type="image/jpeg",
                        headers={"Cache-Control": "private, max-age=3600"})


@router.put("/documents/{doc_id}/pages/{number}/lines/{line_id}", response_model=Change)
def correct_line(request: Request, doc_id: DocId, number: PageNumber, body: LineCorrection,
                 line_id: str = Path(pattern=r"^[A-Za-z0-9_]{1,40}$"), user: User = Depends(signed_in("archivist"))):
    """Replace one OCR line's text; saved beside the original, reindexed at once, written to the audit log."""
    before, after = _service(request).correct_line(user, doc_id, number, line_id, body.text, body.expected)
    return Change(before=before, after=after)


@router.put("/documents/{doc_id}/metadata", response_model=Change)
def correct_metadata(request: Request, doc_id: DocId, body: MetadataCorrection,
                     user: User = Depends(signed_in("archivist"))):
    before, after = _service(request).correct_metadata(user, doc_id, body.field, body.value)
    return Change(before=before, after=after)


@router.get("/review", response_model=dict[str, int | list[ReviewItem]])
def review_queue(request: Request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0, le=1_000_000),
                 user: User = Depends(signed_in())):
    total, items = _service(request).review_queue(limit, offset)
    return {"total": total, "items": items}


@router.post("/review/{doc_id}/{number}", response_model=Change | None)
def review(request: Request, doc_id: DocId, number: PageNumber, body: ReviewDecision,
           user: User = Depends(signed_in("archivist"))):
    service = _service(request)
    if body.decision == "accept":
        service.accept(user, doc_id, number)
        return None
    before, after = service.reocr(user, doc_id, number, body.languages, body.profile, body.replace_corrections)
    return Change(before=before, after=after)


@router.get("/runs")
def runs(request: Request, user: User = Depends(signed_in())) -> list[dict]:
    """Ingest batches: those running (with progress) first, then finished ones, newest first."""
    return [asdict(run) for run in _service(request).runs()]


@router.get("/runs/{run_id}")
def run(request: Request, run_id: str = Path(pattern=r"^\d{8}T\d{6,12}Z$"), user: User = Depends(signed_in())) -> dict:
    return _service(request).run(run_id)


@router.get("/audit", response_model=list[AuditEntry])
def audit(request: Request, document: str | None = Query(None, pattern=r"^[0-9a-f]{16}$"),
          limit: int = Query(100, ge=1, le=1000), offset: int = Query(0, ge=0, le=1_000_000),
          user: User = Depends(signed_in("archivist"))):
    return _service(request).audit_entries(document, limit, offset)
