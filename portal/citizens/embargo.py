"""Embargo rules (configs/requests.yaml): records younger than N years of some types go only to the person
they are about or their legal representative. The clerk is told which rule holds a record back, and why."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from .settings import Policy


@dataclass(frozen=True)
class Embargo:
    document: str
    doc_type: str
    years: int  # the rule's age limit
    record_year: int | None  # None: the record's year is not known
    until: int | None  # the first year a third party may have it
    allowed: tuple[str, ...]  # relations that may have it now


def embargo_on(policy: Policy, record: dict, relation: str, today: dt.date | None = None,
               requested_type: str | None = None) -> Embargo | None:
    """The rule that keeps `record` from an applicant of `relation`, or None when it may be delivered. A rule
    holds for the record's type in the catalog and for the type the request's service card copies
    (`requested_type`): a civil-status extract asked for is one, whatever the catalog guessed of the record
    linked to it (a scan typed "unknown" was delivered to a third party)."""
    metadata = record.get("metadata", {})
    types = list(dict.fromkeys([metadata.get("doc_type") or "unknown", *([requested_type] if requested_type else [])]))
    years = [int(y) for y in metadata.get("years") or [] if str(y).isdigit()]
    record_year = max(years) if years else None
    this_year = (today or dt.date.today()).year
    for rule in policy.embargo:
        doc_type = next((kind for kind in types if kind in rule.doc_types), None)
        if doc_type is None or relation in rule.allowed:
            continue
        if record_year is None or this_year - record_year < rule.years:
            until = record_year + rule.years if record_year is not None else None
            return Embargo(record["id"], doc_type, rule.years, record_year, until, rule.allowed)
    return None
