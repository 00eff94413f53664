"""Helpers for the portal tests: an app on a test archive, staff accounts, signing in as a browser does."""

from __future__ import annotations

import re
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from fastapi.testclient import TestClient

from pipeline.options import Options
from portal.accounts import Accounts
from portal.db import staff_database
from portal.settings import PortalSettings
from portal.web import create_app

PASSWORDS = {"ana": "archivist-pass-1", "clara": "clerk-pass-123", "adam": "admin-pass-1234"}
ROLES = {"ana": "archivist", "clara": "clerk", "adam": "admin"}
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def add_staff(archive: Path) -> None:
    accounts = Accounts(staff_database(archive))
    for name, password in PASSWORDS.items():
        accounts.add_user(name, password, ROLES[name])


def portal_client(archive: Path, **settings) -> TestClient:
    add_staff(archive)
    app = create_app(PortalSettings(options=Options(archive=archive), **settings))
    return TestClient(app, follow_redirects=False)


@contextmanager
def serving(archive: Path, **popen) -> Iterator[tuple[subprocess.Popen, str]]:
    """`retrodig serve` on `archive` on a free port, as an administrator starts it: (the process, its address) once
    it answers; stopped at the end."""
    import httpx

    from .conftest import REPO
    from .requests_support import free_port

    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "--archive", str(archive), "serve", "--port",
                               str(port)], cwd=REPO, **{"stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL,
                                                        **popen})
    try:
        url, deadline = f"http://127.0.0.1:{port}", time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/login", timeout=5)
                break
            except httpx.TransportError:
                assert time.monotonic() < deadline and server.poll() is None, "the portal did not start"
                time.sleep(0.2)
        yield server, url
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=30)


def csrf_of(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def sign_in(client: TestClient, name: str, password: str | None = None):
    token = csrf_of(client.get("/login").text)
    return client.post("/login", data={"csrf_token": token, "name": name,
                                       "password": password or PASSWORDS[name], "next": "/"})


def token(client: TestClient, path: str = "/") -> str:
    return csrf_of(client.get(path).text)


def only_document(archive: Path, source_name: str) -> str:
    import json

    for record in (archive / "documents").glob("*/document.json"):
        data = json.loads(record.read_text(encoding="utf-8"))
        if data["source"].endswith(source_name):
            return data["id"]
    raise AssertionError(f"no document from {source_name}")
