"""Tracking codes and download tokens: long random secrets a citizen holds and nobody can guess or list.

A tracking code is derived from a random nonce with the portal's own key (an HMAC), so each e-mail can carry
the tracking link again while the database keeps only a digest of the code: a copy of portal.sqlite alone
opens no request."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_FILE = "secret.key"


def portal_key(folder: Path) -> bytes:
    """The portal's secret key, made once (readable by the portal's user only)."""
    path = Path(folder) / KEY_FILE
    try:
        return path.read_bytes()
    except FileNotFoundError:
        pass
    folder.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place (which fails if it is there): a worker that lost
    # the race to create it read it before the winner had written it, and made codes with an empty key.
    partial = path.with_name(f".{KEY_FILE}.{os.getpid()}.part")
    descriptor = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secrets.token_bytes(32))
    try:
        os.link(partial, path)
    except FileExistsError:  # another worker made it meanwhile: theirs counts
        pass
    finally:
        partial.unlink()
    return path.read_bytes()


def new_nonce() -> str:
    return secrets.token_hex(16)


def tracking_code(key: bytes, nonce: str) -> str:
    mac = hmac.new(key, f"tracking:{nonce}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac[:18]).decode()  # 24 characters, 144 bits


def download_token() -> str:
    return secrets.token_urlsafe(24)
