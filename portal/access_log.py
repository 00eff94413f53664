"""What the server's access log may keep of a request's address: not its secrets. A tracking code opens a
citizen's request and a download token their copy (the database keeps only their digests, so that a copy of it
opens nothing), and a query string holds what clerks searched for (people's names) and what forms sent: the
log kept them all, line by line, in the system's journal.

uvicorn logs each request as (client, method, path with query, HTTP version, status) on `uvicorn.access`; a
filter there rewrites the path before any handler sees it. Written here because uvicorn has no setting for it.
"""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
# /track/<code>, /download/<token> and their API twins: the segment after them is a secret.
_SECRET_SEGMENT = re.compile(r"^(/(?:api/)?(?:track|download)/)[^/?#]+")


def masked(path: str) -> str:
    """`path` (with its query) as the log may keep it: secrets and the query replaced by '…'."""
    path, question, _ = path.partition("?")
    return _SECRET_SEGMENT.sub(r"\1…", path) + ("?…" if question else "")


class _MaskSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and len(record.args) >= 3 and isinstance(record.args[2], str):
            record.args = (*record.args[:2], masked(record.args[2]), *record.args[3:])
        return True


def mask_secrets_in_access_log() -> None:
    """Once per process (adding it again changes nothing)."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, _MaskSecrets) for f in logger.filters):
        logger.addFilter(_MaskSecrets())
