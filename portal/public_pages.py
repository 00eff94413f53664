"""The citizens' public pages (no login): service cards, the request form, tracking, the answer to a
question from the archive, the satisfaction question, downloads, and the verification of a copy."""

from __future__ import annotations

import hashlib
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, File, Form, Path, Request
from fastapi import UploadFile as UploadedFile
from fastapi.responses import FileResponse, RedirectResponse
from starlette.datastructures import UploadFile

from .citizens.cards import RELATIONS, FormErrors
from .citizens.desk import Upload
from .citizens.workflow import ActionRefused
from .security import check_csrf, client_address
from .web import asked_with_head, language_of, render

router = APIRouter(dependencies=[Depends(check_csrf)], include_in_schema=False)

CardId = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")]
# Tracking codes and download tokens are URL-safe base64; anything else is simply not found.
Secret = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


def _desk(request: Request):
    return request.app.state.service.desk


_THIS_MACHINE = {"localhost", "127.0.0.1", "::1"}


def _base(request: Request) -> str:
    """Where the links in the e-mail a filing sends point when `requests.public_url` is not set: the address the
    form was sent to, only when that is this machine's own. Anyone can send the public form with a Host header of
    their choosing: the town hall mailed a link to their site to whatever address they typed. Elsewhere the
    links are left as paths, with the tracking code (a warning at start says to set public_url)."""
    return str(request.base_url) if request.url.hostname in _THIS_MACHINE else ""


@router.get("/services")
def services(request: Request):
    return render(request, "services.html", cards=_desk(request).cards())


@router.get("/services/{card_id}")
def service(request: Request, card_id: CardId):
    return _form(request, card_id)


def _form(request: Request, card_id: str, values: dict | None = None, errors: dict | None = None, status: int = 200):
    desk = _desk(request)
    card = desk.card(card_id)
    context = desk.context
    return render(request, "service.html", status=status, card=card, values=values or {}, errors=errors or {},
                  relations=RELATIONS, fee=context.currency(), deadline_days=context.deadline_days(card),
                  settings=context.settings)


@router.post("/services/{card_id}")
async def submit(request: Request, card_id: CardId):
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}
    uploads = [Upload(key[5:], item.file) for key, item in form.multi_items()
               if key.startswith("file_") and isinstance(item, UploadFile) and item.filename]
    try:
        filed, code = _desk(request).submit(card_id, values, uploads, language_of(request), client_address(request),
                                            _base(request))
    except FormErrors as refused:
        return _form(request, card_id, values, refused.errors, status=400)
    return RedirectResponse(f"/track/{code}?filed=1", status_code=303)


@router.get("/track")
def track_form(request: Request, code: str | None = None):
    # The code, or the whole link of the e-mail pasted in (it went to /track/https://.../track/CODE: not found).
    code = (code or "").strip().rstrip("/").rsplit("/track/", 1)[-1].split("?")[0].split("#")[0]
    if code:
        return RedirectResponse(f"/track/{quote(code, safe='')}", status_code=303)
    return render(request, "track.html")


@router.get("/track/{code}")
def tracking(request: Request, code: Secret, filed: bool = False, rated: bool = False, answered: bool = False):
    return _tracking_page(request, code, filed=filed, rated=rated, answered=answered)


def _tracking_page(request: Request, code: str, status_code: int = 200, **shown):
    desk = _desk(request)
    filed_request = desk.track(code, client_address(request))
    # "Your request was filed" only while it is as filed: the page's address, kept as the notice says, showed it
    # again weeks later, the copy long delivered.
    shown["filed"] = shown.get("filed") and filed_request.status == "received"
    return render(request, "tracking.html", status=status_code, item=filed_request,
                  card=desk.card(filed_request.service), code=code, settings=desk.context.settings,
                  fee=desk.context.currency(), **shown)


@router.post("/track/{code}/answer")
def answer(request: Request, code: Secret, text: str = Form(max_length=4000)):
    try:
        _desk(request).answer(code, client_address(request), text)
    except ActionRefused as refused:  # the page again, saying why, with what the citizen wrote
        return _tracking_page(request, code, status_code=409, refused=refused.message, unsent=text)
    return RedirectResponse(f"/track/{code}?answered=1", status_code=303)


@router.post("/track/{code}/rating")
def rate(request: Request, code: Secret, score: int = Form(ge=1, le=5), comment: str = Form("", max_length=1000)):
    rated = _desk(request).rate(code, client_address(request), score, comment)
    return RedirectResponse(f"/track/{code}" + ("?rated=1" if rated else ""), status_code=303)  # thanks only if kept


@router.get("/download/{token}")
def download(request: Request, token: Secret):
    # Every GET counts, and gets the whole file: a HEAD (a mail system's link scanner) does not. Ranges were
    # served and only one starting at the file's first byte counted, so the copy could be fetched without limit
    # as `bytes=-N` or `bytes=1-`; a copy is a few megabytes, and a download manager's ranges are not needed.
    path, name = _desk(request).download(token, counted=not asked_with_head(request))
    return WholeFileResponse(path, media_type="application/pdf", filename=name, headers={"Accept-Ranges": "none"})


class WholeFileResponse(FileResponse):
    """A file served whole, whatever range the request asks for (HTTP lets a server pass the Range header over)."""

    async def __call__(self, scope, receive, send) -> None:
        scope = {**scope, "headers": [(key, value) for key, value in scope["headers"] if key.lower() != b"range"]}
        await super().__call__(scope, receive, send)


@router.get("/verify")
def verify_form(request: Request, key: str | None = None):
    if key and key.strip():
        return RedirectResponse(f"/verify/{key.strip().lower()}", status_code=303)
    return render(request, "verify.html", key=None, copy=None)


@router.get("/verify/{key}")
def verify(request: Request, key: str = Path(max_length=64)):
    copy = _desk(request).verify(key)
    return render(request, "verify.html", status=200 if copy else 404, key=key, copy=copy)


@router.post("/verify")
def verify_file(request: Request, file: UploadedFile = File()):
    """The file a citizen (or a bank, a court) holds, checked by its SHA-256: the page asked them to compute it
    themselves (sha256sum, Get-FileHash), which few can."""
    digest = hashlib.sha256()
    while block := file.file.read(1 << 20):
        digest.update(block)
    copy = _desk(request).verify(digest.hexdigest())
    return render(request, "verify.html", status=200 if copy else 404, key=digest.hexdigest(), copy=copy,
                  checked_file=file.filename or "?")
