"""Redaction: proposing boxes over third parties' personal data on a page, from its OCR words."""

from .model import PageBox, Proposal
from .propose import RedactionRules, load_rules, propose_page

__all__ = ["PageBox", "Proposal", "RedactionRules", "load_rules", "propose_page"]
