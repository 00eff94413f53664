"""The clerks' pages for citizens' requests: the queue, a request with its history, the records found for it,
the redaction review of each linked page, delivery, and the service metrics."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import FileResponse, RedirectResponse

from pipeline.errors import DocumentNotFoundError, UsageError

from .accounts import User
from .citizens.workflow import NEXT, STATUSES
from .security import check_csrf, signed_in
from .service import build_query
from .web import render, said

router = APIRouter(prefix="/requests", dependencies=[Depends(check_csrf)], include_in_schema=False)
metrics_router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

RequestId = Annotated[int, Path(ge=1, le=10**12)]
DocId = Annotated[str, Path(pattern=r"^[0-9a-f]{16}$")]
PageNumber = Annotated[int, Path(ge=1, le=100_000)]
# ASCII digits only (str.isdigit also takes "²", which int() refuses), and few enough for SQLite's integers
_BOX_ID = re.compile(r"[0-9]{1,12}")
_PIXELS = re.compile(r"-?[0-9]{1,8}")


def _service(request: Request):
    return request.app.state.service


def _work(request: Request):
    return request.app.state.service.casework


def _back(request_id: int, anchor: str = "") -> RedirectResponse:
    return RedirectResponse(f"/requests/{request_id}{anchor}", status_code=303)


@router.get("")
def queue(request: Request, user: User = Depends(signed_in()), status: str = Query("open", max_length=20),
          service: str = Query("", max_length=60), assigned: str = Query("", max_length=40), overdue: bool = False,
          p: int = Query(1, ge=1, le=100_000)):
    if status not in (*STATUSES, "open", "all"):
        status = "open"
    total, items = _work(request).queue(None if status == "all" else status, service or None, assigned or None,
                                        overdue, limit=50, offset=(p - 1) * 50)
    return render(request, "requests.html", total=total, items=items, page=p, size=50, statuses=STATUSES,
                  cards=_service(request).desk.context.cards, staff=_service(request).accounts.users(),
                  filters={"status": status, "service": service, "assigned": assigned, "overdue": overdue})


@router.get("/{request_id}")
def detail(request: Request, request_id: RequestId, user: User = Depends(signed_in()),
           q: str | None = Query(None, max_length=500), type: str | None = Query(None, max_length=40)):
    service, work = _service(request), _work(request)
    item = work.request(request_id)
    suggested, doc_type = work.suggested_search(item)
    query = suggested if q is None else q
    doc_type = doc_type if type is None else type
    results, error = None, None
    if query.strip():
        try:
            results = service.search(build_query(query, doc_type=doc_type or None, limit=10))
        except UsageError as exc:
            error = said(request, exc)
    records = [(r, service.document(r.document), work.boxes(item.id, r.document)) for r in item.records]
    return render(request, "request.html", item=item, card=service.desk.card(item.service), query=query,
                  doc_type=doc_type, results=results, error=error, records=records,
                  next_statuses=_buttons(item.status), embargoes=work.embargoes(item), staff=service.accounts.users(),
                  unsent=work.unsent_mail(item.id), currency=service.desk.context.currency())


@router.get("/{request_id}/attachments/{n}")
def attachment(request: Request, request_id: RequestId, n: int = Path(ge=1, le=1000),
               user: User = Depends(signed_in())):
    work = _work(request)
    item = work.request(request_id)
    found = next((a for a in item.attachments if a.n == n), None)
    if found is None:
        raise DocumentNotFoundError(f"request {request_id} has no attachment {n}")
    path = work.context.request_folder(item.id) / found.stored  # a name the portal generated, never the citizen's
    return FileResponse(path, media_type=found.media_type, filename=f"{item.number}-{found.stored}",
                        headers={"Content-Security-Policy": "default-src 'none'; sandbox"})


@router.post("/{request_id}/assign")
def assign(request: Request, request_id: RequestId, clerk: str = Form("", max_length=40),
           user: User = Depends(signed_in())):
    if clerk:
        _service(request).accounts.user(clerk)  # an existing account, or 400
    _work(request).assign(user.name, request_id, clerk or None)
    return _back(request_id)


@router.post("/{request_id}/status")
def move(request: Request, request_id: RequestId, status: str = Form(max_length=20),
         message: str = Form("", max_length=4000), user: User = Depends(signed_in())):
    _work(request).move(user.name, request_id, status, message, str(request.base_url))
    return _back(request_id)


@router.post("/{request_id}/note")
def note(request: Request, request_id: RequestId, text: str = Form(max_length=4000),
         user: User = Depends(signed_in())):
    _work(request).note(user.name, request_id, text)
    return _back(request_id, "#history")


@router.post("/{request_id}/records")
def link(request: Request, request_id: RequestId, document: str = Form(pattern=r"^[0-9a-f]{16}$"),
         user: User = Depends(signed_in())):
    _work(request).link(user.name, request_id, document)
    return _back(request_id, "#records")


@router.post("/{request_id}/records/{doc_id}/unlink")
def unlink(request: Request, request_id: RequestId, doc_id: DocId, user: User = Depends(signed_in())):
    _work(request).unlink(user.name, request_id, doc_id)
    return _back(request_id, "#records")


@router.get("/{request_id}/records/{doc_id}")
def redaction(request: Request, request_id: RequestId, doc_id: DocId, user: User = Depends(signed_in()),
              page: int = Query(1, ge=1, le=100_000)):
    service, work = _service(request), _work(request)
    item = work.request(request_id)
    linked = next((r for r in item.records if r.document == doc_id), None)
    if linked is None:
        raise DocumentNotFoundError(f"record {doc_id} is not linked to request {request_id}")
    if work.propose_again_if_changed(user.name, request_id, doc_id):
        item = work.request(request_id)
        linked = next(r for r in item.records if r.document == doc_id)
    view = service.page(doc_id, page)
    return render(request, "redaction.html", item=item, linked=linked, record=view.document, view=view,
                  boxes=work.boxes(item.id, doc_id, page), all_boxes=work.boxes(item.id, doc_id))


@router.post("/{request_id}/records/{doc_id}/pages/{number}/boxes")
async def save_boxes(request: Request, request_id: RequestId, doc_id: DocId, number: PageNumber,
                     user: User = Depends(signed_in())):
    go = await _save_box_form(request, request_id, doc_id, number, user)
    return RedirectResponse(f"/requests/{request_id}/records/{doc_id}?page={go or number}", status_code=303)


@router.post("/{request_id}/records/{doc_id}/pages/{number}/confirm")
async def save_and_confirm(request: Request, request_id: RequestId, doc_id: DocId, number: PageNumber,
                           user: User = Depends(signed_in())):
    """*Confirm* sends the page's boxes as they are on screen: it confirmed the boxes as last saved, and a box the
    clerk had ticked again without *Save the boxes* stayed uncovered in the copy, without a word."""
    await _save_box_form(request, request_id, doc_id, number, user)
    _work(request).confirm(user.name, request_id, doc_id)
    return _back(request_id, "#records")


async def _save_box_form(request: Request, request_id: int, doc_id: str, number: int, user: User) -> int | None:
    """Save the boxes of page `number` as the form shows them; returns the page the clerk turned to with the
    form's page buttons, if one was: turning the page by a link lost the boxes ticked or moved and not saved."""
    form = await request.form()
    kept = {int(v) for v in form.getlist("keep") if _BOX_ID.fullmatch(str(v))}
    shown = {int(v) for v in form.getlist("shown") if _BOX_ID.fullmatch(str(v))}
    moved = {}
    for key in form.keys():
        if key.startswith("x_") and _BOX_ID.fullmatch(key[2:]):
            box_id = int(key[2:])
            moved[box_id] = tuple(_integer(form.get(f"{c}_{box_id}")) for c in "xywh")
    if shown:
        _work(request).save_boxes(user.name, request_id, doc_id, number, shown, kept, moved)
    go = str(form.get("go", ""))
    return int(go) if go.isdigit() and 0 < int(go) <= 100_000 else None


