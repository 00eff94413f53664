"""Copies of archived records for citizens: redaction proposals, redacted and certified copies, verification.
What the CLI (`retrodig copy`) and the portal call."""

from ..redaction import PageBox, Proposal
from .make import CopyResult, make_copy, verify_copy, verify_copy_file
from .proposals import propose_redactions
from .registry import IssuedCopy

__all__ = ["CopyResult", "IssuedCopy", "PageBox", "Proposal", "make_copy", "propose_redactions", "verify_copy",
           "verify_copy_file"]
