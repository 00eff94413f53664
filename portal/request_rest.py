"""The REST API of citizens' requests (in /openapi.json): service cards, tracking and verification are
public; the queue, a request, its status changes, linked records, delivery and the metrics need a staff
session (and the X-CSRF-Token header on writes), as the rest of /api/."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from .accounts import User
from .citizens.workflow import STATUSES
from .security import check_csrf, client_address, signed_in

router = APIRouter(prefix="/api", dependencies=[Depends(check_csrf)], tags=["citizens' requests"])

RequestId = Annotated[int, Path(ge=1, le=10**12)]
QueueStatus = Literal[STATUSES + ("open", "all")]
Secret = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]


class StatusChange(BaseModel):
    status: Literal["searching", "needs_info", "found", "not_found", "awaiting_payment", "paid", "delivered",
                    "refused"]
    message: str = Field("", max_length=4000, description="to the citizen: required for needs_info, not_found, "
                                                         "refused")


class Assignment(BaseModel):
    clerk: str | None = Field(None, max_length=40)


class RecordLink(BaseModel):
    document: str = Field(pattern=r"^[0-9a-f]{16}$")


def _service(request: Request):
    return request.app.state.service


def _public(item) -> dict:
    """What a citizen may see of their request: no staff notes, no internal fields."""
    return {"number": item.number, "service": item.service, "status": item.status,
            "submitted": item.submitted.isoformat(), "deadline": item.deadline.isoformat(), "overdue": item.overdue,
            "history": [{"at": e.at.isoformat(), "status": e.status, "kind": e.kind, "text": e.text}
                        for e in item.events if e.kind != "note"]}


def _staff(item) -> dict:
    data = asdict(item)
    for event in data["events"]:
        event["at"] = event["at"].isoformat()
    return data


@router.get("/services")
def services(request: Request) -> list[dict]:
    """The service cards: what citizens may ask for, in every portal language."""
    return [card.model_dump() for card in _service(request).desk.cards()]


@router.get("/services/{card_id}")
def service(request: Request, card_id: str = Path(pattern=r"^[a-z0-9][a-z0-9-]{1,59}$")) -> dict:
    return _service(request).desk.card(card_id).model_dump()


@router.get("/track/{code}")
def track(request: Request, code: Secret) -> dict:
    """A request by its tracking code (wrong codes are counted per address and then refused with 429)."""
    return _public(_service(request).desk.track(code, client_address(request)))


@router.get("/verify/{key}")
def verify(request: Request, key: str = Path(max_length=64)):
    """A certified copy by the id in its QR code or the SHA-256 of its file."""
    copy = _service(request).desk.verify(key)
    if copy is None:
        return JSONResponse({"detail": "no copy with this id or hash was issued"}, status_code=404)
    return copy.to_dict()


@router.get("/requests")
def queue(request: Request, status: QueueStatus | None = None, service: str | None = None,
          assigned: str | None = None, overdue: bool = False, limit: int = Query(50, ge=1, le=500),
          offset: int = Query(0, ge=0, le=1_000_000), user: User = Depends(signed_in())) -> dict:
    """Requests, nearest deadline first (closed ones last); status=open for those not closed, all (or none
    given) for every one. An unknown status is refused (it answered no requests)."""
    status = None if status == "all" else status
    total, items = _service(request).casework.queue(status, service, assigned, overdue, limit, offset)
    return {"total": total, "items": [_staff(item) | {"overdue": item.overdue} for item in items]}


@router.get("/requests/{request_id}")
def detail(request: Request, request_id: RequestId, user: User = Depends(signed_in())) -> dict:
    work = _service(request).casework
    item = work.request(request_id)
    return _staff(item) | {"overdue": item.overdue, "embargoes": [asdict(e) for e in work.embargoes(item)]}


@router.post("/requests/{request_id}/status", status_code=204)
def move(request: Request, request_id: RequestId, body: StatusChange, user: User = Depends(signed_in())):
    _service(request).casework.move(user.name, request_id, body.status, body.message, str(request.base_url))


@router.post("/requests/{request_id}/assign", status_code=204)
def assign(request: Request, request_id: RequestId, body: Assignment, user: User = Depends(signed_in())):
    if body.clerk:
        _service(request).accounts.user(body.clerk)
    _service(request).casework.assign(user.name, request_id, body.clerk)


@router.post("/requests/{request_id}/records", status_code=204)
def link(request: Request, request_id: RequestId, body: RecordLink, user: User = Depends(signed_in())):
    _service(request).casework.link(user.name, request_id, body.document)


@router.post("/requests/{request_id}/deliver", status_code=204)
def deliver(request: Request, request_id: RequestId, user: User = Depends(signed_in())):
    """Make the redacted, certified copies (the redactions of every linked record must be confirmed)."""
    _service(request).casework.deliver(user.name, request_id, str(request.base_url))


@router.post("/requests/{request_id}/links", status_code=204)
def reissue_links(request: Request, request_id: RequestId, user: User = Depends(signed_in())):
    """New download links for a copy delivered by e-mail (the old ones stop working), mailed to the citizen."""
    _service(request).casework.reissue_links(user.name, request_id, str(request.base_url))


@router.get("/metrics")
def metrics(request: Request, user: User = Depends(signed_in())) -> dict:
    return asdict(_service(request).service_metrics())