@router.post("/{request_id}/records/{doc_id}/pages/{number}/boxes/new")
def add_box(request: Request, request_id: RequestId, doc_id: DocId, number: PageNumber,
            x: int = Form(ge=0, le=10**6), y: int = Form(ge=0, le=10**6), w: int = Form(ge=1, le=10**6),
            h: int = Form(ge=1, le=10**6), user: User = Depends(signed_in())):
    _work(request).add_box(user.name, request_id, doc_id, number, x, y, w, h)
    return RedirectResponse(f"/requests/{request_id}/records/{doc_id}?page={number}", status_code=303)


@router.post("/{request_id}/records/{doc_id}/confirm")
def confirm(request: Request, request_id: RequestId, doc_id: DocId, user: User = Depends(signed_in())):
    _work(request).confirm(user.name, request_id, doc_id)
    return _back(request_id, "#records")


@router.post("/{request_id}/deliver")
def deliver(request: Request, request_id: RequestId, user: User = Depends(signed_in())):
    _work(request).deliver(user.name, request_id, str(request.base_url))
    return _back(request_id)


def _buttons(status: str) -> tuple[str, ...]:
    """The status buttons of a request's page: a copy ready at the counter is handed over with its own button,
    which says what happened (a second one, "delivered", did the same)."""
    return () if status == "ready" else NEXT.get(status, ())


@router.post("/{request_id}/links")
def reissue_links(request: Request, request_id: RequestId, user: User = Depends(signed_in())):
    _work(request).reissue_links(user.name, request_id, str(request.base_url))
    return _back(request_id)


@router.post("/{request_id}/handover")
def hand_over(request: Request, request_id: RequestId, user: User = Depends(signed_in())):
    _work(request).hand_over(user.name, request_id, str(request.base_url))
    return _back(request_id)


@metrics_router.get("/metrics")
def metrics(request: Request, user: User = Depends(signed_in())):
    service = _service(request)
    return render(request, "metrics.html", metrics=service.service_metrics(), cards=service.desk.context.cards)


def _integer(value) -> int:
    text = str(value or "").strip()
    if not _PIXELS.fullmatch(text):
        raise UsageError.said("'%(text)s' is not a whole number of pixels", text=text)
    return int(text)
