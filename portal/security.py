"""Who is asking, and may they: session cookies, roles and the CSRF check every state-changing request passes.

A signed-in browser's CSRF token belongs to its session (it changes at each login). Before login, forms (the
login form itself, the language switch) are protected by a random pre-session cookie, submitted back in the
form: a page on another site can neither read it nor set it.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from .accounts import Session, User

SESSION_COOKIE = "retrodig_session"
PRESESSION_COOKIE = "retrodig_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


class NotSignedIn(Exception):
    pass


class Forbidden(Exception):
    pass


class CsrfRefused(Exception):
    pass


def current_session(request: Request) -> Session | None:
    if not hasattr(request.state, "session"):
        service = request.app.state.service
        request.state.session = service.accounts.session(request.cookies.get(SESSION_COOKIE))
    return request.state.session


def csrf_token(request: Request) -> str:
    """The token this browser must send back with a form or an API write."""
    session = current_session(request)
    if session:
        return session.csrf
    if not hasattr(request.state, "presession"):
        request.state.presession = request.cookies.get(PRESESSION_COOKIE) or secrets.token_urlsafe(32)
    return request.state.presession


def signed_in(role: str = "clerk"):
    """A dependency: the signed-in user, who must have at least `role`'s rights."""

    def dependency(request: Request) -> User:
        session = current_session(request)
        if session is None:
            raise NotSignedIn()
        if not session.user.may(role):
            raise Forbidden()
        return session.user

    return dependency


async def check_csrf(request: Request) -> None:
    """A dependency on every router: a request that changes something must carry this browser's token."""
    if request.method in SAFE_METHODS:
        return
    if request.url.path == "/api/session" and request.method == "POST" and _is_json(request):
        return  # signing in from a script: a JSON body cannot come from another site's form (no CORS here)
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and request.headers.get("content-type", "").startswith(
            ("application/x-www-form-urlencoded", "multipart/form-data")):
        sent = (await request.form()).get(CSRF_FIELD)
    session = current_session(request)
    expected = session.csrf if session else request.cookies.get(PRESESSION_COOKIE)
    if not expected or not isinstance(sent, str) or not hmac.compare_digest(sent, expected):
        raise CsrfRefused()


def _is_json(request: Request) -> bool:
    return request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/json"


def set_cookie(response, request: Request, name: str, value: str, max_age: int | None = None) -> None:
    settings = request.app.state.service.settings
    response.set_cookie(name, value, max_age=max_age, httponly=True, samesite="lax",
                        secure=settings.secure_cookies, path="/")


def client_address(request: Request) -> str:
    # uvicorn puts the real address here from X-Forwarded-For, but only for proxies it trusts
    # (--forwarded-allow-ips): a client cannot pick its own address to dodge the login limit.
    return request.client.host if request.client else "unknown"


def safe_next(target: str | None) -> str:
    """Where to go after login or a language switch: a path on this site, nothing else."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
